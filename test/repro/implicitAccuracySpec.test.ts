import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PostTrainStepRecord } from '../../src/train/postTrain.js';
import { implicitAccuracySpec } from '../../src/repro/reproReport.js';
import type { UnitRecord } from '../../src/repro/reproUnits.js';

const unit = (seed: number, acc: (step: number) => number): UnitRecord => ({
  unit: `self-dpo-s${seed}`,
  method: 'self-dpo',
  seed,
  evals: {},
  probe: [],
  metrics: Array.from({ length: 10 }, (_, i): PostTrainStepRecord => ({ step: i + 1, loss: 0, mse_w: 0, implicit_acc: acc(i + 1), lr: 0, grad_norm: 0, sec: 0 })),
});

test("Figure 5 draws a 4-step moving average at every second step and the last, each the seeds' mean", () => {
  // Seed 1's accuracy is step/10, seed 2's is 0: their mean at step s is the average of s/20 over the window.
  const spec = implicitAccuracySpec([unit(1, (s) => s / 10), unit(2, () => 0)], 4) as unknown as {
    layer?: Array<{ data?: { values?: Array<{ step: number; implicit_acc: number }> } }>;
    data?: { values?: Array<{ step: number; implicit_acc: number }> };
  };
  const rows = spec.data?.values ?? spec.layer?.find((l) => l.data?.values)?.data?.values ?? [];
  assert.deepEqual(
    rows.map((r) => r.step),
    [1, 3, 5, 7, 9, 10],
  );
  // Trailing averages (a window shorter at the start): step 1 -> 0.05, step 5 -> mean(2..5)/20 = 0.175, step 10 -> mean(7..10)/20 = 0.425.
  const at = (step: number): number => rows.find((r) => r.step === step)?.implicit_acc as number;
  assert.ok(Math.abs(at(1) - 0.05) < 1e-12, String(at(1)));
  assert.ok(Math.abs(at(5) - 0.175) < 1e-12, String(at(5)));
  assert.ok(Math.abs(at(10) - 0.425) < 1e-12, String(at(10)));
});
