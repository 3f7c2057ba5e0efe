import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../../src/kernels/nativeAddon.js';
import { registerWasmKernels } from '../../src/kernels/index.js';
import { attention, dense, groupNormSilu, layerNorm } from '../../src/model/layers.js';
import { fusedAttentionAvailable } from '../../src/model/fusedAttention.js';
import { fusedDenseAvailable } from '../../src/model/fusedDense.js';
import { fusedGroupNormAvailable } from '../../src/model/fusedGroupNorm.js';
import { fusedLayerNormAvailable } from '../../src/model/fusedLayerNorm.js';
import { Params, Scope } from '../../src/model/params.js';
import { relErr, size, TOL, values } from './convTestUtil.js';

/**
 * The fused layer kernels (src/kernels/nativeLayerKernels.ts: dense, attention, layer norm; and
 * the group norm's shift), run
 * through src/model/layers.ts on wasm, against the same layers composed of tfjs ops on the cpu
 * backend: outputs and the gradients of sum(layer · dy) with respect to every input. Skipped
 * where the addon is not built, unless SELFDPO_REQUIRE_NATIVE=1.
 */
const addon = loadNativeAddon();
const skip = typeof addon === 'string' && process.env['SELFDPO_REQUIRE_NATIVE'] !== '1' ? `native kernels unavailable: ${addon}` : false;

