import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { mseLoss } from '../../../src/objective/losses/mse.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

test('mseLoss: the per-image error itself, per example, as a separate tensor', () => {
  const errors = tf.tensor1d([0.25, 1, 0]);
  const { loss } = mseLoss(errors);
  assert.deepEqual(loss.shape, [3]);
  assert.deepEqual(Array.from(loss.dataSync()), [0.25, 1, 0]);
  assert.notEqual(loss, errors, 'disposing the loss must not dispose the errors');
  loss.dispose();
  assert.equal(errors.isDisposed, false);
  errors.dispose();
});

test('mseLoss rejects anything but [B]', () => {
  const e = tf.zeros([2, 1]);
  assert.throws(() => mseLoss(e as tf.Tensor1D), /\[B\], got \[2,1\]/);
  e.dispose();
});
