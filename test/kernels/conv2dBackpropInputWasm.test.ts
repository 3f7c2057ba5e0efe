import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { builtinConv2dBackpropInputWasm, registerWasmKernels } from '../../src/kernels/index.js';
import { relErr, size, TOL, values, type Pad, type Shape4 } from './convTestUtil.js';

// These test the XNNPACK kernels: keep the native OpenBLAS ones (nativeWasmKernels.test.ts) out.
process.env['SELFDPO_NATIVE'] = '0';

interface Case {
  family: 'same' | 'valid' | 'explicit';
  x: Shape4;
  kernel: [number, number];
  outChannels: number;
  strides: number | [number, number];
  pad: Pad;
}

function filterShape(c: Case): Shape4 {
  return [c.kernel[0], c.kernel[1], c.x[3], c.outChannels];
}

function outShape(c: Case): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, filterShape(c), c.strides, 1, c.pad).outShape as Shape4;
}

/** The input gradient through tf.grad of conv2d, on the active backend. */
function inputGrad(c: Case, xv: Float32Array, fv: Float32Array, dyv: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const f = tf.tensor4d(fv, filterShape(c));
    const dy = tf.tensor4d(dyv, outShape(c));
    // d/dx sum(conv(x, W) * dy) = Conv2DBackpropInput(dy, W).
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, f, c.strides, c.pad as 'same'), dy)));
    return g(x).dataSync() as Float32Array;
  });
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
];

test('Conv2DBackpropInput (XNNPACK) on wasm matches the cpu backend', async (t) => {
  registerWasmKernels();
  const worst = new Map<string, number>();
  for (const [i, c] of cases.entries()) {
    const xv = values(size(c.x), 101 + i);
    const fv = values(size(filterShape(c)), 211 + i);
    const dyv = values(size(outShape(c)), 307 + i);
    assert.ok(await tf.setBackend('cpu'));
    const want = inputGrad(c, xv, fv, dyv);
    assert.ok(await tf.setBackend('wasm'));
    assert.equal(tf.getBackend(), 'wasm');
    const got = inputGrad(c, xv, fv, dyv);
    const err = relErr(got, want);
    worst.set(c.family, Math.max(worst.get(c.family) ?? 0, err));
    const label = `${c.family} x=${c.x} k=${c.kernel} co=${c.outChannels} s=${c.strides} pad=${JSON.stringify(c.pad)}`;
    assert.ok(err < TOL, `${label}: relative error ${err}`);
    t.diagnostic(`${label}: ${err.toExponential(2)}`);
  }
  t.diagnostic(`worst relative error per family: ${JSON.stringify(Object.fromEntries(worst))}`);
});

test('Conv2DBackpropInput on wasm: 1x1 kernel equals dy W^T (hand loop)', async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  const [b, h, w, ci, co] = [2, 3, 4, 3, 2];
  const c: Case = { family: 'valid', x: [b, h, w, ci], kernel: [1, 1], outChannels: co, strides: 1, pad: 'valid' };
  const fv = values(ci * co, 8);
  const dyv = values(b * h * w * co, 9);
  const want = new Float32Array(b * h * w * ci);
  for (let p = 0; p < b * h * w; p++) {
    for (let i = 0; i < ci; i++) {
      let s = 0;
      for (let o = 0; o < co; o++) s += (dyv[p * co + o] as number) * (fv[i * co + o] as number);
      want[p * ci + i] = s;
    }
  }
  const got = inputGrad(c, values(b * h * w * ci, 10), fv, dyv);
  assert.ok(relErr(got, want) < 1e-6, `1x1 hand check: ${relErr(got, want)}`);
});

test('Conv2DBackpropInput on wasm is ours, and NCHW still goes to the built-in kernel', async () => {
  registerWasmKernels();
  const builtin = builtinConv2dBackpropInputWasm();
  assert.ok(builtin !== undefined, 'the built-in kernel was kept');
  assert.notEqual(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc, builtin.kernelFunc);
  // NCHW through runKernel directly (tf.conv2d on wasm refuses NCHW in the forward pass).
  const dyShape: Shape4 = [2, 3, 4, 5];
  const dyv = values(size(dyShape), 12);
  const fv = values(3 * 3 * 2 * 3, 13);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 2, 4, 5] } as unknown as tf.NamedAttrMap;
  const run = (): Float32Array =>
    tf.tidy(() => {
      const out = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dyv, dyShape), filter: tf.tensor4d(fv, [3, 3, 2, 3]) }, attrs);
      return (out as tf.Tensor).dataSync() as Float32Array;
    });
  assert.ok(await tf.setBackend('cpu'));
  const want = run();
  assert.ok(await tf.setBackend('wasm'));
  assert.ok(relErr(run(), want) < TOL);
});
