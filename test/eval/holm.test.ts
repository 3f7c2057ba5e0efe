import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holmAdjust } from '../../src/eval/holm.js';

test("Holm's adjustment of a hand-worked list, in the order given", () => {
  // Sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04, raised to 0.06 to stay monotone).
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  const expected = [0.03, 0.06, 0.06, 0.02];
  adjusted.forEach((p, i) => assert.ok(Math.abs(p - (expected[i] as number)) < 1e-12, `${i}: ${p}`));
  // Capped at 1; a single p-value is its own adjustment; none is nothing.
  assert.deepEqual(holmAdjust([0.5, 0.6, 0.01]), [1, 1, 0.03]);
  assert.deepEqual(holmAdjust([0.2]), [0.2]);
  assert.deepEqual(holmAdjust([]), []);
  // Ties share an adjustment: 0.02 x3 = 0.06, then max(0.06, 0.02 x 2) = 0.06.
  const tied = holmAdjust([0.02, 0.02, 0.9]);
  assert.ok(Math.abs((tied[0] as number) - 0.06) < 1e-12 && Math.abs((tied[1] as number) - 0.06) < 1e-12 && tied[2] === 0.9);
  assert.throws(() => holmAdjust([0.1, Number.NaN]), /p-value 1 is NaN/);
});
