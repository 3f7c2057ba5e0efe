import { parseUnitName } from './reproUnits.js';

/** mean of xs (xs not empty). */
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The progress line's time left: each remaining unit at the mean time of the units of its base and
 * method already run (a method's seeds cost alike), else of its base's (SFT costs about half a
 * preference method, so this is rougher). A base with no unit run yet is named with its count
 * instead of guessed: base-L's units cost twice base-S's or more. `seconds` holds what each unit
 * run so far took, by unit name. Empty while none has.
 */
export function unitTimeLeft(remaining: readonly string[], seconds: ReadonlyMap<string, number>): string {
  if (seconds.size === 0 || remaining.length === 0) return '';
  const timed = [...seconds].map(([unit, s]) => ({ ...parseUnitName(unit), s }));
  let total = 0;
  const untimed = new Map<string, number>();
  for (const unit of remaining) {
    const { base, method } = parseUnitName(unit);
    const sameBase = timed.filter((t) => t.base === base);
    const sameMethod = sameBase.filter((t) => t.method === method);
    if (sameBase.length === 0) untimed.set(base, (untimed.get(base) ?? 0) + 1);
    else total += mean((sameMethod.length > 0 ? sameMethod : sameBase).map((t) => t.s));
  }
  const apart = [...untimed].map(([base, n]) => `${n} ${base} unit${n === 1 ? '' : 's'}`).join(' and ');
  if (total === 0 && apart) return `, ${apart} not timed yet`;
  return `, about ${Math.round(total / 60)} min left${apart ? ` and ${apart} not timed yet` : ''}`;
}
