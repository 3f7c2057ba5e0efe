import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { loadModel } from '../../src/model/modelFile.js';
import { pairGradients } from '../../src/parallel/pairGradients.js';
import { postTrain } from '../../src/train/postTrain.js';
import { fakeImageTextSet } from './fakeImageTextSet.js';
import { smokeBase, smokeTrainConfig, smokeTrainData } from './trainHelpers.js';

type Row = Record<string, number>;
const rows = (dir: string, file = 'metrics.jsonl'): Row[] =>
  readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row)
    .map(({ sec: _sec, ...rest }) => rest as Row);

/** Every UNet weight of a saved model, flat. */
function unetWeights(dir: string): Float32Array {
  const { model } = loadModel(dir);
  const flat = model.unetVariables().flatMap((v) => Array.from(v.dataSync()));
  model.params.dispose();
  return Float32Array.from(flat);
}

test('a killed and resumed Self-DPO run reproduces the uninterrupted run: metrics, probe and weights', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const root = mkdtempSync(join(tmpdir(), 'train-'));
  const config = smokeTrainConfig(base);
  await postTrain(config, smokeTrainData(), join(root, 'whole'), { quiet: true });
  const first = await postTrain(config, smokeTrainData(), join(root, 'killed'), { quiet: true, stopAfter: 3 });
  assert.equal(first.step, 3);
  const second = await postTrain(config, smokeTrainData(), join(root, 'killed'), { quiet: true });
  assert.equal(second.resumedFrom, 2, 'resumes from the checkpoint at step 2');
  const whole = rows(join(root, 'whole'));
  assert.equal(whole.length, 4);
  assert.deepEqual(rows(join(root, 'killed')), whole);
  assert.deepEqual(rows(join(root, 'killed'), 'heldout.jsonl'), rows(join(root, 'whole'), 'heldout.jsonl'));
  assert.deepEqual(unetWeights(join(root, 'killed', 'model')), unetWeights(join(root, 'whole', 'model')));
  for (const key of ['loss', 'mse_w', 'mse_l', 'ref_w', 'ref_l', 'implicit_acc', 'lr', 'grad_norm']) assert.ok(Number.isFinite(whole[0]?.[key]), key);
  // Step 1's policy is the reference: model and reference errors agree and no pair is a win (ties are not wins).
  assert.ok(Math.abs((whole[0]?.['mse_w'] as number) - (whole[0]?.['ref_w'] as number)) < 1e-6);
  assert.equal(whole[0]?.['implicit_acc'], 0);
  // 25% warmup of 4 steps: the LR ramps over the first step only.
  assert.deepEqual(
    whole.map((r) => r['lr']),
    [1e-3, 1e-3, 1e-3, 1e-3],
  );
  await assert.rejects(postTrain(smokeTrainConfig(base, {}, { lr: 2e-3 }), smokeTrainData(), join(root, 'whole'), { quiet: true }), /different config; pass --force/);
});

test('4 micro-batches of 4 give the update of one batch of 16 (to float error)', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const root = mkdtempSync(join(tmpdir(), 'train-micro-'));
  const before = unetWeights(base);
  const deltas: Float32Array[] = [];
  const metrics: Row[][] = [];
  for (const micro of [16, 4]) {
    const dir = join(root, `micro${micro}`);
    await postTrain(smokeTrainConfig(base, {}, { steps: 1, batchSize: 16, microBatch: micro, warmupFraction: 0 }), smokeTrainData(), dir, { quiet: true });
    const after = unetWeights(join(dir, 'model'));
    deltas.push(after.map((w, i) => w - (before[i] as number)));
    metrics.push(rows(dir));
  }
  const [a, b] = deltas as [Float32Array, Float32Array];
  let maxDelta = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    maxDelta = Math.max(maxDelta, Math.abs(a[i] as number));
    maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
  }
  assert.ok(maxDelta > 5e-4, `the step moved the weights (max |delta| ${maxDelta})`);
  assert.ok(maxDiff < 1e-2 * maxDelta, `updates differ by ${maxDiff} (max |delta| ${maxDelta})`);
  const [m16, m4] = metrics as [Row[], Row[]];
  for (const key of ['loss', 'mse_w', 'mse_l', 'ref_w', 'ref_l', 'grad_norm']) {
    const x = m16[0]?.[key] as number;
    const y = m4[0]?.[key] as number;
    assert.ok(Math.abs(x - y) <= 1e-5 * Math.abs(x), `${key}: ${x} vs ${y}`);
  }
});

