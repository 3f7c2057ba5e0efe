import { estimateTest, type EstimateTest } from './estimateTest.js';

/** One model's values over its training runs: a number per run (FID, a probe's last implicit accuracy), not per prompt. */
export interface Runs {
  values: readonly number[];
  /** A model with no training seed (the base): its value is fixed, not one draw of many. */
  fixed?: boolean;
  /** A floor for the standard error of the runs' mean, known from how each value is measured (a probe's binomial spread over its pairs). */
  minSe?: number;
}

/**
 * The test of sum_m weight_m · mean_m + `constant` over models' training runs (docs/PROTOCOL.md,
 * "Statistics"), for what is one number per run: Welch's t. Each model adds weight²·s²/k to the
 * variance (s its runs' sd, k their count) and its share to the Welch-Satterthwaite degrees of
 * freedom. The base's value is fixed and adds nothing. A trained model with one run and no floor
 * gives no test (undefined): one run says nothing of how much runs differ. A floor (`minSe`)
 * stands in for s/sqrt(k) where it is larger (2 or 3 runs can agree by chance more closely than
 * what each is measured on allows), and counts as a known variance (infinite df).
 */
export function runsContrastTest(terms: ReadonlyArray<{ weight: number; runs: Runs }>, constant = 0): EstimateTest | undefined {
  if (terms.length === 0 || terms.some((t) => t.runs.values.length === 0)) throw new Error('runsContrastTest: every model needs at least one run');
  if (terms.some((t) => t.runs.values.some((v) => !Number.isFinite(v)))) throw new Error('runsContrastTest: a value is not finite');
  let estimate = constant;
  let variance = 0;
  let dfDenominator = 0;
  let estimable = false;
  for (const { weight, runs } of terms) {
    const k = runs.values.length;
    const m = runs.values.reduce((s, v) => s + v, 0) / k;
    estimate += weight * m;
    if (runs.fixed) continue;
    const sampled = k >= 2 ? runs.values.reduce((s, v) => s + (v - m) ** 2, 0) / (k - 1) / k : undefined;
    const floor = runs.minSe === undefined ? undefined : runs.minSe ** 2;
    if (sampled === undefined && floor === undefined) return undefined;
    estimable = true;
    const v = Math.max(sampled ?? 0, floor ?? 0);
    variance += weight * weight * v;
    // The floor's variance is known; a sample variance over k runs has k - 1 degrees of freedom.
    if (sampled !== undefined && (floor === undefined || sampled >= floor)) dfDenominator += (weight * weight * v) ** 2 / (k - 1);
  }
  if (!estimable) return undefined;
  const df = dfDenominator > 0 ? variance ** 2 / dfDenominator : Infinity;
  return estimateTest(estimate, Math.sqrt(variance), df);
}
