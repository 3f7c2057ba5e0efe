import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { attention, conv, countFlops, dense, groupNorm, layerNorm, maskToBias, silu, timestepEmbedding } from '../../src/model/layers.js';
import { matMul, matMulTransposeB } from '../../src/model/matMul.js';
import { setNativeKernels } from '../../src/kernels/index.js';
import { Params, Scope } from '../../src/model/params.js';
import { Rng } from '../../src/util/rng.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs ${e}`);
  }
}

/** Batched matmul by loops: a [N,m,k] · b [N,k,n] -> [N,m,n]; transA/transB read a or b transposed. */
function jsMatMul(a: Float32Array, b: Float32Array, N: number, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const out = new Float64Array(N * m * n);
  for (let z = 0; z < N; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[z * k * m + p * m + i] : a[z * m * k + i * k + p];
          const bv = transB ? b[z * n * k + j * k + p] : b[z * k * n + p * n + j];
          s += (av as number) * (bv as number);
        }
        out[z * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

for (const [rank, native] of [
  [2, true],
  [3, true],
  [2, false],
  [3, false],
] as const) {
  // With the native kernels off, wasm takes matMul's explicit-transpose path (its own gradient).
  test(`matMul matches tf.matMul and loops in value and gradients, rank ${rank}, native kernels ${native ? 'on where built' : 'off'}`, (t) => {
    setNativeKernels(native);
    t.after(() => setNativeKernels(true));
    const N = rank === 2 ? 1 : 2;
    const [m, k, n] = [3, 4, 5];
    const lead = rank === 2 ? [] : [N];
    const av = randomValues(N * m * k, 1);
    const bv = randomValues(N * k * n, 2);
    const dyv = randomValues(N * m * n, 3);
    const a = tf.tensor(av, [...lead, m, k]);
    const b = tf.tensor(bv, [...lead, k, n]);
    const dy = tf.tensor(dyv, [...lead, m, n]);
    const mine = tf.tidy(() => {
      const y = matMul(a, b);
      const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(matMul(x, w), dy)))([a, b]);
      return [y, ...g].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    });
    const theirs = tf.tidy(() => {
      const y = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
      const g = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, w as tf.Tensor3D), dy)))([a, b]);
      return [y, ...g].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    });
    const [y, da, db] = mine as [(typeof mine)[0], (typeof mine)[0], (typeof mine)[0]];
    assert.deepEqual(y.shape, [...lead, m, n]);
    assert.deepEqual(da.shape, [...lead, m, k]);
    assert.deepEqual(db.shape, [...lead, k, n]);
    mine.forEach((t, i) => assertClose(t.data, (theirs[i] as (typeof theirs)[0]).data, 1e-5, `vs tf.matMul output ${i}`));
    // Loops: y = a·b, dL/da = dy·bᵀ, dL/db = aᵀ·dy.
    assertClose(y.data, jsMatMul(av, bv, N, m, k, n), 1e-5, 'y');
    assertClose(da.data, jsMatMul(dyv, bv, N, m, n, k, false, true), 1e-5, 'da');
    assertClose(db.data, jsMatMul(av, dyv, N, k, m, n, true, false), 1e-5, 'db');
    // a·(bᵀ)ᵀ through matMulTransposeB: the same product and gradients.
    const viaT = tf.tidy(() => {
      const bT = tf.tensor(bv, [...lead, k, n]);
      const bt = rank === 2 ? bT.transpose() : bT.transpose([0, 2, 1]);
      const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => tf.sum(tf.mul(matMulTransposeB(x, w), dy));
      const [ga, gbt] = tf.grads(f)([a, bt]) as [tf.Tensor, tf.Tensor];
      const gb = rank === 2 ? gbt.transpose() : gbt.transpose([0, 2, 1]);
      return [matMulTransposeB(a, bt), ga, gb].map((x) => Float32Array.from(x.dataSync()));
    });
    viaT.forEach((d, i) => assertClose(d, (mine[i] as (typeof mine)[0]).data, 1e-5, `matMulTransposeB output ${i}`));
    tf.dispose([a, b, dy]);
  });
}