test('a pair shares noise, timestep and caption: a loser identical to its winner has the same errors and no preference gradient', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const { model, schedule } = loadModel(await smokeBase());
  const set = fakeImageTextSet(4);
  const per = 32 * 32 * 3;
  const winners = new Float32Array(4 * per);
  for (let i = 0; i < 4; i++) set.pixels(i).forEach((v, k) => (winners[i * per + k] = v / 127.5 - 1));
  const eps = Float32Array.from({ length: 4 * per }, (_, k) => Math.sin(k));
  const reference = model.params.clone(false);
  // Move the policy off the reference so that model and reference errors differ.
  const variables = model.unetVariables();
  tf.tidy(() => variables.forEach((v) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 3), 0.01)))));
  const job = {
    kind: 'pairs' as const,
    winners,
    losers: winners.slice(),
    eps,
    t: [10, 300, 600, 900],
    captions: [0, 1, 2, 3].map((i) => set.caption(i, null as never)),
    weight: 0.25,
    microBatch: 2,
    loss: { kind: 'selfDpo' as const, beta: 5000, lambda1: 0, lambda2: 1 },
  };
  const { grads, loss, stats } = pairGradients(model, reference, schedule, variables, job);
  // The same noise, timestep and caption give the same errors up to rounding, not bit for bit:
  // OpenBLAS's sgemm (the native convolution and matmul kernels) can round a row differently at
  // another position in the batch (of a [w; w] batch, 16 of 16,384 outputs of the first
  // convolution and a third of a [68, 16] x [16, 16] product differ between the halves in the
  // last bit), and whether that reaches the errors' float32 sums is chance. So: within 1e-6, and
  // inside within rounding of 0 (a loss of log 2); that an exact tie is not a win is dpo.test.ts's.
  const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${what}: ${a} vs ${b}`);
  close(stats.modelW, stats.modelL, "the policy's errors of winners and their identical losers");
  close(stats.refW, stats.refL, "the reference's");
  assert.notEqual(stats.modelW, stats.refW);
  assert.ok(Math.abs(loss - Math.log(2)) < 1e-4, `loss ${loss} = log 2`);
  const l1 = (gs: tf.Tensor[]): number => tf.tidy(() => tf.addN(gs.map((g) => tf.sum(tf.abs(g)))).dataSync()[0] as number);
  // The same job with real losers (the winners in reverse order), for scale.
  const losers = new Float32Array(4 * per);
  for (let i = 0; i < 4; i++) losers.set(winners.subarray((3 - i) * per, (4 - i) * per), i * per);
  const real = pairGradients(model, reference, schedule, variables, { ...job, losers });
  const tie = l1(grads);
  const scale = l1(real.grads);
  assert.ok(scale > 1, `real pairs have a gradient (${scale})`);
  // Winner and loser halves cancel up to float rounding of the batched backward pass.
  assert.ok(tie < 1e-5 * scale, `the preference gradient of a tie vanishes: ${tie} vs ${scale}`);
  tf.dispose([...grads, ...real.grads]);
  reference.dispose();
  model.params.dispose();
});

test('post-training leaves no tensors behind: flat across steps, none left when the run returns (SFT, Self-DPO with micro-batches, Adafactor)', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const root = mkdtempSync(join(tmpdir(), 'train-leaks-'));
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['sft', { method: 'sft', downgrade: '' }, {}],
    ['self-dpo', {}, { microBatch: 4 }],
    ['adafactor', {}, { optimizer: 'adafactor' }],
  ];
  for (const [name, override, train] of cases) {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await postTrain(smokeTrainConfig(base, override, { steps: 5, ...train }), smokeTrainData(), join(root, name), { quiet: true, onStep: () => counts.push(tf.memory().numTensors) });
    // Steps 1, 3 and 5 end alike (2 and 4 also wrote a checkpoint and ran the probe).
    assert.equal(counts[2], counts[0], `${name}: tensors after step 3 vs step 1 (${counts.join(', ')})`);
    assert.equal(counts[4], counts[0], `${name}: tensors after step 5 vs step 1`);
    assert.equal(tf.memory().numTensors, before, `${name}: tensors left after the run`);
  }
});
