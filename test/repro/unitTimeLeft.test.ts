import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitTimeLeft } from '../../src/repro/unitTimeLeft.js';

test("the time left prices each unit by its own method's units, else its base's, and names a base with none run", () => {
  const left = ['sft-s3', 'dpo-s1', 'dpo-s2', 'base-L/base', 'base-L/sft-s1'];
  assert.equal(unitTimeLeft(left, new Map()), '', 'nothing run yet: no guess');
  // SFT seeds 1 and 2 took 150 s and 210 s (mean 180 s); the base took 60 s.
  const ran = new Map([
    ['base', 60],
    ['sft-s1', 150],
    ['sft-s2', 210],
  ]);
  // sft-s3 at SFT's mean, 180 s; dpo-s1 and dpo-s2, with no Diffusion-DPO run, at base-S's mean,
  // (60 + 150 + 210) / 3 = 140 s each: 180 + 280 = 460 s, 7.67 min, rounded to 8.
  assert.equal(unitTimeLeft(left, ran), ', about 8 min left and 2 base-L units not timed yet');
  assert.equal(unitTimeLeft(['base-L/sft-s2'], ran), ', 1 base-L unit not timed yet');
  // One base-L unit run: base-L's own pace, from then on.
  assert.equal(unitTimeLeft(['base-L/sft-s2', 'base-L/dpo-s1'], new Map([...ran, ['base-L/sft-s1', 600]])), ', about 20 min left');
  assert.equal(unitTimeLeft([], ran), '');
});
