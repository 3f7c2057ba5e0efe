import { Rng } from '../util/rng.js';

/** A rate with its 95% interval. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
}

/**
 * The win rate of a model against the base over prompts (docs/PROTOCOL.md): each prompt is a win
 * (score above the base's for the same prompt and seed), a tie (equal) or a loss, and the rate
 * is (wins + 0.5·ties) / n.
 */
export function winRate(model: readonly number[], base: readonly number[]): number {
  return mean(outcomes(model, base));
}

/** Per prompt: 1 (win), 0.5 (tie) or 0 (loss). */
export function outcomes(model: readonly number[], base: readonly number[]): number[] {
  if (model.length !== base.length) throw new Error(`winRate: ${model.length} model scores but ${base.length} base scores`);
  if (model.length === 0) throw new Error('winRate: no prompts');
  return model.map((m, i) => {
    const b = base[i] as number;
    if (!Number.isFinite(m) || !Number.isFinite(b)) throw new Error(`winRate: score ${i} is not finite (${m} vs ${b})`);
    return m > b ? 1 : m === b ? 0.5 : 0;
  });
}

/**
 * Percentile bootstrap 95% interval of the mean of `values` (resampling prompts with
 * replacement, `resamples` times, from `seed`): the interval over prompts for one model.
 */
export function bootstrapMean(values: readonly number[], resamples = 2000, seed = 0): Interval {
  if (values.length === 0) throw new Error('bootstrapMean: no values');
  const rng = new Rng(seed);
  const n = values.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)] as number;
    means[r] = s / n;
  }
  means.sort();
  return { mean: mean(values), low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

/**
 * Percentile bootstrap 95% interval of the mean of per-prompt values over several training
 * seeds: `values[s][p]` is prompt p under the model trained with seed s (the same prompts, in
 * the same order, for every seed). Each resample draws the seeds with replacement and the
 * prompts with replacement (one prompt draw shared by all seeds, as the prompts are paired), so
 * the interval holds both the spread between training runs and the prompt sample. With one seed
 * it is `bootstrapMean` over the prompts.
 */
export function bootstrapSeedsAndPrompts(values: ReadonlyArray<readonly number[]>, resamples = 2000, seed = 0): Interval {
  const k = values.length;
  if (k === 0) throw new Error('bootstrapSeedsAndPrompts: no seeds');
  const n = values[0]?.length ?? 0;
  if (n === 0 || values.some((v) => v.length !== n)) throw new Error(`bootstrapSeedsAndPrompts: every seed needs the same number of prompts (${values.map((v) => v.length).join(', ')})`);
  if (k === 1) return bootstrapMean(values[0] as readonly number[], resamples, seed);
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  const seeds = new Int32Array(k);
  for (let r = 0; r < resamples; r++) {
    for (let j = 0; j < k; j++) seeds[j] = rng.int(k);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = rng.int(n);
      for (let j = 0; j < k; j++) sum += (values[seeds[j] as number] as readonly number[])[p] as number;
    }
    means[r] = sum / (n * k);
  }
  means.sort();
  return { mean: mean(values.flat()), low: quantile(means, 0.025), high: quantile(means, 0.975) };
}

/**
 * Percentile bootstrap 95% interval of mean(a) - mean(b) for two models scored on the same
 * prompts with the same sample seeds: `a[s][p]` and `b[s][p]` are prompt p under training
 * seed s of each model. Each resample draws each model's seeds with replacement
 * (independent training runs) and one prompt draw shared by both (the prompts are paired),
 * so the prompt-to-prompt spread, which both models share, cancels: far narrower than two
 * separate intervals when the models differ a little on every prompt.
 */
export function bootstrapPairedDifference(a: ReadonlyArray<readonly number[]>, b: ReadonlyArray<readonly number[]>, resamples = 2000, seed = 0): Interval {
  const n = a[0]?.length ?? 0;
  if (a.length === 0 || b.length === 0) throw new Error('bootstrapPairedDifference: a model has no seeds');
  if (n === 0 || [...a, ...b].some((v) => v.length !== n))
    throw new Error(`bootstrapPairedDifference: every seed of both models needs the same prompts (${[...a, ...b].map((v) => v.length).join(', ')})`);
  const rng = new Rng(seed);
  const diffs = new Float64Array(resamples);
  const seedsA = new Int32Array(a.length);
  const seedsB = new Int32Array(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let j = 0; j < a.length; j++) seedsA[j] = rng.int(a.length);
    for (let j = 0; j < b.length; j++) seedsB[j] = rng.int(b.length);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = rng.int(n);
      let sa = 0;
      for (const j of seedsA) sa += (a[j] as readonly number[])[p] as number;
      let sb = 0;
      for (const j of seedsB) sb += (b[j] as readonly number[])[p] as number;
      sum += sa / a.length - sb / b.length;
    }
    diffs[r] = sum / n;
  }
  diffs.sort();
  return { mean: mean(a.flat()) - mean(b.flat()), low: quantile(diffs, 0.025), high: quantile(diffs, 0.975) };
}

/** The win rate with its bootstrap interval over prompts. */
export function winRateInterval(model: readonly number[], base: readonly number[], resamples = 2000, seed = 0): Interval {
  return bootstrapMean(outcomes(model, base), resamples, seed);
}

/**
 * Mean and 95% interval across training seeds (Student t on the seed means, as the paper's
 * tables need a few seeds per method): mean ± t(0.975, k-1)·sd/sqrt(k). One seed gives no interval.
 */
export function acrossSeeds(values: readonly number[]): Interval {
  const k = values.length;
  if (k === 0) throw new Error('acrossSeeds: no values');
  const m = mean(values);
  if (k === 1) return { mean: m, low: Number.NaN, high: Number.NaN };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (k - 1));
  const half = (T_975[k - 1] ?? 1.96) * (sd / Math.sqrt(k));
  return { mean: m, low: m - half, high: m + half };
}

/** Two-sided 97.5% quantiles of Student's t by degrees of freedom (index = df), df 1..30. */
const T_975 = [
  Number.NaN,
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}
