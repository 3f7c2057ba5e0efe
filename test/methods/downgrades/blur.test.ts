import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend, type BackendName } from '../../../src/backend.js';
import { blur, blurImages } from '../../../src/methods/downgrades/blur.js';
import { Rng } from '../../../src/util/rng.js';
import { randomImages } from './helpers.js';

/**
 * Independent reference in float64 loops: mean of each f x f block, then bilinear
 * up-sampling where output pixel o reads input coordinate (o + 0.5)/f - 0.5 clamped to
 * [0, n - 1] (PyTorch align_corners=False / PIL).
 */
function referenceBlur(x: Float32Array, B: number, R: number, f: number): Float64Array {
  const n = R / f;
  const small = new Float64Array(B * n * n * 3);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += x[((b * R + i * f + dy) * R + j * f + dx) * 3 + c] as number;
          small[((b * n + i) * n + j) * 3 + c] = s / (f * f);
        }
      }
    }
  }
  const coord = (o: number): [number, number, number] => {
    const s = Math.min(Math.max((o + 0.5) / f - 0.5, 0), n - 1);
    const lo = Math.floor(s);
    return [lo, Math.min(lo + 1, n - 1), s - lo];
  };
  const out = new Float64Array(B * R * R * 3);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < R; y++) {
      const [y0, y1, fy] = coord(y);
      for (let x0 = 0; x0 < R; x0++) {
        const [xa, xb, fx] = coord(x0);
        for (let c = 0; c < 3; c++) {
          const v = (yy: number, xx: number): number => small[((b * n + yy) * n + xx) * 3 + c] as number;
          const top = v(y0, xa) * (1 - fx) + v(y0, xb) * fx;
          const bottom = v(y1, xa) * (1 - fx) + v(y1, xb) * fx;
          out[((b * R + y) * R + x0) * 3 + c] = top * (1 - fy) + bottom * fy;
        }
      }
    }
  }
  return out;
}

for (const backend of ['wasm', 'cpu'] as BackendName[]) {
  test(`blur (${backend}) equals an independent average-pool x4 + bilinear up-sampling reference`, async () => {
    await initBackend({ backend, quiet: true });
    for (const [B, R] of [
      [3, 32],
      [1, 64],
      [2, 8],
    ] as const) {
      const pixels = randomImages(B * R * R * 3, R + B);
      const x = tf.tensor4d(pixels, [B, R, R, 3]);
      const y = blurImages(x);
      assert.deepEqual(y.shape, [B, R, R, 3]);
      const got = y.dataSync();
      const want = referenceBlur(pixels, B, R, 4);
      let worst = 0;
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs((got[k] as number) - (want[k] as number)));
      assert.ok(worst < 1e-5, `[${B},${R},${R},3]: max |diff| ${worst}`);
      tf.dispose([x, y]);
    }
  });
}

test('blur keeps a flat image, removes detail, and is a Downgrade that neither leaks nor disposes the winners', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const flat = tf.fill([1, 32, 32, 3], 0.3) as tf.Tensor4D;
  const y = blurImages(flat);
  assert.ok(Array.from(y.dataSync()).every((v) => Math.abs(v - 0.3) < 1e-6));
  // A one-pixel checkerboard averages to its mean exactly.
  const checker = tf.tensor4d(
    Float32Array.from({ length: 32 * 32 * 3 }, (_, k) => (((Math.floor(k / 3) % 32) + Math.floor(k / 96)) % 2 ? 1 : -1)),
    [1, 32, 32, 3],
  );
  const z = blurImages(checker);
  assert.ok(Array.from(z.dataSync()).every((v) => Math.abs(v) < 1e-6));
  const before = tf.memory().numTensors;
  const out = blur.apply({ winners: checker, ids: ['s/a'], concepts: ['a'], rng: new Rng(1) }, {});
  assert.equal(tf.memory().numTensors, before + 1, 'only the losers are new');
  assert.deepEqual(out.sources, ['s/a']);
  assert.equal(checker.isDisposed, false);
  assert.throws(() => blurImages(tf.zeros([1, 30, 30, 3]) as tf.Tensor4D), /multiple of the factor 4/);
  tf.dispose([flat, y, checker, z, out.losers]);
});
