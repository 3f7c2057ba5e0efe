import { formatDuration } from '../runs/progress.js';
import { parseUnitName } from './reproUnits.js';

/** What the remaining units of a reproduction will take, as far as the units run so far tell. */
export interface UnitTimeLeft {
  /** Summed over the remaining units of the bases with a unit run. */
  seconds: number;
  /** Per base with no unit run yet, its remaining units: not guessed. */
  untimed: Map<string, number>;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Each remaining unit at the mean time of the units of its base and method already run (a
 * method's seeds cost alike), else of its base's (SFT costs about half a preference method, so
 * this is rougher). A base with no unit run yet is counted apart instead of guessed: base-L's
 * units cost twice base-S's or more. `seconds` holds what each unit run so far took, by unit
 * name. Undefined while none has run, or none remains.
 */
export function unitTimeLeft(remaining: readonly string[], seconds: ReadonlyMap<string, number>): UnitTimeLeft | undefined {
  if (seconds.size === 0 || remaining.length === 0) return undefined;
  const timed = [...seconds].map(([unit, s]) => ({ ...parseUnitName(unit), s }));
  const left: UnitTimeLeft = { seconds: 0, untimed: new Map() };
  for (const unit of remaining) {
    const { base, method } = parseUnitName(unit);
    const sameBase = timed.filter((t) => t.base === base);
    const sameMethod = sameBase.filter((t) => t.method === method);
    if (sameBase.length === 0) left.untimed.set(base, (left.untimed.get(base) ?? 0) + 1);
    else left.seconds += mean((sameMethod.length > 0 ? sameMethod : sameBase).map((t) => t.s));
  }
  return left;
}

/** "about 3h43m left and 28 base-L units not timed yet", the time spread over `parallel` workers. */
export function describeTimeLeft(left: UnitTimeLeft, parallel = 1): string {
  const apart = [...left.untimed].map(([base, n]) => `${n} ${base} unit${n === 1 ? '' : 's'}`).join(' and ');
  const time = `about ${formatDuration(left.seconds / parallel)} left`;
  if (left.untimed.size === 0) return time;
  return left.seconds === 0 ? `${apart} not timed yet` : `${time} and ${apart} not timed yet`;
}
