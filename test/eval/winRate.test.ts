import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acrossSeeds, bootstrapMean, bootstrapPairedDifference, bootstrapSeedsAndPrompts, outcomes, winRate, winRateInterval } from '../../src/eval/winRate.js';

test('winRate = (wins + 0.5·ties)/n per prompt, by hand', () => {
  assert.deepEqual(outcomes([3, 1, 2, 5], [1, 1, 4, 5]), [1, 0.5, 0, 0.5]);
  assert.equal(winRate([3, 1, 2, 5], [1, 1, 4, 5]), 0.5);
  assert.equal(winRate([2, 2, 2], [1, 1, 1]), 1);
  assert.throws(() => winRate([1, 2], [1]), /2 model scores but 1 base scores/);
  assert.throws(() => winRate([Number.NaN], [1]), /score 0 is not finite/);
});

test('bootstrapMean: a constant has a zero-width interval; an interval brackets the mean and narrows with n; seeded', () => {
  assert.deepEqual(bootstrapMean([0.5, 0.5, 0.5]), { mean: 0.5, low: 0.5, high: 0.5 });
  const small = Array.from({ length: 20 }, (_, i) => i % 2);
  const large = Array.from({ length: 2000 }, (_, i) => i % 2);
  const a = bootstrapMean(small, 2000, 1);
  const b = bootstrapMean(large, 2000, 1);
  assert.ok(a.low < 0.5 && a.high > 0.5 && b.low < 0.5 && b.high > 0.5);
  // The standard error of a 0/1 mean at p = 0.5 is 0.5/sqrt(n): the 95% half-width is about 1.96 times it.
  assert.ok(Math.abs((a.high - a.low) / 2 - (1.96 * 0.5) / Math.sqrt(20)) < 0.04, `${a.low}..${a.high}`);
  assert.ok(Math.abs((b.high - b.low) / 2 - (1.96 * 0.5) / Math.sqrt(2000)) < 0.004, `${b.low}..${b.high}`);
  assert.deepEqual(bootstrapMean(small, 500, 7), bootstrapMean(small, 500, 7));
  const w = winRateInterval([1, 2, 3, 4], [0, 0, 5, 5]);
  assert.equal(w.mean, 0.5);
});

test('acrossSeeds: mean ± t(0.975, k-1)·sd/sqrt(k), by hand', () => {
  const r = acrossSeeds([0.6, 0.7, 0.8]);
  // sd = 0.1, t(0.975, 2) = 4.303: half-width 4.303·0.1/sqrt(3).
  assert.ok(Math.abs(r.mean - 0.7) < 1e-12);
  assert.ok(Math.abs(r.high - (0.7 + (4.303 * 0.1) / Math.sqrt(3))) < 1e-9);
  assert.ok(Math.abs(r.low - (0.7 - (4.303 * 0.1) / Math.sqrt(3))) < 1e-9);
  assert.ok(Number.isNaN(acrossSeeds([0.5]).low), 'one seed has no interval');
});

test('bootstrapSeedsAndPrompts: one seed is the bootstrap over prompts; constant values give a point; seeds that differ widen it', () => {
  const one = [[0, 1, 1, 0, 1, 1, 0, 1]];
  assert.deepEqual(bootstrapSeedsAndPrompts(one, 500, 3), bootstrapMean(one[0] as number[], 500, 3));
  assert.deepEqual(
    bootstrapSeedsAndPrompts([
      [2, 2, 2],
      [2, 2, 2],
    ]),
    { mean: 2, low: 2, high: 2 },
  );
  // Two seeds, one all 0 and one all 1: the prompts add no spread, only the seed draw does,
  // and 1/4 of the draws take seed 0 twice (mean 0), 1/4 seed 1 twice (mean 1).
  const split = bootstrapSeedsAndPrompts(
    [
      [0, 0, 0, 0],
      [1, 1, 1, 1],
    ],
    4000,
    1,
  );
  assert.equal(split.mean, 0.5);
  assert.deepEqual([split.low, split.high], [0, 1]);
  assert.throws(() => bootstrapSeedsAndPrompts([[1, 2], [1]]), /same number of prompts/);
});

test("bootstrapPairedDifference: a constant per-prompt gap is a point; pairing cancels the prompts' spread; seeds resampled per model", () => {
  assert.deepEqual(bootstrapPairedDifference([[1, 2, 3, 4]], [[0, 1, 2, 3]]), { mean: 1, low: 1, high: 1 });
  // Prompts spread over 0-90, the model 1 above the other on each: separate intervals overlap widely, the paired one is exact.
  const b = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  const a = b.map((x) => x + 1);
  assert.ok(bootstrapMean(a).low < bootstrapMean(b).high, 'the separate intervals overlap');
  assert.deepEqual(bootstrapPairedDifference([a], [b]), { mean: 1, low: 1, high: 1 });
  // Two training seeds at 1 and 3 against one at 0: resampled seed pairs give 1, 2 or 3 (1/4, 1/2, 1/4).
  assert.deepEqual(
    bootstrapPairedDifference(
      [
        [1, 1, 1],
        [3, 3, 3],
      ],
      [[0, 0, 0]],
      4000,
      1,
    ),
    { mean: 2, low: 1, high: 3 },
  );
  assert.deepEqual(bootstrapPairedDifference([[1, 5]], [[0, 2]], 500, 9), bootstrapPairedDifference([[1, 5]], [[0, 2]], 500, 9), 'seeded');
  assert.throws(() => bootstrapPairedDifference([[1, 2]], [[1, 2, 3]]), /every seed of both models needs the same prompts \(2, 3\)/);
});