test('groupNorm on [1,2,2,4] with 2 groups matches a hand-written group norm, with scale and shift', () => {
  const [B, H, W, C, G] = [1, 2, 2, 4, 2];
  const xv = Float32Array.from({ length: B * H * W * C }, (_, i) => ((i * 7) % 11) - 3 + 0.25 * i);
  const reference = (scale: number[], shift: number[]): number[] => {
    const out = new Array<number>(xv.length);
    const per = C / G;
    for (let g = 0; g < G; g++) {
      const idx: number[] = [];
      for (let p = 0; p < H * W; p++) for (let c = g * per; c < (g + 1) * per; c++) idx.push(p * C + c);
      const mean = idx.reduce((s, i) => s + (xv[i] as number), 0) / idx.length;
      const variance = idx.reduce((s, i) => s + ((xv[i] as number) - mean) ** 2, 0) / idx.length;
      for (const i of idx) out[i] = (((xv[i] as number) - mean) / Math.sqrt(variance + 1e-5)) * (scale[i % C] as number) + (shift[i % C] as number);
    }
    return out;
  };
  const params = new Params(0);
  const scope = new Scope(params, 'gn/');
  const x = tf.tensor4d(xv, [B, H, W, C]);
  const y0 = tf.tidy(() => groupNorm(scope, x, G));
  assertClose(y0.dataSync(), reference([1, 1, 1, 1], [0, 0, 0, 0]), 1e-4, 'fresh');
  assert.deepEqual(params.names.sort(), ['gn/scale', 'gn/shift']);
  const scale = [2, -1, 0.5, 3];
  const shift = [0.1, 0.2, -0.3, 4];
  params.variable('gn/scale').assign(tf.tensor1d(scale));
  params.variable('gn/shift').assign(tf.tensor1d(shift));
  const y1 = tf.tidy(() => groupNorm(scope, x, G));
  assertClose(y1.dataSync(), reference(scale, shift), 1e-4, 'scaled');
  assert.throws(() => groupNorm(new Scope(new Params(0)), x, 3), /4 channels do not split into 3 groups/);
  tf.dispose([x, y0, y1]);
  params.dispose();
});

test('layerNorm over the last axis matches a hand-written layer norm', () => {
  const shape = [2, 3, 4];
  const C = 4;
  const xv = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3 + (i % 5));
  const scale = [1.5, -2, 0.25, 1];
  const shift = [0, 1, -1, 0.5];
  const expected: number[] = [];
  for (let r = 0; r < xv.length / C; r++) {
    const row = Array.from(xv.subarray(r * C, (r + 1) * C));
    const mean = row.reduce((s, v) => s + v, 0) / C;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / C;
    row.forEach((v, c) => expected.push(((v - mean) / Math.sqrt(variance + 1e-5)) * (scale[c] as number) + (shift[c] as number)));
  }
  const params = new Params(0);
  const scope = new Scope(params);
  const x = tf.tensor3d(xv, shape as [number, number, number]);
  tf.dispose(tf.tidy(() => layerNorm(scope, x)));
  params.variable('scale').assign(tf.tensor1d(scale));
  params.variable('shift').assign(tf.tensor1d(shift));
  const y = tf.tidy(() => layerNorm(scope, x));
  assert.deepEqual(y.shape, shape);
  assertClose(y.dataSync(), expected, 1e-4, 'layerNorm');
  tf.dispose([x, y]);
  params.dispose();
});

test('timestepEmbedding: cosines then sines, frequencies 10000^(-i/half)', () => {
  const e = timestepEmbedding([0, 1, 100], 4);
  assert.deepEqual(e.shape, [3, 4]);
  const v = e.dataSync();
  // half = 2, frequencies 1 and 10000^(-1/2) = 0.01.
  assertClose(v.subarray(0, 4), [1, 1, 0, 0], 0, 't=0');
  assertClose(v.subarray(4, 8), [0.5403023059, 0.9999500004, 0.8414709848, 0.0099998333], 1e-7, 't=1');
  // t=100: angles 100 and 1.
  assertClose(v.subarray(8, 12), [0.8623188723, 0.5403023059, -0.5063656411, 0.8414709848], 1e-6, 't=100');
  e.dispose();
  // dim 6: half = 3, frequencies 1, 10000^(-1/3) = 0.0464158883, 10000^(-2/3) = 0.0021544347.
  const e6 = timestepEmbedding([1], 6);
  assertClose(e6.dataSync(), [Math.cos(1), Math.cos(0.0464158883), Math.cos(0.0021544347), Math.sin(1), Math.sin(0.0464158883), Math.sin(0.0021544347)], 1e-7, 'dim 6');
  e6.dispose();
});

