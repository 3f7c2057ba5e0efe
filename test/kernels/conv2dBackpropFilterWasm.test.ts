import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from '../../src/kernels/index.js';
import { relErr, size, TOL, values, type Pad, type Shape4 } from './convTestUtil.js';

// These test the XNNPACK kernels: keep the native OpenBLAS ones (nativeWasmKernels.test.ts) out.
process.env['SELFDPO_NATIVE'] = '0';

interface Case {
  family: 'same' | 'valid' | 'explicit' | 'dilated';
  x: Shape4;
  kernel: [number, number];
  outChannels: number;
  strides: number | [number, number];
  pad: Pad;
  dilation?: number;
}

/** dy's shape for a case, from tfjs's own shape rules. */
function outShape(c: Case): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.kernel[0], c.kernel[1], c.x[3], c.outChannels], c.strides, c.dilation ?? 1, c.pad);
  return info.outShape as Shape4;
}

/** The filter gradient through tf.grad of conv2d, on the active backend. */
function filterGradViaGrad(c: Case, xv: Float32Array, fv: Float32Array, dyv: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const f = tf.tensor4d(fv, [c.kernel[0], c.kernel[1], c.x[3], c.outChannels]);
    const dy = tf.tensor4d(dyv, outShape(c));
    // d/dW sum(conv(x, W) * dy) = Conv2DBackpropFilter(x, dy).
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.strides, c.pad as 'same'), dy)));
    return g(f).dataSync() as Float32Array;
  });
}

/** Our kernel called directly, with a dilation attr that tfjs's conv2d gradient never passes. */
function filterGradDirect(c: Case, xv: Float32Array, dyv: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const dy = tf.tensor4d(dyv, outShape(c));
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      dilations: c.dilation ?? 1,
      filterShape: [c.kernel[0], c.kernel[1], c.x[3], c.outChannels],
    };
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap);
    return (out as tf.Tensor).dataSync() as Float32Array;
  });
}

/**
 * cpu reference for a dilated filter: a conv with dilation d equals a dense conv with the
 * filter spread out by zeros, so the gradient is the dense filter gradient taken at
 * every d-th tap.
 */
function dilatedReference(c: Case, xv: Float32Array, dyv: Float32Array): Float32Array {
  const d = c.dilation ?? 1;
  const [kh, kw] = c.kernel;
  const ekh = (kh - 1) * d + 1;
  const ekw = (kw - 1) * d + 1;
  const dense: Case = { ...c, kernel: [ekh, ekw], dilation: 1 };
  const full = filterGradViaGrad(dense, xv, new Float32Array(size([ekh, ekw, c.x[3], c.outChannels])), dyv);
  const ci = c.x[3];
  const co = c.outChannels;
  const out = new Float32Array(kh * kw * ci * co);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * d * ekw + j * d) * ci * co;
      out.set(full.subarray(src, src + ci * co), (i * kw + j) * ci * co);
    }
  }
  return out;
}

const cases: Case[] = [
  { family: 'valid', x: [1, 5, 7, 1], kernel: [1, 1], outChannels: 1, strides: 1, pad: 'valid' },
  { family: 'same', x: [3, 6, 9, 4], kernel: [1, 1], outChannels: 5, strides: 2, pad: 'same' },
  { family: 'valid', x: [3, 7, 6, 2], kernel: [1, 1], outChannels: 3, strides: 2, pad: 'valid' },
  { family: 'same', x: [3, 7, 5, 3], kernel: [3, 3], outChannels: 8, strides: 1, pad: 'same' },
  { family: 'same', x: [1, 8, 6, 16], kernel: [3, 3], outChannels: 16, strides: 2, pad: 'same' },
  { family: 'same', x: [1, 9, 7, 5], kernel: [3, 3], outChannels: 4, strides: 2, pad: 'same' },
  { family: 'valid', x: [3, 9, 7, 2], kernel: [3, 3], outChannels: 3, strides: 2, pad: 'valid' },
  { family: 'valid', x: [1, 6, 10, 12], kernel: [3, 3], outChannels: 7, strides: 1, pad: 'valid' },
  { family: 'same', x: [1, 8, 10, 5], kernel: [4, 4], outChannels: 6, strides: 1, pad: 'same' },
  { family: 'same', x: [3, 9, 8, 3], kernel: [4, 4], outChannels: 2, strides: 2, pad: 'same' },
  { family: 'valid', x: [3, 10, 7, 4], kernel: [4, 4], outChannels: 4, strides: 2, pad: 'valid' },
  { family: 'valid', x: [1, 11, 9, 7], kernel: [5, 5], outChannels: 9, strides: 1, pad: 'valid' },
  { family: 'same', x: [3, 12, 13, 6], kernel: [5, 5], outChannels: 5, strides: 2, pad: 'same' },
  { family: 'same', x: [1, 7, 9, 3], kernel: [3, 2], outChannels: 4, strides: [1, 2], pad: 'same' },
  { family: 'same', x: [3, 10, 11, 3], kernel: [3, 3], outChannels: 5, strides: 3, pad: 'same' },
  { family: 'valid', x: [1, 13, 12, 2], kernel: [5, 4], outChannels: 3, strides: 3, pad: 'valid' },
  { family: 'explicit', x: [3, 6, 7, 3], kernel: [3, 3], outChannels: 4, strides: 1, pad: 2 },
  {
    family: 'explicit',
    x: [1, 7, 8, 2],
    kernel: [3, 4],
    outChannels: 5,
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ],
  },
  {
    family: 'explicit',
    x: [3, 9, 8, 4],
    kernel: [3, 4],
    outChannels: 3,
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ],
  },
  {
    family: 'explicit',
    x: [1, 5, 6, 2],
    kernel: [2, 2],
    outChannels: 3,
    strides: 1,
    pad: [
      [0, 0],
      [4, 0],
      [0, 5],
      [0, 0],
    ],
  },
  { family: 'dilated', x: [1, 9, 11, 3], kernel: [3, 3], outChannels: 4, strides: 1, pad: 'same', dilation: 2 },
  { family: 'dilated', x: [3, 10, 8, 2], kernel: [3, 3], outChannels: 5, strides: 1, pad: 'valid', dilation: 2 },
  {
    family: 'dilated',
    x: [1, 8, 9, 4],
    kernel: [2, 3],
    outChannels: 2,
    strides: 1,
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
    dilation: 2,
  },
];

