import { studentTCdf, studentTQuantile } from './studentT.js';

/**
 * An estimate with its standard error and what follows from them (docs/PROTOCOL.md,
 * "Statistics"): the 95% interval, the two-sided p-value against 0 and the minimal detectable
 * difference. All three come from the one standard error and the one reference distribution, so
 * they cannot disagree: the interval excludes 0 exactly when p < 0.05, and a true difference of
 * `mdd` makes p < 0.05 in 80% of repeated experiments (when the estimate is near normal).
 */
export interface EstimateTest {
  estimate: number;
  /** Its standard error. */
  se: number;
  /** Degrees of freedom of the reference t distribution; Infinity for the normal. */
  df: number;
  /** The 95% interval: estimate ± t(0.975, df)·se. */
  low: number;
  high: number;
  /** Two-sided p-value of the estimate against 0. */
  p: number;
  /** The minimal detectable difference at 80% power and alpha 0.05 (two-sided): (t(0.975, df) + t(0.8, df))·se. */
  mdd: number;
}

/** The test of `estimate` against 0 with standard error `se` on t with `df` degrees of freedom (Infinity: the normal). */
export function estimateTest(estimate: number, se: number, df: number): EstimateTest {
  if (!Number.isFinite(estimate) || !(se >= 0) || !(df > 0)) throw new Error(`estimateTest: needs a finite estimate, se >= 0 and df > 0 (${estimate}, ${se}, ${df})`);
  const q = studentTQuantile(0.975, df);
  // A zero standard error (every resample, every prompt the same): an estimate of exactly 0 is no evidence, any other is certain.
  const p = se > 0 ? 2 * studentTCdf(-Math.abs(estimate) / se, df) : estimate === 0 ? 1 : 0;
  return { estimate, se, df, low: estimate - q * se, high: estimate + q * se, p: Math.min(1, p), mdd: (q + studentTQuantile(0.8, df)) * se };
}
