import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { batchMatMulPerElement, builtinBatchMatMulWasm, registerWasmKernels } from '../../src/kernels/index.js';
import { Rng } from '../../src/util/rng.js';

// These test the XNNPACK kernels: keep the native OpenBLAS ones (nativeWasmKernels.test.ts) out.
process.env['SELFDPO_NATIVE'] = '0';

/** Max |a-b| / max |b|: float32 products summed in another order differ by rounding only. */
const TOL = 1e-6;

async function useWasm(): Promise<void> {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  assert.equal(tf.getBackend(), 'wasm');
}

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

/** a [..., m, k] · b [..., k, n] by loops in float64 (batch dims equal, none transposed). */
function loopMatMul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += (a[(z * m + i) * k + p] as number) * (b[(z * k + p) * n + j] as number);
        out[(z * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs((got[i] as number) - (want[i] as number)));
    m = Math.max(m, Math.abs(want[i] as number));
  }
  return m === 0 ? d : d / m;
}

/** Runs the built-in kernel directly on the active wasm backend. */
function builtinMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): Float32Array {
  const builtin = builtinBatchMatMulWasm();
  assert.ok(builtin !== undefined, 'registerWasmKernels keeps the built-in BatchMatMul');
  const backend = tf.backend();
  const out = builtin.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
  assert.ok(!Array.isArray(out));
  const v = backend.readSync(out.dataId) as Float32Array;
  backend.disposeData(out.dataId);
  return v;
}

test('BatchMatMul on wasm is our kernel, with the built-in kept for comparison', async () => {
  await useWasm();
  const k = tf.getKernel('BatchMatMul', 'wasm');
  assert.ok(k !== undefined && builtinBatchMatMulWasm() !== undefined);
  assert.notEqual(k.kernelFunc, builtinBatchMatMulWasm()?.kernelFunc);
});

// Attention's shapes in base-S (B·heads = 64; 8x8 and 4x4 positions, 17 text tokens), odd
// sizes, unit sizes, and rank 4 (two batch axes).
const CASES: Array<{ lead: number[]; m: number; k: number; n: number }> = [
  { lead: [2], m: 1, k: 1, n: 1 },
  { lead: [3], m: 5, k: 7, n: 3 },
  { lead: [4], m: 1, k: 9, n: 6 },
  { lead: [4], m: 6, k: 9, n: 1 },
  { lead: [64], m: 64, k: 24, n: 64 },
  { lead: [64], m: 64, k: 64, n: 24 },
  { lead: [64], m: 16, k: 48, n: 17 },
  { lead: [64], m: 17, k: 17, n: 32 },
  { lead: [2, 3], m: 8, k: 5, n: 11 },
];

for (const { lead, m, k, n } of CASES) {
  test(`BatchMatMul on wasm, [${lead}, ${m}, ${k}] x [${lead}, ${k}, ${n}]: equals the built-in and loops`, async () => {
    await useWasm();
    const batch = lead.reduce((x, y) => x * y, 1);
    const av = values(batch * m * k, 1 + m);
    const bv = values(batch * k * n, 2 + n);
    const a = tf.tensor(av, [...lead, m, k]);
    const b = tf.tensor(bv, [...lead, k, n]);
    const before = tf.memory().numTensors;
    const y = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
    assert.deepEqual(y.shape, [...lead, m, n]);
    const got = y.dataSync();
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.ok(relErr(got, builtinMatMul(a, b)) <= TOL, 'vs built-in');
    assert.ok(relErr(got, loopMatMul(av, bv, batch, m, k, n)) <= TOL, 'vs loops');
    tf.dispose([a, b]);
  });
}

