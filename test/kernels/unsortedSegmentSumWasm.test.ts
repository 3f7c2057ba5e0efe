import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from '../../src/kernels/index.js';
import { relErr, size, values } from './convTestUtil.js';

/** Tolerance of the gather-gradient comparison: max |a-b| / max |b| against cpu. */
const GRAD_TOL = 1e-6;

async function useWasm(): Promise<void> {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  assert.equal(tf.getBackend(), 'wasm');
}

/** tf.unsortedSegmentSum on the active backend: [shape, dtype, values]. */
function segSum(x: tf.Tensor, ids: number[], idShape: number[], numSegments: number): { shape: number[]; dtype: string; values: number[] } {
  const segmentIds = tf.tensor(ids, idShape, 'int32');
  try {
    const out = tf.unsortedSegmentSum(x, segmentIds as tf.Tensor1D, numSegments);
    const res = { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
    out.dispose();
    return res;
  } finally {
    // Also on a throw, so that the error-case test leaves nothing behind.
    segmentIds.dispose();
  }
}

test('UnsortedSegmentSum is registered for wasm', () => {
  registerWasmKernels();
  assert.ok(tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined);
});

test('UnsortedSegmentSum on wasm: hand-computed float32 case', async () => {
  await useWasm();
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const got = segSum(x, [1, 0, 1], [3], 3);
  assert.deepEqual(got, { shape: [3, 2], dtype: 'float32', values: [3, 4, 6, 8, 0, 0] });
  x.dispose();
});

test('UnsortedSegmentSum on wasm: int32 input keeps int32', async () => {
  await useWasm();
  const x = tf.tensor2d(
    [
      [1, -2],
      [30, 4],
      [5, 600],
    ],
    [3, 2],
    'int32',
  );
  const got = segSum(x, [2, 2, 0], [3], 3);
  // The cpu backend returns float32 here (it multiplies by a float mask); TensorFlow and
  // this kernel keep x's dtype.
  assert.deepEqual(got, { shape: [3, 2], dtype: 'int32', values: [5, 600, 0, 0, 31, 2] });
  x.dispose();
});

test('UnsortedSegmentSum on wasm: ids outside [0, numSegments) are dropped, as on cpu', async () => {
  const xv = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
    [9, 10],
  ];
  const ids = [-1, 3, 0, 2, 0];
  assert.ok(await tf.setBackend('cpu'));
  const xc = tf.tensor2d(xv);
  const want = segSum(xc, ids, [5], 3);
  xc.dispose();
  await useWasm();
  const xw = tf.tensor2d(xv);
  const got = segSum(xw, ids, [5], 3);
  xw.dispose();
  assert.deepEqual(got.values, [14, 16, 0, 0, 7, 8]);
  assert.deepEqual(got, want);
});

test('UnsortedSegmentSum on wasm: rank-2 segmentIds sum over both id axes', async () => {
  await useWasm();
  const x = tf.tensor3d([
    [
      [1, 2],
      [3, 4],
    ],
    [
      [5, 6],
      [7, 8],
    ],
  ]);
  const got = segSum(x, [0, 1, 1, 1], [2, 2], 3);
  // Output is [numSegments, ...x.shape.slice(2)] (TensorFlow's rule). The cpu backend
  // sums over the first id axis only and returns [3, 2, 2], so it is no reference here.
  assert.deepEqual(got, { shape: [3, 2], dtype: 'float32', values: [1, 2, 15, 18, 0, 0] });
  // Same as the flattened ids on the flattened x.
  const flat = x.reshape([4, 2]);
  assert.deepEqual(segSum(flat, [0, 1, 1, 1], [4], 3), got);
  tf.dispose([x, flat]);
});

test('UnsortedSegmentSum on wasm: numSegments 0, and ids that are not a prefix of x', async () => {
  await useWasm();
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(segSum(x, [0, 1], [2], 0), { shape: [0, 2], dtype: 'float32', values: [] });
  assert.throws(() => segSum(x, [0, 1, 1], [3], 2), /must be a non-empty prefix of x shape \[2,2\]/);
  x.dispose();
});

test('UnsortedSegmentSum on wasm: a NaN stays in its own segment', async () => {
  await useWasm();
  const x = tf.tensor2d([
    [NaN, 1],
    [2, 3],
  ]);
  const got = segSum(x, [0, 1], [2], 2);
  // The cpu backend computes sum(mask * x), so 0 * NaN spreads the NaN into every
  // segment; TensorFlow, like this kernel, keeps it where it belongs.
  assert.ok(Number.isNaN(got.values[0]));
  assert.deepEqual(got.values.slice(1), [1, 2, 3]);
  x.dispose();
});

interface GatherCase {
  table: [number, number];
  idx: number[];
  idxShape: number[];
  axis: number;
}

const gatherCases: GatherCase[] = [
  // Embedding lookup: repeated tokens, unused vocab rows, a [batch, seq] index.
  { table: [7, 5], idx: [3, 1, 3, 0, 6, 3, 1, 1, 0, 5, 3, 6], idxShape: [3, 4], axis: 0 },
  { table: [4, 6], idx: [5, 0, 5, 2, 5], idxShape: [5], axis: 1 },
];

/** d/dtable sum(gather(table, idx) * w) on the active backend. */
function gatherGrad(c: GatherCase, tv: Float32Array, wv: Float32Array, outShape: number[]): Float32Array {
  return tf.tidy(() => {
    const table = tf.tensor2d(tv, c.table);
    const idx = tf.tensor(c.idx, c.idxShape, 'int32');
    const w = tf.tensor(wv, outShape);
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, idx, c.axis).mul(w).sum());
    return g(table).dataSync() as Float32Array;
  });
}

test('tf.grad of tf.gather on wasm matches the cpu backend', async (t) => {
  for (const [i, c] of gatherCases.entries()) {
    const outShape = [...c.table.slice(0, c.axis), ...c.idxShape, ...c.table.slice(c.axis + 1)];
    const tv = values(size(c.table), 41 + i);
    const wv = values(size(outShape), 53 + i);
    assert.ok(await tf.setBackend('cpu'));
    const want = gatherGrad(c, tv, wv, outShape);
    await useWasm();
    const got = gatherGrad(c, tv, wv, outShape);
    const err = relErr(got, want);
    assert.ok(err < GRAD_TOL, `table=${c.table} axis=${c.axis}: relative error ${err}`);
    t.diagnostic(`table=${c.table} idx=${c.idxShape} axis=${c.axis}: ${err.toExponential(2)}`);
  }
});

test('tf.grad of tf.gather on wasm leaks no tensors or buffers', async () => {
  await useWasm();
  const c = gatherCases[0] as GatherCase;
  const table = tf.tensor2d(values(size(c.table), 71), c.table);
  const idx = tf.tensor(c.idx, c.idxShape, 'int32');
  const w = tf.tensor(values(size(c.idxShape) * c.table[1], 72), [...c.idxShape, c.table[1]]);
  const g = tf.grad((t: tf.Tensor) => tf.gather(t, idx).mul(w).sum());
  const step = (): void => {
    const d = g(table);
    d.dataSync();
    d.dispose();
  };
  step();
  const before = tf.memory();
  const beforeIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 5; i++) step();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  assert.equal(tf.engine().backend.numDataIds(), beforeIds);
  tf.dispose([table, idx, w]);
});
