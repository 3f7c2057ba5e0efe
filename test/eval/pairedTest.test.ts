import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTest } from '../../src/eval/estimateTest.js';
import { pairedContrastTest, pairedTest } from '../../src/eval/pairedTest.js';
import { Rng } from '../../src/util/rng.js';

const close = (actual: number, expected: number, tol: number, what: string): void => assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} ± ${tol}`);

/** Student t with 3 df, in closed form: an independent reference for the p-value. */
const t3Cdf = (t: number): number => 0.5 + (t / Math.sqrt(3) / (1 + (t * t) / 3) + Math.atan(t / Math.sqrt(3))) / Math.PI;

/** The normal cdf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7): an independent reference. */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * x);
  const erf = 1 - k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test('one training seed: the paired t test, by hand', () => {
  // Differences per prompt 2, 1, 2, 3: mean 2, sd sqrt(2/3), se sqrt(2/3)/2 = 0.408248, t = 4.898979 on 3 df.
  const r = pairedTest([[3, 5, 4, 6]], [[1, 4, 2, 3]]);
  const se = Math.sqrt(2 / 3) / 2;
  close(r.estimate, 2, 1e-12, 'estimate');
  close(r.se, se, 1e-12, 'se');
  assert.equal(r.df, 3);
  close(r.p, 2 * (1 - t3Cdf(2 / se)), 1e-10, 'p');
  // t(0.975, 3) = 3.182446, t(0.8, 3) = 0.978472 (printed tables).
  close(r.low, 2 - 3.182446 * se, 1e-5, 'low');
  close(r.high, 2 + 3.182446 * se, 1e-5, 'high');
  close(r.mdd, (3.182446 + 0.978472) * se, 1e-5, 'mdd');
  // The order of the models flips the sign and nothing else.
  const back = pairedTest([[1, 4, 2, 3]], [[3, 5, 4, 6]]);
  assert.deepEqual([back.estimate, back.low, back.high, back.p], [-2, -r.high, -r.low, r.p]);
});

test('with many prompts the p-value is the normal approximation of the hand-computed t statistic', () => {
  // 400 prompts: base scores b_p = 7p mod 11, the model's b_p + 0.15 + ((p mod 5) - 2). The
  // differences have mean 0.15 and sum of squared deviations 80·(4 + 1 + 0 + 1 + 4) = 800.
  const n = 400;
  const b = Array.from({ length: n }, (_, p) => (7 * p) % 11);
  const a = b.map((x, p) => x + 0.15 + ((p % 5) - 2));
  const se = Math.sqrt(800 / (n - 1)) / Math.sqrt(n);
  const t = 0.15 / se;
  const r = pairedTest([a], [b]);
  close(r.estimate, 0.15, 1e-12, 'estimate');
  close(r.se, se, 1e-12, 'se');
  // t on 399 df and the normal differ by under 1e-3 here (p about 0.034).
  close(r.p, 2 * (1 - normalCdf(t)), 1e-3, 'p');
  assert.equal(r.low > 0, r.p < 0.05, 'the interval excludes 0 exactly when p < 0.05');
});

test('a contrast of three models is the paired test of the per-prompt combination', () => {
  // c_p = m_p - 0.5 r_p - 0.5 b_p = 0, 0.5, 1: mean 0.5, sd 0.5, se 0.5/sqrt(3), 2 df.
  const r = pairedContrastTest([
    { weight: 1, values: [[1, 2, 3]] },
    { weight: -0.5, values: [[2, 2, 2]] },
    { weight: -0.5, values: [[0, 1, 2]] },
  ]);
  close(r.estimate, 0.5, 1e-12, 'estimate');
  close(r.se, 0.5 / Math.sqrt(3), 1e-12, 'se');
  assert.equal(r.df, 2);
  // 2 df: P(T > t) = 1/2 - t / (2 sqrt(2 + t²)).
  const t = r.estimate / r.se;
  close(r.p, 1 - t / Math.sqrt(2 + t * t), 1e-10, 'p');
});

test('several training seeds: the runs part and the prompts part of the variance, by hand', () => {
  // A model whose second run is its first shifted by 2, against the base: the per-prompt
  // difference is 2 everywhere (no prompt part), the run means 2 and 4 vary by 2: se² = 2/2 = 1 on 1 df.
  const shifted = pairedTest(
    [
      [1, 2, 3],
      [3, 4, 5],
    ],
    [[0, 1, 2]],
  );
  close(shifted.estimate, 2, 1e-12, 'estimate');
  close(shifted.se, 1, 1e-12, 'se');
  close(shifted.df, 1, 1e-12, 'df');
  // 1 df is Cauchy: p = 1 - 2·atan(2)/pi.
  close(shifted.p, 1 - (2 * Math.atan(2)) / Math.PI, 1e-10, 'p');

  // Runs [1, 3, 2] and [3, 3, 6] against a base [0, 1, 0]: run means 2 and 4 (variance 2, so the
  // runs part is 2/2 = 1, on 1 df); the residuals of the seeds x prompts table are 0, 1, -1 and
  // 0, -1, 1 (MS_residual = 4/2 = 2, each run's noise 2/(3·2) = 1/3 of the prompts part); the
  // per-prompt differences 2, 2, 4 give var 4/3, over 3 prompts 4/9; less the noise: 1/9, on 2 df.
  // se² = 1/9 + 1 = 10/9; df = (10/9)² / ((1/9)²/2 + 1²/1) = 200/163.
  const r = pairedTest(
    [
      [1, 3, 2],
      [3, 3, 6],
    ],
    [[0, 1, 0]],
  );
  close(r.estimate, 8 / 3, 1e-12, 'estimate');
  close(r.se, Math.sqrt(10 / 9), 1e-12, 'se');
  close(r.df, 200 / 163, 1e-12, 'df');
  assert.throws(() => pairedTest([[1, 2]], [[1, 2, 3]]), /the same prompts/);
  assert.throws(() => pairedTest([[1]], [[2]]), /at least 2/);
  assert.throws(() => pairedTest([[1, Number.NaN]], [[1, 2]]), /not finite/);
});

test('estimateTest: interval, p and minimal detectable difference from one standard error', () => {
  const r = estimateTest(0.5, 0.25, Infinity);
  close(r.low, 0.5 - 1.959964 * 0.25, 1e-6, 'low');
  close(r.mdd, (1.959964 + 0.841621) * 0.25, 1e-6, 'mdd');
  close(r.p, 2 * (1 - normalCdf(2)), 1e-6, 'p');
  // A zero standard error: 0 is no evidence, anything else is certain.
  assert.equal(estimateTest(0, 0, 5).p, 1);
  assert.equal(estimateTest(0.1, 0, 5).p, 0);
});

/** Scores of `sims` datasets with no true difference between two models of `k` runs each; the share where p < 0.05. */
function nullRejections(k: number, runSd: number, sims: number, seed: number): number {
  const rng = new Rng(seed);
  const n = 60;
  let rejected = 0;
  for (let s = 0; s < sims; s++) {
    // Prompts differ a lot (shared), each run shifts all its prompts by N(0, runSd²), each score has its own N(0, 1) noise.
    const prompts = Array.from({ length: n }, () => 3 * rng.normal());
    const model = (): number[][] =>
      Array.from({ length: k }, () => {
        const shift = runSd * rng.normal();
        return prompts.map((q) => q + shift + rng.normal());
      });
    if (pairedTest(model(), model()).p < 0.05) rejected++;
  }
  return rejected / sims;
}

test('several training seeds: with no true difference p < 0.05 in about 5% of datasets or fewer, whether runs differ as wholes or not', () => {
  // 1,000 datasets each (binomial sd under 0.7 points); measured 3.5-4%. The band is wide
  // enough that a correct test cannot fail it, and narrow enough to catch a test that is off by
  // half (the seed-resampling bootstrap: 1% and 7% here).
  for (const runSd of [0, 0.5]) {
    const rate = nullRejections(3, runSd, 1000, 11);
    assert.ok(rate > 0.015 && rate < 0.065, `3 runs each, run sd ${runSd}: p < 0.05 in ${(100 * rate).toFixed(1)}% of 1,000 null datasets`);
  }
});