test('BatchMatMul on wasm: a new b of the same shape is not served from a stale XNNPACK packing', async () => {
  await useWasm();
  const [batch, m, k, n] = [3, 4, 5, 6];
  const a = tf.tensor(values(batch * m * k, 11), [batch, m, k]) as tf.Tensor3D;
  for (let round = 0; round < 4; round++) {
    const bv = values(batch * k * n, 20 + round);
    const b = tf.tensor(bv, [batch, k, n]) as tf.Tensor3D;
    const y = tf.matMul(a, b);
    assert.ok(relErr(y.dataSync(), loopMatMul(a.dataSync() as Float32Array, bv, batch, m, k, n)) <= TOL, `round ${round}`);
    tf.dispose([b, y]);
  }
  // A variable assigned new values (as an optimizer does) likewise.
  const w = tf.variable(tf.tensor(values(batch * k * n, 30), [batch, k, n]));
  tf.matMul(a, w as tf.Tensor as tf.Tensor3D).dispose();
  const nv = values(batch * k * n, 31);
  w.assign(tf.tensor(nv, [batch, k, n]));
  const y = tf.matMul(a, w as tf.Tensor as tf.Tensor3D);
  assert.ok(relErr(y.dataSync(), loopMatMul(a.dataSync() as Float32Array, nv, batch, m, k, n)) <= TOL);
  tf.dispose([a, w, y]);
});

test('BatchMatMul on wasm: transposed inputs, broadcast batches and batch 1 go to the built-in, same results', async () => {
  await useWasm();
  const backend = tf.backend();
  const a = tf.tensor(values(3 * 4 * 5, 41), [3, 4, 5]);
  const b = tf.tensor(values(3 * 5 * 6, 42), [3, 5, 6]);
  const bT = tf.tensor(values(3 * 6 * 5, 43), [3, 6, 5]);
  const aT = tf.tensor(values(3 * 5 * 4, 44), [3, 5, 4]);
  const b1 = tf.tensor(values(5 * 6, 45), [1, 5, 6]);
  const a1 = tf.tensor(values(4 * 5, 46), [1, 4, 5]);
  const declined = (x: tf.Tensor, y: tf.Tensor, transposeA = false, transposeB = false): boolean =>
    batchMatMulPerElement({ inputs: { a: x, b: y }, backend, attrs: { transposeA, transposeB } }) === null;
  assert.ok(declined(a, bT, false, true));
  assert.ok(declined(aT, b, true, false));
  assert.ok(declined(a, b1));
  assert.ok(declined(a1, b1));
  const check = (x: tf.Tensor, y: tf.Tensor, transposeA: boolean, transposeB: boolean): void => {
    const got = tf.matMul(x, y, transposeA, transposeB);
    assert.ok(relErr(got.dataSync(), builtinMatMul(x, y, transposeA, transposeB)) <= TOL);
    got.dispose();
  };
  check(a, bT, false, true);
  check(aT, b, true, false);
  check(a, b1, false, false);
  check(a1, b1, false, false);
  tf.dispose([a, b, bT, aT, b1, a1]);
});

test('BatchMatMul on wasm: no tensors or backend data left behind over many calls', async () => {
  await useWasm();
  const backend = tf.backend() as BackendWasm;
  const a = tf.tensor(values(8 * 6 * 7, 51), [8, 6, 7]) as tf.Tensor3D;
  const b = tf.tensor(values(8 * 7 * 5, 52), [8, 7, 5]) as tf.Tensor3D;
  tf.matMul(a, b).dispose();
  const tensors = tf.memory().numTensors;
  const data = backend.numDataIds();
  for (let i = 0; i < 50; i++) tf.matMul(a, b).dispose();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), data);
  tf.dispose([a, b]);
});

test('attention-shaped gradients through matMul agree with the cpu backend', async () => {
  // The whole custom-gradient route (forward, both input gradients) on wasm vs cpu.
  const [batch, m, k, n] = [8, 16, 12, 17];
  const av = values(batch * m * k, 61);
  const bv = values(batch * k * n, 62);
  const dyv = values(batch * m * n, 63);
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const a = tf.tensor(av, [batch, m, k]);
      const b = tf.tensor(bv, [batch, k, n]);
      const dy = tf.tensor(dyv, [batch, m, n]);
      const f = (x: tf.Tensor, w: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, w as tf.Tensor3D), dy));
      return [tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), ...tf.grads(f)([a, b])].map((t) => Float32Array.from(t.dataSync()));
    });
  await useWasm();
  const wasm = run();
  assert.ok(await tf.setBackend('cpu'));
  const cpu = run();
  await useWasm();
  wasm.forEach((w, i) => assert.ok(relErr(w, cpu[i] as Float32Array) <= TOL, `output ${i}`));
});
