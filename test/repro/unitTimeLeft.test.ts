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

test('a method not yet run on its base is scaled from another base by how the two bases compare on the methods both ran, by hand', () => {
  // base-S: base 100 s, SFT 200 s, Diffusion-DPO 400 s (seeds 1 and 2: 380 s and 420 s). base-L: base 300 s, SFT 500 s.
  const ran = new Map([
    ['base', 100],
    ['sft-s1', 200],
    ['dpo-s1', 380],
    ['dpo-s2', 420],
    ['base-L/base', 300],
    ['base-L/sft-s1', 500],
  ]);
  // base-L costs (300 + 500) / (100 + 200) = 8/3 of base-S on the methods both ran, so its Diffusion-DPO
  // is priced at 400 x 8/3 = 1066.7 s (base-L's own mean, 400 s, would have been a quarter of that);
  // its SFT seed 2 at its own 500 s; a method run on no base (Self-DPO) at base-L's mean, 400 s.
  const t = unitTimeLeft(['base-L/dpo-s1', 'base-L/sft-s2', 'base-L/self-dpo-s1'], ran);
  assert.ok(t !== undefined);
  assert.ok(Math.abs(t.seconds - (400 * 8) / 3 - 500 - 400) < 1e-9, `${t.seconds}`);
  assert.deepEqual(t.untimed, new Map());
});
