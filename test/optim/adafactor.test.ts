import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { Adafactor, ADAFACTOR_DEFAULTS } from '../../src/optim/adafactor.js';
import { postTrain } from '../../src/train/postTrain.js';
import { smokeBase, smokeTrainConfig, smokeTrainData } from '../train/trainHelpers.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Adafactor by hand: factored second moment of a matrix, full one of a vector, RMS clipping, two steps', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const w = tf.variable(
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
  );
  const b = tf.variable(tf.tensor1d([3]));
  const opt = new Adafactor([w, b], { ...ADAFACTOR_DEFAULTS, weightDecay: 0.5 });
  const lr = 0.01;
  const g = [
    [0.1, 0.2],
    [0.3, 0.4],
  ];
  opt.apply([tf.tensor2d(g), tf.tensor1d([2])], lr);
  // Step 1: beta2 = 1 - 1^-0.8 = 0, so the factors are this gradient's: row means of g² [0.025, 0.125],
  // column means [0.05, 0.1]; v ≈ row ⊗ col / mean(row) with mean(row) = 0.075.
  const row = [0.025, 0.125];
  const col = [0.05, 0.1];
  let update = g.map((r, i) => r.map((x, j) => x / Math.sqrt(((row[i] as number) / 0.075) * (col[j] as number))));
  const rms = Math.sqrt(update.flat().reduce((s, x) => s + x * x, 0) / 4);
  if (rms > 1) update = update.map((r) => r.map((x) => x / rms));
  const want = [
    [1, 2],
    [3, 4],
  ].map((r, i) => r.map((x, j) => x * (1 - lr * 0.5) - lr * (update[i]?.[j] as number)));
  const got = w.arraySync() as number[][];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) close(got[i]?.[j] as number, want[i]?.[j] as number);
  // The vector: v = g² = 4, update = 2/2 = 1 (RMS 1, not clipped), no decay on rank 1.
  close(b.dataSync()[0] as number, 3 - lr);
  // Step 2: beta2 = 1 - 2^-0.8; v = beta2·4 + (1 - beta2)·1 for a gradient of 1; update = 1/sqrt(v).
  opt.apply([tf.tensor2d(g), tf.tensor1d([1])], lr);
  const beta2 = 1 - 2 ** -0.8;
  close(b.dataSync()[0] as number, 3 - lr - lr / Math.sqrt(beta2 * 4 + (1 - beta2)), 1e-6);
  assert.equal(opt.step, 2);
  const groups = opt.stateGroups(['w', 'b']);
  assert.deepEqual(Object.fromEntries(Object.entries(groups).map(([k, m]) => [k, [...m.keys()]])), { adafactorRow: ['w'], adafactorCol: ['w'], adafactorV: ['b'] });
  assert.deepEqual(groups['adafactorRow']?.get('w')?.shape, [2]);
  opt.dispose();
  tf.dispose([w, b]);
});

test('Adafactor clips an update whose RMS exceeds the threshold', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const w = tf.variable(tf.tensor1d([0, 0]));
  const opt = new Adafactor([w], { ...ADAFACTOR_DEFAULTS, clipThreshold: 0.5 });
  opt.apply([tf.tensor1d([3, -4])], 1);
  // v = g², update = sign(g) with RMS 1 > 0.5: halved.
  assert.deepEqual(
    Array.from(w.dataSync()).map((x) => Math.round(x * 1e6) / 1e6),
    [-0.5, 0.5],
  );
  opt.dispose();
  w.dispose();
});

test('a Self-DPO run with Adafactor resumes from its factored state exactly', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const root = mkdtempSync(join(tmpdir(), 'adafactor-'));
  const config = smokeTrainConfig(base, {}, { optimizer: 'adafactor' });
  await postTrain(config, smokeTrainData(), join(root, 'whole'), { quiet: true });
  await postTrain(config, smokeTrainData(), join(root, 'killed'), { quiet: true, stopAfter: 3 });
  await postTrain(config, smokeTrainData(), join(root, 'killed'), { quiet: true });
  const strip = (dir: string): string[] =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.stringify({ ...JSON.parse(l), sec: 0 }));
  assert.deepEqual(strip(join(root, 'killed')), strip(join(root, 'whole')));
});
