import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../../src/kernels/nativeAddon.js';
import { nativeKernelsStatus, registerWasmKernels } from '../../src/kernels/index.js';
import { relErr, size, values } from './convTestUtil.js';

/**
 * The native data-movement kernels (src/kernels/nativeCopyKernels.ts: SplitV, GatherV2,
 * ResizeNearestNeighbor and its gradient) against the cpu backend. Copies must agree exactly;
 * the resize gradient's sums (at most a few terms each) within float rounding. Skipped where
 * the addon is not built, unless SELFDPO_REQUIRE_NATIVE=1.
 */
const addon = loadNativeAddon();
const skip = typeof addon === 'string' && process.env['SELFDPO_REQUIRE_NATIVE'] !== '1' ? `native kernels unavailable: ${addon}` : false;

interface Result {
  shape: number[];
  dtype: string;
  data: number[];
}

/** f's value, with every tensor f makes disposed (tf.tidy itself takes only tensor results). */
function tidied<T>(f: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
}

function result(t: tf.Tensor): Result {
  return { shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync()) };
}

async function onBoth<T>(f: () => T): Promise<{ want: T; got: T }> {
  assert.ok(await tf.setBackend('cpu'));
  const want = f();
  assert.ok(await tf.setBackend('wasm'));
  const got = f();
  return { want, got };
}

test('native SplitV matches the cpu backend on every axis, with odd, size-1, empty and inferred pieces', { skip }, async () => {
  registerWasmKernels();
  assert.match(nativeKernelsStatus(), /^native kernels: OpenBLAS/);
  const cases: [number[], number | number[], number][] = [
    [[2, 5, 6, 8], [3, 5], 3], // a skip connection's gradient: channels
    [[16, 4, 4, 12], [6, 6], -1],
    [[6], 2, 0], // pairErrors: winners and losers
    [[4, 3, 2], 2, 0],
    [[3, 7, 5], [2, 4, 1], 1], // odd pieces in the middle of the shape
    [[4, 9], [2, -1, 3], 1], // an inferred piece
    [[1, 1, 1, 4], [1, 3], 3], // size-1 axes
    [[2, 3, 1], [1], 2], // one piece: a copy
    [[2, 3, 4], [0, 4], 2], // an empty piece
    [[0, 3, 4], [1, 3], 2], // an empty input
    [[2, 20], 20, 1], // more pieces than one native call takes: the built-in
  ];
  for (const [k, [shape, splits, axis]] of cases.entries()) {
    const xv = values(size(shape), 201 + k);
    const { want, got } = await onBoth(() => tidied(() => tf.split(tf.tensor(xv, shape), splits, axis).map(result)));
    assert.deepEqual(got, want, `x ${shape} split ${JSON.stringify(splits)} axis ${axis}`);
  }
  // int32 goes to the built-in; by hand: [[1, 2, 3], [4, 5, 6]] split into columns [1] and [2].
  assert.ok(await tf.setBackend('wasm'));
  tidied(() => {
    const [a, b] = tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [1, 2], 1) as [tf.Tensor, tf.Tensor];
    assert.deepEqual(result(a), { shape: [2, 1], dtype: 'int32', data: [1, 4] });
    assert.deepEqual(result(b), { shape: [2, 2], dtype: 'int32', data: [2, 3, 5, 6] });
  });
});

test("native SplitV is the gradient of a channel concat (the UNet's skip connections)", { skip }, async () => {
  registerWasmKernels();
  const a = values(2 * 4 * 4 * 3, 7);
  const b = values(2 * 4 * 4 * 5, 8);
  const dy = values(2 * 4 * 4 * 8, 9);
  const { want, got } = await onBoth(() =>
    tidied(() => {
      const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.concat([x, y], 3), tf.tensor4d(dy, [2, 4, 4, 8])));
      return tf
        .grads(f)([tf.tensor4d(a, [2, 4, 4, 3]), tf.tensor4d(b, [2, 4, 4, 5])])
        .map(result);
    }),
  );
  assert.deepEqual(got, want);
});

test('native GatherV2 matches the cpu backend: rows of a table, inner axes, batch dims, int32 values', { skip }, async () => {
  registerWasmKernels();
  const cases: [number[], 'float32' | 'int32', number[], number[], number, number][] = [
    // [x shape, x dtype, indices shape, index values, axis, batchDims]
    [[50, 7], 'float32', [3, 4], [0, 49, 3, 3, 17, 1, 0, 2, 8, 9, 48, 5], 0, 0], // an embedding lookup
    [[4, 6, 5], 'float32', [3], [5, 0, 2], 1, 0],
    [[4, 6, 5], 'float32', [2], [4, 4], -1, 0],
    [[2, 5, 3], 'float32', [2, 4], [0, 4, 1, 1, 3, 2, 2, 0], 1, 1], // a batch dim
    [[9, 3], 'int32', [5], [8, 0, 1, 8, 2], 0, 0],
    [[1, 1], 'float32', [1], [0], 0, 0], // size 1
    [[5, 1, 3], 'float32', [4], [4, 3, 2, 1], 0, 0], // a size-1 inner axis
    [[6, 4], 'float32', [0], [], 0, 0], // no indices
  ];
  for (const [k, [shape, dtype, ishape, ids, axis, batchDims]] of cases.entries()) {
    const xv = dtype === 'int32' ? Int32Array.from(values(size(shape), 301 + k), (v) => Math.round(1000 * v)) : values(size(shape), 301 + k);
    const { want, got } = await onBoth(() => tidied(() => result(tf.gather(tf.tensor(xv, shape, dtype), tf.tensor(ids, ishape, 'int32'), axis, batchDims))));
    assert.deepEqual(got, want, `x ${shape} ${dtype} indices ${ishape} axis ${axis} batchDims ${batchDims}`);
  }
  // An index outside the axis is refused, as by the built-in.
  assert.ok(await tf.setBackend('wasm'));
  assert.throws(() => tidied(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([1, 3], 'int32'))), /GatherV2: the index value 3 is not in \[0, 2\]/);
});

