import { estimateTest, type EstimateTest } from './estimateTest.js';

/** One model's part in a paired comparison: its per-prompt values over its training seeds, and its weight. */
export interface PairedTerm {
  weight: number;
  /**
   * values[s][p]: prompt p under the model trained with seed s, already averaged over the
   * prompt's sample seeds. Every model holds the same prompts, in the same order, drawn from
   * the same sample seeds; a model without training seeds (the base) has one row.
   */
  values: ReadonlyArray<readonly number[]>;
}

/**
 * The paired test of mean(a) - mean(b) over the same prompts (docs/PROTOCOL.md, "Statistics").
 * `a[s][p]` and `b[s][p]` are prompt p under training seed s of each model.
 */
export function pairedTest(a: ReadonlyArray<readonly number[]>, b: ReadonlyArray<readonly number[]>): EstimateTest {
  return pairedContrastTest([
    { weight: 1, values: a },
    { weight: -1, values: b },
  ]);
}

/**
 * The paired test of a weighted sum of models' mean scores, sum_m weight_m · mean_m, over the
 * same prompts (docs/PROTOCOL.md, "Statistics"): a difference is the weights (1, -1); a margin
 * relative to another model's gain takes three models. Every model drew every prompt from the
 * same sample seed, so the prompt-to-prompt spread they share cancels in the per-prompt
 * combination c_p = sum_m weight_m · (model m's mean over its training seeds at prompt p).
 *
 * With one training seed per model the test is the paired t test: se = sd(c_p)/sqrt(n) on t with
 * n - 1 df. With several, a training run can shift all its prompts together, and the variance
 * of the estimate has two parts, estimated apart:
 * - the models' prompt-by-prompt disagreement that repeats in every run: var(c_p)/n less the
 *   part of it that is each run's own noise, sum_m weight_m²·MS_residual,m/(n·k_m) (at least 0),
 *   on n - 1 df;
 * - each model's runs: weight_m²·S_m/k_m, with S_m the variance of its k_m per-run means over the
 *   prompts (run-to-run spread plus each run's noise), on k_m - 1 df.
 * MS_residual,m is the residual mean square of the model's seeds x prompts table (one value per
 * cell): each run's own noise. The base has no training seed and adds no second part. The df
 * combine by Welch-Satterthwaite, so 2 or 3 runs that disagree widen the interval as they should.
 *
 * Measured on simulated scores with no true difference (60 prompts, 2,000 datasets each;
 * test/eval/pairedTest.test.ts checks two of them): between two models of 3 runs each this
 * rejects at the 5% level in 3.5-4% of datasets whether runs differ as wholes or not; the
 * bootstrap the tables' intervals use (resampling prompts and each model's seeds) rejected in 1%
 * when runs do not differ (it counts each run's noise twice) and 7% (3 runs) to 10% (2 runs)
 * when they do (k resampled runs show (k - 1)/k of their spread, on the normal where t with
 * k - 1 df belongs). Against the base (one fixed row), an estimate of the runs' spread from 3
 * runs is rough: this rejects in 5.5% (runs that do not differ as wholes) to 8% (runs that do),
 * and in 5.0% with 5 or 10 runs.
 *
 * The interval, p-value and minimal detectable difference all follow from this one standard
 * error and df (`estimateTest`), so the interval excludes 0 exactly when p < 0.05.
 */
export function pairedContrastTest(terms: readonly PairedTerm[]): EstimateTest {
  const n = terms[0]?.values[0]?.length ?? 0;
  if (terms.length === 0 || terms.some((t) => t.values.length === 0)) throw new Error('pairedContrastTest: every model needs at least one training seed');
  const rows = terms.flatMap((t) => t.values);
  if (n < 2 || rows.some((v) => v.length !== n)) throw new Error(`pairedContrastTest: every seed of every model needs the same prompts, at least 2 (${rows.map((v) => v.length).join(', ')})`);
  if (rows.some((v) => v.some((x) => !Number.isFinite(x)))) throw new Error('pairedContrastTest: a score is not finite');
  const combined = new Float64Array(n);
  for (const t of terms) {
    for (const row of t.values) for (let p = 0; p < n; p++) (combined[p] as number) += (t.weight * (row[p] as number)) / t.values.length;
  }
  const estimate = mean(combined);
  const promptPart = variance(combined) / n;
  const seeded = terms.filter((t) => t.values.length >= 2);
  if (seeded.length === 0) return estimateTest(estimate, Math.sqrt(promptPart), n - 1);
  let runsPart = 0;
  let runNoise = 0;
  let dfDenominator = 0;
  for (const t of seeded) {
    const k = t.values.length;
    const { runMeans, residual } = seedsByPrompts(t.values);
    const part = (t.weight ** 2 * variance(runMeans)) / k;
    runsPart += part;
    runNoise += (t.weight ** 2 * residual) / (n * k);
    dfDenominator += part ** 2 / (k - 1);
  }
  const interaction = Math.max(0, promptPart - runNoise);
  const total = interaction + runsPart;
  dfDenominator += interaction ** 2 / (n - 1);
  return estimateTest(estimate, Math.sqrt(total), dfDenominator > 0 ? total ** 2 / dfDenominator : Infinity);
}

/** A model's seeds x prompts table: each run's mean over the prompts, and the residual mean square (each run's own noise). */
function seedsByPrompts(values: ReadonlyArray<readonly number[]>): { runMeans: number[]; residual: number } {
  const k = values.length;
  const n = (values[0] as readonly number[]).length;
  const runMeans = values.map((row) => mean(row));
  const promptMeans = Array.from({ length: n }, (_, p) => values.reduce((s, row) => s + (row[p] as number), 0) / k);
  const grand = mean(runMeans);
  let ss = 0;
  values.forEach((row, s) => row.forEach((v, p) => (ss += (v - (runMeans[s] as number) - (promptMeans[p] as number) + grand) ** 2)));
  return { runMeans, residual: ss / ((k - 1) * (n - 1)) };
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return s / xs.length;
}

/** Sample variance (n - 1 in the denominator). */
function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += ((xs[i] as number) - m) ** 2;
  return s / (xs.length - 1);
}
