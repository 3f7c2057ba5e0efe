import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from '../../src/kernels/index.js';
import { readTensorInto } from '../../src/kernels/readTensorInto.js';

for (const backend of ['wasm', 'cpu']) {
  test(`readTensorInto copies a tensor's values into place on ${backend}, leaving the rest alone`, async () => {
    registerWasmKernels();
    assert.ok(await tf.setBackend(backend));
    const x = tf.tensor2d([1.5, -2, 3, 4.25], [2, 2]);
    const sum = tf.add(x, tf.scalar(1)); // a kernel's output
    const clone = tf.clone(x); // on wasm, shares x's buffer
    const dst = new Float32Array(11).fill(9);
    readTensorInto(x, dst, 1);
    readTensorInto(sum, dst, 5);
    // Grow the heap (wasm replaces its ArrayBuffer) before the last read.
    const big = tf.zeros([16 << 20]);
    readTensorInto(clone, dst, 7);
    assert.deepEqual(Array.from(dst), [9, 1.5, -2, 3, 4.25, 2.5, -1, 1.5, -2, 3, 4.25]);
    assert.throws(() => readTensorInto(x, dst, 8), /readTensorInto: 4 values at 8 do not fit in 11/);
    assert.throws(() => readTensorInto(tf.tensor1d([1], 'int32'), dst, 0), /expected a float32 tensor, got int32/);
    tf.dispose([x, sum, clone, big]);
  });
}