/** Multi-head attention by loops. q [B,Nq,C], k/v [B,Nk,C], bias [B,Nk] or null. */
function jsAttention(q: Float32Array, k: Float32Array, v: Float32Array, B: number, Nq: number, Nk: number, C: number, heads: number, bias: number[] | null): number[] {
  const d = C / heads;
  const out = new Array<number>(B * Nq * C).fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < Nq; i++) {
        const logits: number[] = [];
        for (let j = 0; j < Nk; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += (q[(b * Nq + i) * C + h * d + c] as number) * (k[(b * Nk + j) * C + h * d + c] as number);
          logits.push(s / Math.sqrt(d) + (bias ? (bias[b * Nk + j] as number) : 0));
        }
        const mx = Math.max(...logits);
        const ex = logits.map((l) => Math.exp(l - mx));
        const z = ex.reduce((s, e) => s + e, 0);
        for (let j = 0; j < Nk; j++) {
          for (let c = 0; c < d; c++) out[(b * Nq + i) * C + h * d + c]! += ((ex[j] as number) / z) * (v[(b * Nk + j) * C + h * d + c] as number);
        }
      }
    }
  }
  return out;
}

test('attention matches a loop reference with 2 heads and a key bias', () => {
  const [B, Nq, Nk, C, heads] = [2, 3, 4, 4, 2];
  const qv = randomValues(B * Nq * C, 11).map((x) => 2 * x);
  const kv = randomValues(B * Nk * C, 12).map((x) => 2 * x);
  const vv = randomValues(B * Nk * C, 13);
  const bias = [0, -0.5, 1, 0, 0.3, 0, 0, -2];
  const out = tf.tidy(() => attention(tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(kv, [B, Nk, C]), tf.tensor3d(vv, [B, Nk, C]), heads, tf.tensor2d(bias, [B, Nk])));
  assert.deepEqual(out.shape, [B, Nq, C]);
  assertClose(out.dataSync(), jsAttention(qv, kv, vv, B, Nq, Nk, C, heads, bias), 1e-5, 'with bias');
  const noBias = tf.tidy(() => attention(tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(kv, [B, Nk, C]), tf.tensor3d(vv, [B, Nk, C]), heads, null));
  assertClose(noBias.dataSync(), jsAttention(qv, kv, vv, B, Nq, Nk, C, heads, null), 1e-5, 'no bias');
  // Heads matter: one head over the same width gives another answer.
  const oneHead = jsAttention(qv, kv, vv, B, Nq, Nk, C, 1, null);
  assert.ok(Array.from(noBias.dataSync()).some((x, i) => Math.abs(x - (oneHead[i] as number)) > 1e-3));
  tf.dispose([out, noBias]);
  assert.throws(() => tf.tidy(() => attention(tf.zeros([1, 2, 6]), tf.zeros([1, 2, 6]), tf.zeros([1, 2, 6]), 4, null)), /width 6 does not split into 4 heads/);
});

test('attention with one key returns v for every query', () => {
  const [B, Nq, C] = [2, 3, 4];
  const qv = randomValues(B * Nq * C, 21).map((x) => 5 * x);
  const kv = randomValues(B * C, 22);
  const vv = Float32Array.from([1, -2, 3, 0.5, 7, 8, -9, 10]);
  const out = tf.tidy(() => attention(tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(kv, [B, 1, C]), tf.tensor3d(vv, [B, 1, C]), 2, null));
  const expected: number[] = [];
  for (let b = 0; b < B; b++) for (let i = 0; i < Nq; i++) expected.push(...vv.subarray(b * C, (b + 1) * C));
  assertClose(out.dataSync(), expected, 1e-6, 'one key');
  out.dispose();
});

test('a masked key (bias -1e9, from maskToBias) gets no weight', () => {
  const [B, Nq, Nk, C, heads] = [1, 2, 3, 4, 2];
  const qv = randomValues(B * Nq * C, 31).map((x) => 3 * x);
  const kv = randomValues(B * Nk * C, 32).map((x) => 3 * x);
  // The masked key's value is huge, so any weight on it would show.
  const vv = Float32Array.from([1, 2, 3, 4, 1000, -1000, 1000, -1000, 5, 6, 7, 8]);
  const bias = tf.tidy(() => maskToBias(tf.tensor2d([1, 0, 1], [1, 3])));
  assertClose(bias.dataSync(), [0, Math.fround(-1e9), 0], 0, 'maskToBias');
  const masked = tf.tidy(() => attention(tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(kv, [B, Nk, C]), tf.tensor3d(vv, [B, Nk, C]), heads, bias));
  const keep = (a: Float32Array): Float32Array => Float32Array.from([...a.subarray(0, C), ...a.subarray(2 * C, 3 * C)]);
  const onlyKept = tf.tidy(() => attention(tf.tensor3d(qv, [B, Nq, C]), tf.tensor3d(keep(kv), [B, 2, C]), tf.tensor3d(keep(vv), [B, 2, C]), heads, null));
  assertClose(masked.dataSync(), onlyKept.dataSync(), 1e-5, 'masked vs kept keys only');
  assertClose(masked.dataSync(), jsAttention(qv, keep(kv), keep(vv), B, Nq, 2, C, heads, null), 1e-5, 'vs loops over kept keys');
  tf.dispose([bias, masked, onlyKept]);
});

