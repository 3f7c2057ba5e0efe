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
 * method's seeds cost alike). A method not yet run on its base but run on another is scaled from
 * there by how the two bases' costs compare on the methods run on both (the ratio of their summed
 * mean times): a preference method costs about twice SFT on either base, and base-L about twice
 * base-S on either method, so neither base's mean alone prices it. Else a unit is priced at its
 * base's mean. A base with no unit run yet is counted apart instead of guessed. `seconds` holds
 * what each unit run so far took, by unit name. Undefined while none has run, or none remains.
 */
export function unitTimeLeft(remaining: readonly string[], seconds: ReadonlyMap<string, number>): UnitTimeLeft | undefined {
  if (seconds.size === 0 || remaining.length === 0) return undefined;
  const means = meanSecondsByBaseAndMethod(seconds);
  const left: UnitTimeLeft = { seconds: 0, untimed: new Map() };
  for (const unit of remaining) {
    const { base, method } = parseUnitName(unit);
    const own = means.get(base);
    if (!own) left.untimed.set(base, (left.untimed.get(base) ?? 0) + 1);
    else left.seconds += own.get(method) ?? scaledFromOtherBases(means, base, own, method) ?? baseMean(seconds, base);
  }
  return left;
}

/** The mean seconds of the units run so far, per base, then per method. */
function meanSecondsByBaseAndMethod(seconds: ReadonlyMap<string, number>): Map<string, Map<string, number>> {
  const runs = new Map<string, Map<string, number[]>>();
  for (const [unit, s] of seconds) {
    const { base, method } = parseUnitName(unit);
    const ofBase = runs.get(base) ?? new Map<string, number[]>();
    ofBase.set(method, [...(ofBase.get(method) ?? []), s]);
    runs.set(base, ofBase);
  }
  return new Map([...runs].map(([base, ofBase]) => [base, new Map([...ofBase].map(([method, xs]) => [method, mean(xs)]))]));
}

/** `method` on `base` (whose method means are `own`) from its mean on each other base that ran it, times the two bases' cost ratio on the methods both ran; averaged over such bases. */
function scaledFromOtherBases(means: ReadonlyMap<string, ReadonlyMap<string, number>>, base: string, own: ReadonlyMap<string, number>, method: string): number | undefined {
  const estimates: number[] = [];
  for (const [other, theirs] of means) {
    const there = theirs.get(method);
    const shared = [...own.keys()].filter((m) => theirs.has(m));
    if (other === base || there === undefined || shared.length === 0) continue;
    const sum = (ms: ReadonlyMap<string, number>): number => shared.reduce((a, m) => a + (ms.get(m) as number), 0);
    estimates.push((there * sum(own)) / sum(theirs));
  }
  return estimates.length > 0 ? mean(estimates) : undefined;
}

function baseMean(seconds: ReadonlyMap<string, number>, base: string): number {
  return mean([...seconds].filter(([unit]) => parseUnitName(unit).base === base).map(([, s]) => s));
}

/** "about 3h43m left and 28 base-L units not timed yet", the time spread over `parallel` workers. */
export function describeTimeLeft(left: UnitTimeLeft, parallel = 1): string {
  const apart = [...left.untimed].map(([base, n]) => `${n} ${base} unit${n === 1 ? '' : 's'}`).join(' and ');
  const time = `about ${formatDuration(left.seconds / parallel)} left`;
  if (left.untimed.size === 0) return time;
  return left.seconds === 0 ? `${apart} not timed yet` : `${time} and ${apart} not timed yet`;
}
