import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeTimeLeft, unitTimeLeft } from '../../src/repro/unitTimeLeft.js';

test("the time left prices each unit by its own method's units, else its base's, and names a base with none run", () => {
  const left = ['sft-s3', 'dpo-s1', 'dpo-s2', 'base-L/base', 'base-L/sft-s1'];
  assert.equal(unitTimeLeft(left, new Map()), undefined, 'nothing run yet: no guess');
  // SFT seeds 1 and 2 took 150 s and 210 s (mean 180 s); the base took 60 s.
  const ran = new Map([
    ['base', 60],
    ['sft-s1', 150],
    ['sft-s2', 210],
  ]);
  // sft-s3 at SFT's mean, 180 s; dpo-s1 and dpo-s2, with no Diffusion-DPO run, at base-S's mean,
  // (60 + 150 + 210) / 3 = 140 s each: 180 + 280 = 460 s = 7 min 40 s.
  const t = unitTimeLeft(left, ran);
  assert.deepEqual(t, { seconds: 460, untimed: new Map([['base-L', 2]]) });
  assert.equal(describeTimeLeft(t as NonNullable<typeof t>), 'about 7m40s left and 2 base-L units not timed yet');
  // Over 2 workers: half the time; the untimed units are still named.
  assert.equal(describeTimeLeft(t as NonNullable<typeof t>, 2), 'about 3m50s left and 2 base-L units not timed yet');
  assert.equal(describeTimeLeft(unitTimeLeft(['base-L/sft-s2'], ran) as NonNullable<typeof t>), '1 base-L unit not timed yet');
  // One base-L unit run: base-L's own pace, from then on (2 x 600 s).
  assert.equal(describeTimeLeft(unitTimeLeft(['base-L/sft-s2', 'base-L/dpo-s1'], new Map([...ran, ['base-L/sft-s1', 600]])) as NonNullable<typeof t>), 'about 20m00s left');
  assert.equal(unitTimeLeft([], ran), undefined);
});