/** relErr, or, where the reference is all zero (one key: the softmax is constant, so q and k get no gradient), the largest |value|. */
function errOf(got: Float32Array, want: Float32Array): number {
  return want.some((x) => x !== 0) ? relErr(got, want) : got.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

/** f on the cpu backend (the composed layers) and on wasm (the fused ones). */
async function cpuAndWasm(f: () => Float32Array[], fused: () => boolean): Promise<{ want: Float32Array[]; got: Float32Array[] }> {
  assert.ok(await tf.setBackend('cpu'));
  assert.equal(fused(), false);
  const want = f();
  assert.ok(await tf.setBackend('wasm'));
  assert.equal(fused(), true);
  const got = f();
  return { want, got };
}

test('the fused dense layer and its gradients match the composed one on the cpu backend', { skip }, async (t) => {
  registerWasmKernels();
  const cases: [number[], number, boolean][] = [
    // [x shape, cout, bias]
    [[5, 7], 3, true],
    [[2, 4, 6], 5, false], // [B, N, C] as the attention projections
    [[16, 17, 128], 96, false], // a cross-attention key projection of base-S
    [[16, 256], 192, true], // a res block's embedding projection
    [[3, 1], 4, true], // one input channel
    [[2, 3, 5], 1, true], // one output channel
    [[1, 1], 1, true],
  ];
  for (const [i, [shape, cout, bias]] of cases.entries()) {
    const cin = shape[shape.length - 1] as number;
    const xv = values(size(shape), 601 + i);
    const wv = values(cin * cout, 611 + i);
    const bv = values(cout, 621 + i);
    const dyv = values((size(shape) / cin) * cout, 631 + i);
    const run = (): Float32Array[] => {
      const params = new Params(0);
      const scope = new Scope(params, 'd/');
      const x = tf.tensor(xv, shape);
      tf.tidy(() => dense(scope, x, cout, undefined, bias)); // creates w (and b)
      params.variable('d/w').assign(tf.tensor2d(wv, [cin, cout]));
      if (bias) params.variable('d/b').assign(tf.tensor1d(bv));
      const out = tf.tidy(() => {
        const dy = tf.tensor(dyv, [...shape.slice(0, -1), cout]);
        const f = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(dense(scope, a, cout, undefined, bias), dy));
        const { grads } = tf.variableGrads(() => f(x));
        const results = [dense(scope, x, cout, undefined, bias), tf.grad(f)(x), grads[params.variable('d/w').name] as tf.Tensor];
        if (bias) results.push(grads[params.variable('d/b').name] as tf.Tensor);
        return results.map((r) => r.dataSync() as Float32Array);
      });
      x.dispose();
      params.dispose();
      return out;
    };
    const { want, got } = await cpuAndWasm(run, fusedDenseAvailable);
    const errs = got.map((g, k) => relErr(g, want[k] as Float32Array));
    for (const [k, err] of errs.entries()) assert.ok(err < 1e-5, `x ${shape} cout ${cout} bias ${bias}: ${['y', 'dx', 'dw', 'db'][k]} relative error ${err}`);
    t.diagnostic(`x ${shape} cout ${cout} bias ${bias}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
  }
});

test('fused attention and its gradients (q, k, v, key bias) match the composed one on the cpu backend', { skip }, async (t) => {
  registerWasmKernels();
  const cases: [number, number, number, number, number, boolean][] = [
    // [B, Nq, Nk, C, heads, key bias]
    [2, 5, 7, 12, 3, false],
    [2, 5, 7, 12, 3, true],
    [3, 16, 16, 48, 4, false], // base-S's 4x4 self-attention, narrower
    [2, 64, 17, 24, 4, true], // cross-attention to a caption's 17 tokens
    [2, 17, 17, 32, 4, true], // the text encoder
    [1, 1, 1, 4, 1, false], // one query, one key
    [1, 1, 3, 4, 2, true],
    [2, 3, 4, 8, 8, false], // one channel per head
  ];
  for (const [i, [B, Nq, Nk, C, heads, withBias]] of cases.entries()) {
    const qv = values(B * Nq * C, 701 + i).map((v) => 2 * v);
    const kv = values(B * Nk * C, 711 + i).map((v) => 2 * v);
    const vv = values(B * Nk * C, 721 + i);
    const dyv = values(B * Nq * C, 731 + i);
    // A padded caption's bias: 0 for the first keys of each row, -1e9 after (the first key always kept).
    const biasv = Float32Array.from({ length: B * Nk }, (_, j) => ((j % Nk) * (B + 1) > (j / Nk + 1) * Nk ? -1e9 : 0.25 * (values(1, j)[0] as number)));
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const q = tf.tensor3d(qv, [B, Nq, C]);
        const k = tf.tensor3d(kv, [B, Nk, C]);
        const v = tf.tensor3d(vv, [B, Nk, C]);
        const bias = tf.tensor2d(biasv, [B, Nk]);
        const dy = tf.tensor3d(dyv, [B, Nq, C]);
        const inputs = withBias ? [q, k, v, bias] : [q, k, v];
        const f = (...xs: tf.Tensor[]): tf.Tensor => tf.sum(tf.mul(attention(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor3D, heads, withBias ? (xs[3] as tf.Tensor2D) : null), dy));
        const y = attention(q, k, v, heads, withBias ? bias : null);
        return [y, ...tf.grads(f)(inputs)].map((r) => r.dataSync() as Float32Array);
      });
    const { want, got } = await cpuAndWasm(run, fusedAttentionAvailable);
    const errs = got.map((g, k) => errOf(g, want[k] as Float32Array));
    const label = `B ${B} Nq ${Nq} Nk ${Nk} C ${C} heads ${heads} bias ${withBias}`;
    for (const [k, err] of errs.entries()) assert.ok(err < TOL, `${label}: ${['y', 'dq', 'dk', 'dv', 'dbias'][k]} relative error ${err}`);
    t.diagnostic(`${label}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
  }
});

test('the fused layer norm and its gradients match the composed one on the cpu backend', { skip }, async (t) => {
  registerWasmKernels();
  const cases: [number[], number][] = [
    // [x shape, offset]: an offset of 40 (spread about 1) checks the variance does not cancel
    [[4, 6], 0],
    [[16, 16, 192], 0], // base-S's cross-attention norm at 4x4
    [[8, 17, 128], 0], // the text encoder
    [[2, 3, 5], 40],
    [[3, 1], 0], // one channel: every row normalises to 0, so only beta shows and x gets no gradient
    [[1, 7], 0],
  ];
  for (const [i, [shape, offset]] of cases.entries()) {
    const C = shape[shape.length - 1] as number;
    const xv = values(size(shape), 801 + i).map((v, k) => offset + v + 0.1 * (k % 3));
    const gv = values(C, 811 + i).map((v) => 1 + v);
    const bv = values(C, 821 + i);
    const dyv = values(size(shape), 831 + i);
    const run = (): Float32Array[] => {
      const params = new Params(0);
      const scope = new Scope(params, 'ln/');
      const x = tf.tensor(xv, shape);
      tf.tidy(() => layerNorm(scope, x)); // creates scale and shift
      params.variable('ln/scale').assign(tf.tensor1d(gv));
      params.variable('ln/shift').assign(tf.tensor1d(bv));
      const out = tf.tidy(() => {
        const dy = tf.tensor(dyv, shape);
        const f = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layerNorm(scope, a), dy));
        const { grads } = tf.variableGrads(() => f(x));
        return [layerNorm(scope, x), tf.grad(f)(x), grads[params.variable('ln/scale').name] as tf.Tensor, grads[params.variable('ln/shift').name] as tf.Tensor].map(
          (r) => r.dataSync() as Float32Array,
        );
      });
      x.dispose();
      params.dispose();
      return out;
    };
    const { want, got } = await cpuAndWasm(run, fusedLayerNormAvailable);
    const errs = got.map((g, k) => errOf(g, want[k] as Float32Array));
    for (const [k, err] of errs.entries()) assert.ok(err < TOL, `x ${shape} offset ${offset}: ${['y', 'dx', 'dscale', 'dshift'][k]} error ${err}`);
    t.diagnostic(`x ${shape} offset ${offset}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
  }
});

test("the fused group norm + SiLU of x + a per-image shift (a res block's embedding) and its gradients match the composed one on the cpu backend", { skip }, async (t) => {
  registerWasmKernels();
  const cases: [[number, number, number, number], number][] = [
    [[2, 5, 6, 8], 4],
    [[3, 8, 8, 48], 8], // base-S's 8x8 level, narrower batch
    [[2, 4, 4, 192], 8],
    [[1, 1, 1, 16], 2], // one pixel (groups of 8 values: with 2, dx is nearly all cancellation, in either implementation)
    [[2, 3, 5, 6], 6], // one channel per group
  ];
  for (const [i, [shape, groups]] of cases.entries()) {
    const [B, , , C] = shape;
    const xv = values(size(shape), 901 + i).map((v, k) => 2 * v + (k % 3));
    const addv = values(B * C, 911 + i).map((v) => 3 * v);
    const gv = values(C, 921 + i).map((v) => 1 + v);
    const bv = values(C, 931 + i);
    const dyv = values(size(shape), 941 + i);
    const run = (): Float32Array[] => {
      const params = new Params(0);
      const scope = new Scope(params, 'gn/');
      const x = tf.tensor4d(xv, shape);
      const add = tf.tensor2d(addv, [B, C]);
      tf.tidy(() => groupNormSilu(scope, x, groups, 1e-5, add)); // creates scale and shift
      params.variable('gn/scale').assign(tf.tensor1d(gv));
      params.variable('gn/shift').assign(tf.tensor1d(bv));
      const out = tf.tidy(() => {
        const dy = tf.tensor4d(dyv, shape);
        const f = (a: tf.Tensor, e: tf.Tensor): tf.Scalar => tf.sum(tf.mul(groupNormSilu(scope, a as tf.Tensor4D, groups, 1e-5, e as tf.Tensor2D), dy));
        const { grads } = tf.variableGrads(() => f(x, add));
        const [dx, dadd] = tf.grads(f)([x, add]) as [tf.Tensor, tf.Tensor];
        return [groupNormSilu(scope, x, groups, 1e-5, add), dx, dadd, grads[params.variable('gn/scale').name] as tf.Tensor, grads[params.variable('gn/shift').name] as tf.Tensor].map(
          (r) => r.dataSync() as Float32Array,
        );
      });
      tf.dispose([x, add]);
      params.dispose();
      return out;
    };
    const { want, got } = await cpuAndWasm(run, fusedGroupNormAvailable);
    // dadd sums dx over the pixels; with one channel per group it is zero (the shift cancels in
    // x - mean) up to rounding, so its error is measured against the scale of dx as well.
    const maxAbs = (a: Float32Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const errs = got.map((g, k) =>
      k === 2 ? maxAbs(g.map((x, e) => x - ((want[2] as Float32Array)[e] as number))) / Math.max(maxAbs(want[2] as Float32Array), maxAbs(want[1] as Float32Array)) : errOf(g, want[k] as Float32Array),
    );
    for (const [k, err] of errs.entries()) assert.ok(err < TOL, `${shape} G=${groups}: ${['y', 'dx', 'dadd', 'dscale', 'dshift'][k]} error ${err}`);
    t.diagnostic(`${shape} G=${groups}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
  }
});
