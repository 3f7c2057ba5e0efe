import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from '../../src/kernels/index.js';

async function useWasm(): Promise<void> {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
}

test('Identity and same-dtype Cast on wasm share the input buffer, and it outlives the input', async () => {
  await useWasm();
  const before = tf.memory().numDataBuffers;
  const x = tf.tensor2d([1.5, -2, 3, 4.25], [2, 2]);
  const clone = tf.clone(x);
  const same = tf.cast(x, 'float32');
  assert.equal(clone.dataId, x.dataId);
  assert.equal(same.dataId, x.dataId);
  // One buffer, however many tensors point at it.
  assert.equal(tf.memory().numDataBuffers - before, 1);
  x.dispose();
  assert.deepEqual(Array.from(clone.dataSync()), [1.5, -2, 3, 4.25]);
  clone.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 3, 4.25]);
  same.dispose();
  assert.equal(tf.memory().numDataBuffers, before);
});

test('a real Cast on wasm still converts (float32 -> int32 truncates, bool -> float32)', async () => {
  await useWasm();
  const x = tf.tensor1d([1.7, -2.2, 0]);
  const i = tf.cast(x, 'int32');
  assert.equal(i.dtype, 'int32');
  assert.notEqual(i.dataId, x.dataId);
  assert.deepEqual(Array.from(i.dataSync()), [1, -2, 0]);
  const b = tf.cast(tf.tensor1d([1, 0, 1], 'bool'), 'float32');
  assert.deepEqual(Array.from(b.dataSync()), [1, 0, 1]);
  tf.dispose([x, i, b]);
});

test('a variable assigned after a clone was taken leaves the clone alone', async () => {
  await useWasm();
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const snapshot = tf.clone(v);
  v.assign(tf.tensor1d([7, 8, 9]));
  assert.deepEqual(Array.from(snapshot.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(v.dataSync()), [7, 8, 9]);
  tf.dispose([v, snapshot]);
});

test('gradients through saved tensors are unchanged by sharing: d/dx sum(x*x*y) = 2xy, d/dy = x²', async () => {
  await useWasm();
  const x = tf.tensor1d([1, -2, 3]);
  const y = tf.tensor1d([0.5, 4, -1]);
  const [dx, dy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, a), b)))([x, y]) as [tf.Tensor, tf.Tensor];
  assert.deepEqual(Array.from(dx.dataSync()), [1, -16, -6]);
  assert.deepEqual(Array.from(dy.dataSync()), [1, 4, 9]);
  tf.dispose([x, y, dx, dy]);
});
