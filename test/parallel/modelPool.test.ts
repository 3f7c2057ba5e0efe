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
  assert.deepEqual(splitEvenly(10, 3), [[0, 3], [3, 6], [6, 10]]);
  assert.deepEqual(splitEvenly(2, 4), [[0, 1], [1, 2]]);
  assert.deepEqual(splitEvenly(16, 2), [[0, 8], [8, 16]]);
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