const worst = new Map<string, number>();

test('Conv2DBackpropFilter on wasm matches the cpu backend', async (t) => {
  registerWasmKernels();
  for (const [i, c] of cases.entries()) {
    const fshape = [c.kernel[0], c.kernel[1], c.x[3], c.outChannels];
    const xv = values(size(c.x), 11 + i);
    const fv = values(size(fshape), 23 + i);
    const dyv = values(size(outShape(c)), 37 + i);
    assert.ok(await tf.setBackend('cpu'));
    const want = c.dilation === undefined ? filterGradViaGrad(c, xv, fv, dyv) : dilatedReference(c, xv, dyv);
    assert.ok(await tf.setBackend('wasm'));
    assert.equal(tf.getBackend(), 'wasm');
    const got = c.dilation === undefined ? filterGradViaGrad(c, xv, fv, dyv) : filterGradDirect(c, xv, dyv);
    const err = relErr(got, want);
    worst.set(c.family, Math.max(worst.get(c.family) ?? 0, err));
    const label = `${c.family} x=${c.x} k=${c.kernel} co=${c.outChannels} s=${c.strides} pad=${JSON.stringify(c.pad)} d=${c.dilation ?? 1}`;
    assert.ok(err < TOL, `${label}: relative error ${err}`);
    t.diagnostic(`${label}: ${err.toExponential(2)}`);
  }
  t.diagnostic(`worst relative error per family: ${JSON.stringify(Object.fromEntries(worst))}`);
});

test('Conv2DBackpropFilter on wasm: 1x1 kernel equals x^T dy summed over b, h, w (hand loop)', async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  const [b, h, w, ci, co] = [2, 3, 4, 3, 2];
  const c: Case = { family: 'valid', x: [b, h, w, ci], kernel: [1, 1], outChannels: co, strides: 1, pad: 'valid' };
  const xv = values(b * h * w * ci, 5);
  const dyv = values(b * h * w * co, 6);
  const want = new Float32Array(ci * co);
  for (let p = 0; p < b * h * w; p++) {
    for (let i = 0; i < ci; i++) {
      for (let o = 0; o < co; o++) {
        want[i * co + o] = (want[i * co + o] as number) + (xv[p * ci + i] as number) * (dyv[p * co + o] as number);
      }
    }
  }
  const got = filterGradViaGrad(c, xv, values(ci * co, 7), dyv);
  assert.ok(relErr(got, want) < 1e-6, `1x1 hand check: ${relErr(got, want)}`);
});

test('Conv2DBackpropFilter on wasm rejects NCHW with a clear error', async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  const x = tf.zeros([1, 2, 4, 4]);
  const dy = tf.zeros([1, 3, 4, 4]);
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] } as unknown as tf.NamedAttrMap),
    /dataFormat 'NCHW' is not supported/,
  );
  tf.dispose([x, dy]);
});

test('tf.grad through a small conv net on wasm leaks no tensors or buffers', async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  const w1 = tf.variable(tf.tensor4d(values(3 * 3 * 3 * 8, 1), [3, 3, 3, 8]));
  const w2 = tf.variable(tf.tensor4d(values(4 * 4 * 8 * 4, 2), [4, 4, 8, 4]));
  const x = tf.tensor4d(values(2 * 12 * 10 * 3, 3), [2, 12, 10, 3]);
  const opt = tf.train.sgd(0.01);
  const step = (): number => {
    const loss = opt.minimize(
      () => {
        const h = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'));
        const y = tf.conv2d(h, w2 as tf.Tensor4D, 2, 'valid');
        return tf.mean(tf.square(y));
      },
      true,
      [w1, w2],
    );
    const v = (loss as tf.Scalar).dataSync()[0] as number;
    (loss as tf.Scalar).dispose();
    return v;
  };
  const first = step(); // the optimizer creates its state on the first step
  const before = tf.memory();
  let last = first;
  for (let i = 0; i < 4; i++) last = step();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  assert.ok(last < first, `loss should fall under SGD: ${first} -> ${last}`);
  tf.dispose([w1, w2, x]);
  opt.dispose();
});
