import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { makeSchedule } from '../../src/diffusion/schedule.js';
import { TextToImageModel } from '../../src/model/textToImage.js';
import { ModelPool, splitEvenly } from '../../src/parallel/modelPool.js';
import { sampleBytes } from '../../src/parallel/sampleBytes.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import { Tokenizer } from '../../src/text/tokenizer.js';

test('splitEvenly covers 0..n in contiguous, near-equal shares', () => {
  assert.deepEqual(splitEvenly(10, 3), [
    [0, 3],
    [3, 6],
    [6, 10],
  ]);
  assert.deepEqual(splitEvenly(2, 4), [
    [0, 1],
    [1, 2],
  ]);
  assert.deepEqual(splitEvenly(16, 2), [
    [0, 8],
    [8, 16],
  ]);
});

test('a 2-thread pool samples the same images as one thread, in order', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const config = resolvePretrainConfig(SMOKE_OVERRIDE).model;
  const model = TextToImageModel.create(config, Tokenizer.fromCaptions(['red blue square'], { maxLength: config.maxWords }), 3);
  // Move the weights off their initial values so the UNet's zero output layer does not hide differences.
  tf.tidy(() => model.params.variables.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', i), 0.05)))));
  const schedule = makeSchedule('cosine', 1000);
  const captions = ['red square', 'blue square', '', 'red', 'square'];
  const seeds = [4, 8, 15, 16, 23];
  const options = { steps: 3, guidance: 2 };
  const one = await sampleBytes(model, schedule, { kind: 'sample', captions, seeds, options, chunk: 2 });
  const pool = await ModelPool.start(model, schedule, model.params.names, 2, 'wasm');
  try {
    const seen: number[] = [];
    const two = await pool.sample(model, schedule, captions, seeds, options, 2, (d) => seen.push(d));
    assert.equal(two.length, 5);
    for (let i = 0; i < 5; i++) {
      let worst = 0;
      for (let k = 0; k < (one[i] as Uint8Array).length; k++) worst = Math.max(worst, Math.abs((one[i] as Uint8Array)[k]! - (two[i] as Uint8Array)[k]!));
      assert.ok(worst <= 1, `image ${i} differs by up to ${worst}/255`);
    }
    assert.notDeepEqual(one[0], one[1], 'different seeds and captions give different images');
    assert.equal(seen.at(-1), 5);
  } finally {
    await pool.stop();
    model.params.dispose();
  }
});

test("Self-DPO pair gradients over 2 threads equal one thread's, with a frozen text encoder", async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const config = resolvePretrainConfig(SMOKE_OVERRIDE).model;
  const model = TextToImageModel.create(config, Tokenizer.fromCaptions(['red blue square'], { maxLength: config.maxWords }), 5);
  tf.tidy(() => model.params.variables.forEach((v, i) => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 100 + i), 0.05)))));
  const reference = model.params.clone(false);
  const schedule = makeSchedule('scaled-linear', 1000);
  const unet = model.params.names.filter((n) => n.startsWith('unet/'));
  // The policy's UNet drifts from the reference, as after a few steps of training; its text encoder stays frozen.
  tf.tidy(() =>
    unet.forEach((name, i) => model.params.variable(name).assign(tf.add(model.params.variable(name), tf.mul(tf.randomNormal(model.params.variable(name).shape, 0, 1, 'float32', 200 + i), 0.01)))),
  );
  const variables = unet.map((n) => model.params.variable(n));
  const n = 6;
  const per = 32 * 32 * 3;
  const rand = (seed: number): Float32Array => Float32Array.from({ length: n * per }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.9);
  const job = {
    kind: 'pairs' as const,
    winners: rand(1),
    losers: rand(2),
    eps: rand(3),
    t: [10, 200, 400, 600, 800, 990],
    captions: ['red square', 'blue square', '', 'red', 'square', 'blue'],
    weight: 1 / n,
    microBatch: 2,
    loss: { kind: 'selfDpo' as const, beta: 500, lambda1: 0.5, lambda2: 0.5 },
  };
  const { pairGradients } = await import('../../src/parallel/pairGradients.js');
  const one = pairGradients(model, reference, schedule, variables, job);
  // Micro-batches of 2 pairs accumulate to the gradient of one pass over all 6.
  const whole = pairGradients(model, reference, schedule, variables, { ...job, microBatch: n });
  // Float32 rounding differs with the micro-batch shapes (OpenBLAS blocks each shape its own way,
  // and beta amplifies error differences): the same relative bound as the gradients below.
  assert.ok(Math.abs(whole.loss - one.loss) <= 1e-5 * (1 + Math.abs(whole.loss)), `micro-batched loss ${one.loss} vs ${whole.loss}`);
  whole.grads.forEach((g, i) => {
    const a = g.dataSync();
    const b = (one.grads[i] as tf.Tensor).dataSync();
    for (let e = 0; e < a.length; e++) assert.ok(Math.abs((a[e] as number) - (b[e] as number)) <= 1e-5 * (1 + Math.abs(a[e] as number)), `micro-batch gradient ${i}[${e}]`);
  });
  tf.dispose(whole.grads);
  // The pool's workers start from the reference weights, then receive the policy's at each job.
  const policyValues = await model.params.values();
  model.params.copyFrom(reference);
  const pool = await ModelPool.start(model, schedule, unet, 2, 'wasm');
  model.params.assign(new Map([...policyValues].map(([k, data]) => [k, { shape: model.params.variable(k).shape, data }])));
  try {
    const slice = (a: Float32Array, s: number, e: number): Float32Array => a.slice(s * per, e * per);
    const shares = splitEvenly(n, 2).map(([s, e]) => ({
      ...job,
      winners: slice(job.winners, s, e),
      losers: slice(job.losers, s, e),
      eps: slice(job.eps, s, e),
      t: job.t.slice(s, e),
      captions: job.captions.slice(s, e),
    }));
    const two = await pool.gradients(model, schedule, shares, reference);
    assert.ok(Math.abs(one.loss - two.loss) < 1e-5 * Math.max(1, Math.abs(one.loss)), `loss ${one.loss} vs ${two.loss}`);
    assert.deepEqual({ ...two.stats, modelW: 0, modelL: 0, refW: 0, refL: 0 }, { ...one.stats, modelW: 0, modelL: 0, refW: 0, refL: 0 });
    for (const k of ['modelW', 'modelL', 'refW', 'refL'] as const) assert.ok(Math.abs(one.stats[k] - (two.stats?.[k] ?? NaN)) < 1e-5, k);
    let worst = 0;
    let scale = 0;
    one.grads.forEach((g, i) => {
      const a = g.dataSync();
      const b = (two.grads[i] as tf.Tensor).dataSync();
      for (let e = 0; e < a.length; e++) {
        worst = Math.max(worst, Math.abs((a[e] as number) - (b[e] as number)));
        scale = Math.max(scale, Math.abs(a[e] as number));
      }
    });
    assert.ok(scale > 0 && worst <= 1e-4 * scale, `gradient difference ${worst} (largest gradient ${scale})`);
    tf.dispose([...one.grads, ...two.grads]);
  } finally {
    await pool.stop();
    reference.dispose();
    model.params.dispose();
  }
});