test('native nearest-neighbour resize and its gradient match the cpu backend at integer and fractional scales', { skip }, async (t) => {
  registerWasmKernels();
  const cases: [[number, number, number, number], [number, number], boolean, boolean][] = [
    // [images shape, size, alignCorners, halfPixelCenters]
    [[2, 4, 4, 3], [8, 8], false, false], // the UNet's 2x
    [[3, 16, 16, 5], [32, 32], false, false],
    [[1, 3, 5, 2], [7, 4], false, false], // up in one axis, down in the other
    [[2, 5, 5, 4], [2, 3], false, false], // down
    [[1, 3, 5, 2], [7, 4], true, false],
    [[1, 4, 3, 3], [7, 9], true, false],
    [[1, 3, 5, 2], [7, 4], false, true],
    [[2, 4, 4, 1], [8, 8], false, true],
    [[1, 1, 1, 1], [3, 3], false, false], // size-1 axes
    [[1, 1, 1, 3], [3, 1], false, false], // (with alignCorners the cpu backend's gradient never ends here: its search window is infinite)
    [[1, 2, 1, 3], [3, 1], true, false],
    [[2, 3, 3, 7], [3, 3], false, false], // the same size: a copy
  ];
  for (const [k, [shape, sz, alignCorners, halfPixelCenters]] of cases.entries()) {
    const xv = values(size(shape), 401 + k);
    const dyv = values(shape[0] * sz[0] * sz[1] * shape[3], 501 + k);
    const [n, , , c] = shape;
    // Forward and gradient of the whole batch at once.
    const whole = (): [Result, Float32Array] =>
      tidied(() => {
        const x = tf.tensor4d(xv, shape);
        const y = tf.image.resizeNearestNeighbor(x, sz, alignCorners, halfPixelCenters);
        const dy = tf.tensor4d(dyv, [n, sz[0], sz[1], c]);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, sz, alignCorners, halfPixelCenters), dy)))(x);
        return [result(y), dx.dataSync() as Float32Array];
      });
    // The cpu backend's gradient reads dy at the images' batch stride (tfjs 4.22), wrong for a
    // batch of more than one image, so the reference takes one image at a time.
    const perImage = (): [Result, Float32Array] =>
      tidied(() => {
        const xs = tf.split(tf.tensor4d(xv, shape), n);
        const dys = tf.split(tf.tensor4d(dyv, [n, sz[0], sz[1], c]), n);
        const y = tf.concat(xs.map((x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, sz, alignCorners, halfPixelCenters)));
        const dx = tf.concat(xs.map((x, i) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, sz, alignCorners, halfPixelCenters), dys[i] as tf.Tensor)))(x)));
        return [result(y), dx.dataSync() as Float32Array];
      });
    assert.ok(await tf.setBackend('cpu'));
    const want = perImage();
    assert.ok(await tf.setBackend('wasm'));
    const got = whole();
    const label = `${shape} -> ${sz} alignCorners ${alignCorners} halfPixelCenters ${halfPixelCenters}`;
    assert.deepEqual(got[0], want[0], `${label}: forward`);
    const err = relErr(got[1], want[1]);
    assert.ok(err < 1e-6, `${label}: gradient relative error ${err}`);
    t.diagnostic(`${label}: gradient ${err.toExponential(1)}`);
  }
  // By hand: [[1, 2], [3, 4]] enlarged 2x, and its gradient sums each 2x2 block of dy.
  assert.ok(await tf.setBackend('wasm'));
  tidied(() => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    assert.deepEqual(Array.from(tf.image.resizeNearestNeighbor(x, [4, 4]).dataSync()), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const dy = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 4, 4, 1]);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [4, 4]), dy)))(x);
    assert.deepEqual(Array.from(dx.dataSync()), [14, 22, 46, 54]);
  });
});

test('the copy kernels refuse offsets outside the wasm heap and indices outside the axis', { skip }, () => {
  assert.ok(typeof addon !== 'string');
  const heap = new ArrayBuffer(1024);
  // split a [4, 64] x at byte 0 into two [4, 32]: the second output at byte 900 runs past the heap.
  assert.throws(() => addon.splitRows(heap, Float64Array.from([4, 2, 0, 0, 32, 900, 32])), /an output \(byte offset 900, 128 floats\) is outside the wasm heap/);
  // gather 2 rows of a [4, 2] table: indices at byte 64 are [1, 7].
  const ints = new Int32Array(heap);
  ints[16] = 1;
  ints[17] = 7;
  assert.throws(() => addon.gatherSlices(heap, Float64Array.from([1, 1, 4, 2, 2, 0, 64, 128])), /gather index 7 \(position 1\) is not in \[0, 3\]/);
});