test('silu is x·sigmoid(x)', () => {
  const y = tf.tidy(() => silu(tf.tensor1d([0, 1, -2])));
  assertClose(y.dataSync(), [0, 0.7310585786, -2 / (1 + Math.exp(2))], 1e-6, 'silu');
  y.dispose();
});

test('dense computes x·W + b over the last axis', () => {
  const params = new Params(4);
  const scope = new Scope(params);
  const xv = randomValues(2 * 3 * 4, 41);
  const x = tf.tensor3d(xv, [2, 3, 4]);
  tf.dispose(tf.tidy(() => dense(scope, x, 5)));
  const bv = [0.1, -0.2, 0.3, 0, 1];
  params.variable('b').assign(tf.tensor1d(bv));
  const wv = params.variable('w').dataSync() as Float32Array;
  const y = tf.tidy(() => dense(scope, x, 5));
  assert.deepEqual(y.shape, [2, 3, 5]);
  const expected = Array.from(jsMatMul(xv, wv, 1, 6, 4, 5), (s, i) => s + (bv[i % 5] as number));
  assertClose(y.dataSync(), expected, 1e-5, 'dense');
  tf.dispose([x, y]);
  params.dispose();
});

test('countFlops: 2·m·k·n for a dense, 2·outputSize·k²·Cin for a conv, 4·B·Nq·Nk·C for attention', () => {
  const params = new Params(0);
  const scope = new Scope(params);
  assert.equal(
    countFlops(() => dense(scope.child('d'), tf.zeros([3, 4]), 5)),
    2 * 3 * 4 * 5,
  );
  // Leading axes are flattened: [2,3,4] is 6 rows.
  assert.equal(
    countFlops(() => dense(scope.child('d'), tf.zeros([2, 3, 4]), 5)),
    2 * 6 * 4 * 5,
  );
  // 'same' 3x3 conv, [1,4,4,2] -> [1,4,4,3]: output size 48.
  assert.equal(
    countFlops(() => conv(scope.child('c'), tf.zeros([1, 4, 4, 2]), 3)),
    2 * 48 * 9 * 2,
  );
  // stride 2 -> [2,2,2,3]: output size 24 for a batch of 2.
  assert.equal(
    countFlops(() => conv(scope.child('c2'), tf.zeros([2, 4, 4, 2]), 3, 3, 2)),
    2 * 24 * 9 * 2,
  );
  // 1x1 conv: 2·outputSize·Cin.
  assert.equal(
    countFlops(() => conv(scope.child('c3'), tf.zeros([1, 4, 4, 2]), 3, 1)),
    2 * 48 * 2,
  );
  // Two layers add up; attention is two matmuls of 2·B·Nq·Nk·C each.
  assert.equal(
    countFlops(() => {
      dense(scope.child('d'), tf.zeros([3, 4]), 5);
      dense(scope.child('d'), tf.zeros([3, 4]), 5);
    }),
    240,
  );
  assert.equal(
    countFlops(() => attention(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 4]), tf.zeros([2, 5, 4]), 2, null)),
    4 * 2 * 3 * 5 * 4,
  );
  // Work outside countFlops is not counted into the next call.
  tf.dispose(tf.tidy(() => dense(scope.child('d'), tf.zeros([3, 4]), 5)));
  assert.equal(
    countFlops(() => undefined),
    0,
  );
  // No tensors survive countFlops (it runs fn in a tidy); only the parameters it created.
  const before = tf.memory().numTensors;
  countFlops(() => {
    conv(scope.child('c'), tf.zeros([1, 4, 4, 2]), 3);
  });
  assert.equal(tf.memory().numTensors, before);
  params.dispose();
});
