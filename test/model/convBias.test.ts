import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { convWithBias } from '../../src/model/convBias.js';
import { Rng } from '../../src/util/rng.js';

/**
 * convWithBias runs the same kernels as tf.fused.conv2d with a gradient of its own: its output
 * and its gradients with respect to x, the filter and the bias must be tf.fused.conv2d's, bit
 * for bit, on the cpu backend and on wasm (with the native kernels where they are built).
 */
function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

test('convWithBias and its gradients equal tf.fused.conv2d on the cpu and wasm backends', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const cases: [[number, number, number, number], number, number, number][] = [
    // [x shape, kernel, cout, stride]
    [[2, 5, 6, 3], 3, 4, 1],
    [[2, 8, 8, 4], 3, 6, 2], // a downsampler
    [[2, 9, 7, 3], 3, 5, 2], // odd sides
    [[1, 7, 9, 2], 1, 3, 1], // a 1x1 skip projection
    [[3, 1, 1, 5], 3, 2, 1], // one pixel
    [[1, 4, 4, 1], 3, 1, 1], // one channel in and out
  ];
  for (const backend of ['cpu', 'wasm']) {
    assert.ok(await tf.setBackend(backend));
    for (const [i, [shape, k, cout, stride]] of cases.entries()) {
      const [, , , cin] = shape;
      const x = tf.tensor4d(
        randomValues(
          shape.reduce((p, d) => p * d, 1),
          10 + i,
        ),
        shape,
      );
      const w = tf.tensor4d(randomValues(k * k * cin * cout, 20 + i), [k, k, cin, cout]);
      const b = tf.tensor1d(randomValues(cout, 30 + i));
      const run = (f: (a: tf.Tensor4D, f: tf.Tensor4D, c: tf.Tensor1D) => tf.Tensor4D): number[][] =>
        tf.tidy(() => {
          const y = f(x, w, b);
          const dy = tf.tensor(randomValues(y.size, 40 + i), y.shape);
          const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor4D, c as tf.Tensor1D), dy)))([x, w, b]);
          return [y, ...grads].map((t) => Array.from(t.dataSync()));
        });
      const want = run((a, f, c) => tf.fused.conv2d({ x: a, filter: f, strides: stride, pad: 'same', bias: c }));
      const got = run((a, f, c) => convWithBias(a, f, c, stride));
      assert.deepEqual(got, want, `${backend}: x ${shape} k ${k} cout ${cout} stride ${stride}`);
      tf.dispose([x, w, b]);
    }
  }
});
