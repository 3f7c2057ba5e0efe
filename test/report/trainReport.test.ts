import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainingAccuracyRows } from '../../src/report/trainReport.js';
import type { PostTrainStepRecord } from '../../src/train/postTrain.js';

const record = (step: number, implicit_acc?: number): PostTrainStepRecord => ({
  step,
  loss: 0.7,
  mse_w: 0.1,
  lr: 1e-5,
  grad_norm: 1,
  sec: 0.1,
  ...(implicit_acc === undefined ? {} : { implicit_acc }),
});

test("the compare report's training curve starts at step 2 and averages over a centred window (worked by hand)", () => {
  // Step 1 ties every pair (0 by construction); steps 2-6 are the measurements.
  const metrics = [record(1, 0), record(2, 0.5), record(3, 0.7), record(4, 0.6), record(5, 0.9), record(6, 0.8)];
  const rows = trainingAccuracyRows([{ label: 'Self-DPO', metrics }], 3);
  assert.deepEqual(
    rows.map((r) => r.step),
    [2, 3, 4, 5, 6],
  );
  // Window of 3, cut at the ends: (0.5+0.7)/2, (0.5+0.7+0.6)/3, (0.7+0.6+0.9)/3, (0.6+0.9+0.8)/3, (0.9+0.8)/2.
  const want = [0.6, 0.6, 2.2 / 3, 2.3 / 3, 0.85];
  rows.forEach((r, i) => assert.ok(Math.abs(r.implicit_acc - (want[i] as number)) < 1e-12, `step ${r.step}: ${r.implicit_acc}`));
  assert.ok(rows.every((r) => r.method === 'Self-DPO'));
  // A run without implicit accuracy (SFT) draws nothing.
  assert.deepEqual(trainingAccuracyRows([{ label: 'SFT', metrics: [record(1), record(2)] }], 3), []);
});
