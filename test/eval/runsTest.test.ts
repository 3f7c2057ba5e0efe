import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runsContrastTest } from '../../src/eval/runsTest.js';

const close = (actual: number, expected: number, tol: number, what: string): void => assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} ± ${tol}`);

test("Welch's t across runs, by hand", () => {
  // a: mean 2, variance 1 over 3 runs (1/3); b: mean 5, variance 20/3 over 4 runs (5/3).
  // se² = 2; df = 2² / ((1/3)²/2 + (5/3)²/3) = 216/53.
  const r = runsContrastTest([
    { weight: 1, runs: { values: [1, 2, 3] } },
    { weight: -1, runs: { values: [2, 4, 6, 8] } },
  ]);
  assert.ok(r);
  close(r.estimate, -3, 1e-12, 'estimate');
  close(r.se, Math.SQRT2, 1e-12, 'se');
  close(r.df, 216 / 53, 1e-12, 'df');
});

test("the base's value is fixed; a trained model's single run gives no test unless a floor is known", () => {
  // FID 1, 2, 3 over three runs against the base's 2: the one-sample t, se 1/sqrt(3) on 2 df.
  const fid = runsContrastTest([
    { weight: 1, runs: { values: [1, 2, 3] } },
    { weight: -1, runs: { values: [2], fixed: true } },
  ]);
  assert.ok(fid);
  assert.deepEqual([fid.estimate, fid.df, fid.p], [0, 2, 1]);
  close(fid.se, 1 / Math.sqrt(3), 1e-12, 'se');
  assert.equal(
    runsContrastTest([
      { weight: 1, runs: { values: [1.5] } },
      { weight: -1, runs: { values: [2], fixed: true } },
    ]),
    undefined,
    'one run says nothing of how runs differ',
  );
  assert.equal(runsContrastTest([{ weight: 1, runs: { values: [2], fixed: true } }]), undefined, 'nothing varies');
  // A probe's accuracy above a level: one run with a binomial floor of 0.03, a known variance (infinite df).
  const one = runsContrastTest([{ weight: 1, runs: { values: [0.9], minSe: 0.03 } }], -0.75);
  assert.ok(one);
  close(one.estimate, 0.15, 1e-12, 'estimate');
  assert.deepEqual([one.se, one.df], [0.03, Infinity]);
  // Two runs that agree exactly still carry the floor; two that disagree carry their spread (0.1) on 1 df.
  assert.equal(runsContrastTest([{ weight: 1, runs: { values: [0.9, 0.9], minSe: 0.03 } }])?.se, 0.03);
  const apart = runsContrastTest([{ weight: 1, runs: { values: [0.8, 1.0], minSe: 0.03 } }]);
  assert.ok(apart);
  close(apart.se, 0.1, 1e-12, 'se');
  assert.equal(apart.df, 1);
});
