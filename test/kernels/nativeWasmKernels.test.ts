import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from '../../src/kernels/nativeAddon.js';
import { nativeKernelsStatus, registerWasmKernels } from '../../src/kernels/index.js';
import { relErr, size, TOL, values, type Pad, type Shape4 } from './convTestUtil.js';
import { groupNorm, groupNormSilu } from '../../src/model/layers.js';
import { fusedGroupNormAvailable } from '../../src/model/fusedGroupNorm.js';
import { Params, Scope } from '../../src/model/params.js';

/**
 * The native OpenBLAS kernels (native/*.c) against the cpu backend. Where the
 * addon is not built they are skipped, unless SELFDPO_REQUIRE_NATIVE=1 (CI builds it).
 */
const addon = loadNativeAddon();
const skip = typeof addon === 'string' && process.env['SELFDPO_REQUIRE_NATIVE'] !== '1' ? `native kernels unavailable: ${addon}` : false;

interface Case {
  x: Shape4;
  kernel: [number, number];
  outChannels: number;
  strides: number | [number, number];
  pad: Pad;
  dilation?: number;
}

const cases: Case[] = [
  { x: [2, 5, 7, 3], kernel: [1, 1], outChannels: 4, strides: 1, pad: 'valid' }, // pointwise: one sgemm
  { x: [3, 6, 9, 4], kernel: [1, 1], outChannels: 5, strides: 2, pad: 'same' },
  { x: [3, 7, 5, 3], kernel: [3, 3], outChannels: 8, strides: 1, pad: 'same' },
  { x: [1, 9, 7, 5], kernel: [3, 3], outChannels: 4, strides: 2, pad: 'same' },
  { x: [3, 9, 7, 2], kernel: [3, 3], outChannels: 3, strides: 2, pad: 'valid' },
  { x: [1, 8, 10, 5], kernel: [4, 4], outChannels: 6, strides: 1, pad: 'same' },
  { x: [3, 12, 13, 6], kernel: [5, 5], outChannels: 5, strides: 2, pad: 'same' },
  { x: [1, 7, 9, 3], kernel: [3, 2], outChannels: 4, strides: [1, 2], pad: 'same' },
  {
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
  { x: [3, 6, 7, 3], kernel: [3, 3], outChannels: 4, strides: 1, pad: 2 },
  { x: [1, 9, 11, 3], kernel: [3, 3], outChannels: 4, strides: 1, pad: 'same', dilation: 2 },
  // base-S's 32x32 level: 9 * 16 columns x 4,096 rows spans several 2^18-float chunks.
  { x: [4, 32, 32, 16], kernel: [3, 3], outChannels: 16, strides: 1, pad: 'same' },
  { x: [4, 32, 32, 16], kernel: [3, 3], outChannels: 48, strides: 2, pad: 'same' },
  // Wide im2col rows (K > 1,024 columns): chunks of at least 256 rows (native/convolution.c),
  // here 300 rows as 256 + 44, 320 strided rows as 256 + 64, and fewer rows than one chunk
  // (base-L's deepest level, 4x4 pixels, at 2 images).
  { x: [3, 10, 10, 128], kernel: [3, 3], outChannels: 24, strides: 1, pad: 'same' },
  { x: [5, 16, 16, 120], kernel: [3, 3], outChannels: 16, strides: 2, pad: 'same' },
  { x: [2, 4, 4, 352], kernel: [3, 3], outChannels: 40, strides: 1, pad: 'same' },
];

function label(c: Case): string {
  return `x=${c.x} k=${c.kernel} co=${c.outChannels} s=${c.strides} pad=${JSON.stringify(c.pad)} d=${c.dilation ?? 1}`;
}

function filterShape(c: Case): Shape4 {
  return [c.kernel[0], c.kernel[1], c.x[3], c.outChannels];
}

function outShape(c: Case): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, filterShape(c), c.strides, c.dilation ?? 1, c.pad).outShape as Shape4;
}

/** Forward (with a bias), input gradient and filter gradient of one case on the active backend. */
function convAndGrads(c: Case, xv: Float32Array, fv: Float32Array, bv: Float32Array, dyv: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const f = tf.tensor4d(fv, filterShape(c));
    const bias = tf.tensor1d(bv);
    const dy = tf.tensor4d(dyv, outShape(c));
    const pad = c.pad as 'same';
    const y = tf.fused.conv2d({ x, filter: f, bias, strides: c.strides, pad, dilations: c.dilation ?? 1 });
    const out = [y.dataSync() as Float32Array];
    if (c.dilation === undefined) {
      // d/dx and d/dW of sum(conv(x, W) * dy): Conv2DBackpropInput and Conv2DBackpropFilter.
      const [dx, dw] = tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.strides, pad), dy)))([x, f]);
      out.push((dx as tf.Tensor).dataSync() as Float32Array, (dw as tf.Tensor).dataSync() as Float32Array);
    }
    return out;
  });
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  assert.ok(await tf.setBackend(name));
  assert.equal(tf.getBackend(), name);
  return f();
}

test('native conv2d (fused bias), its input gradient and its filter gradient match the cpu backend', { skip }, async (t) => {
  registerWasmKernels();
  assert.match(nativeKernelsStatus(), /^native kernels: OpenBLAS/);
  for (const [i, c] of cases.entries()) {
    const xv = values(size(c.x), 11 + i);
    const fv = values(size(filterShape(c)), 23 + i);
    const bv = values(c.outChannels, 31 + i);
    const dyv = values(size(outShape(c)), 37 + i);
    const want = await onBackend('cpu', () => convAndGrads(c, xv, fv, bv, dyv));
    const got = await onBackend('wasm', () => convAndGrads(c, xv, fv, bv, dyv));
    const errs = got.map((g, k) => relErr(g, want[k] as Float32Array));
    for (const [k, err] of errs.entries()) assert.ok(err < TOL, `${label(c)}: ${['conv', 'input grad', 'filter grad'][k]} relative error ${err}`);
    t.diagnostic(`${label(c)}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
  }
});

test('native Conv2DBackpropFilter with a dilation equals the dense filter gradient at every second tap', { skip }, async () => {
  registerWasmKernels();
  // A dilation-2 3x3 filter is a 5x5 filter zero except at even taps, so its gradient is the
  // 5x5 gradient (cpu backend) read at those taps.
  const x: Shape4 = [2, 9, 11, 3];
  const co = 4;
  const dense: Case = { x, kernel: [5, 5], outChannels: co, strides: 1, pad: 'same' };
  const xv = values(size(x), 5);
  const dyv = values(size(outShape(dense)), 6);
  const full = await onBackend('cpu', () => convAndGrads(dense, xv, values(5 * 5 * 3 * co, 7), values(co, 8), dyv)[2] as Float32Array);
  const want = new Float32Array(3 * 3 * 3 * co);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) want.set(full.subarray((2 * i * 5 + 2 * j) * 3 * co, (2 * i * 5 + 2 * j + 1) * 3 * co), (i * 3 + j) * 3 * co);
  const got = await onBackend('wasm', () =>
    tf.tidy(() => {
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2, filterShape: [3, 3, 3, co] };
      const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, x), dy: tf.tensor4d(dyv, outShape(dense)) }, attrs as unknown as tf.NamedAttrMap);
      return (out as tf.Tensor).dataSync() as Float32Array;
    }),
  );
  assert.ok(relErr(got, want) < TOL, `dilated filter gradient: ${relErr(got, want)}`);
});

test('native BatchMatMul matches the cpu backend: transposes, batch dims, a broadcast batch of 1', { skip }, async (t) => {
  registerWasmKernels();
  const shapes: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[4, 5, 7], [4, 7, 3], false, false],
    [[4, 7, 5], [4, 7, 3], true, false],
    [[4, 5, 7], [4, 3, 7], false, true],
    [[2, 3, 7, 5], [2, 3, 3, 7], true, true],
    [[6, 16, 24], [1, 24, 16], false, false], // b broadcast over a's batch
    [[1, 16, 24], [6, 24, 16], false, false], // a broadcast over b's batch
    [[6, 16, 24], [24, 16], false, false], // rank-2 b
  ];
  for (const [i, [sa, sb, ta, tb]] of shapes.entries()) {
    const av = values(size(sa), 51 + i);
    const bv = values(size(sb), 61 + i);
    const run = (): Float32Array => tf.tidy(() => tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), ta, tb).dataSync() as Float32Array);
    const want = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    const err = relErr(got, want);
    assert.ok(err < 1e-5, `a ${sa}${ta ? 'ᵀ' : ''} b ${sb}${tb ? 'ᵀ' : ''}: relative error ${err}`);
    t.diagnostic(`a ${sa} b ${sb} ta=${ta} tb=${tb}: ${err.toExponential(1)}`);
  }
});

test('native Sum over neighbouring axes matches the cpu backend; other axis sets fall back to the built-in', { skip }, async (t) => {
  registerWasmKernels();
  const cases: [number[], number | number[], boolean][] = [
    [[4, 6, 5, 7], [0, 1, 2], false], // a bias's gradient: all but the channels
    [[4, 6, 5, 7], [1, 2], true], // a broadcast add's: the middle axes, kept as 1s
    [[4, 6, 5, 7], [-1], false], // the last axis alone: row sums
    [[4, 6, 5, 7], [2, 1], false], // unsorted
    [[4, 6, 5, 7], [1, 1], false], // repeated: the built-in (whose answer for it is its own)
    [[300, 3], 0, false], // a long column
    [[4, 6, 5, 7], [0, 2], false], // not neighbours: the built-in
    [[4, 6, 5, 7], [0, 1, 2, 3], true], // everything
  ];
  for (const [i, [shape, axis, keepDims]] of cases.entries()) {
    const xv = values(size(shape), 71 + i);
    const run = (): { shape: number[]; data: Float32Array } =>
      tf.tidy(() => {
        const y = tf.sum(tf.tensor(xv, shape), axis, keepDims);
        return { shape: y.shape, data: y.dataSync() as Float32Array };
      });
    const want = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    assert.deepEqual(got.shape, want.shape, `x ${shape} axis ${String(axis)}`);
    const err = relErr(got.data, want.data);
    assert.ok(err < 1e-6, `x ${shape} axis ${String(axis)} keepDims ${keepDims}: relative error ${err}`);
    t.diagnostic(`x ${shape} axis ${String(axis)}: ${err.toExponential(1)}`);
  }
  // By hand: [[1, 2], [3, 4], [5, 6]] summed down its column and along its rows.
  await onBackend('wasm', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    assert.deepEqual(Array.from(tf.sum(x, 0).dataSync()), [9, 12]);
    assert.deepEqual(Array.from(tf.sum(x, 1).dataSync()), [3, 7, 11]);
    x.dispose();
  });
});

test('native Concat matches the cpu backend on every axis; empty inputs, many inputs and other dtypes as the built-in', { skip }, async () => {
  registerWasmKernels();
  const cases: [number[][], number][] = [
    [
      [
        [2, 3, 4, 5],
        [2, 3, 4, 7],
      ],
      3,
    ], // a skip connection: channels
    [
      [
        [2, 3, 4, 5],
        [1, 3, 4, 5],
        [3, 3, 4, 5],
      ],
      0,
    ], // winners then losers: the batch
    [
      [
        [2, 3, 4, 5],
        [2, 6, 4, 5],
      ],
      -3,
    ],
    [
      [
        [2, 3, 0, 5],
        [2, 3, 4, 5],
        [2, 3, 1, 5],
      ],
      2,
    ], // an empty input
    [Array.from({ length: 12 }, (_, i) => [2, 1 + (i % 3)]), 1], // more inputs than one call takes
  ];
  for (const [k, [shapes, axis]] of cases.entries()) {
    const vals = shapes.map((sh, i) => values(size(sh), 111 + 10 * k + i));
    const run = (): { shape: number[]; data: number[] } =>
      tf.tidy(() => {
        const y = tf.concat(
          shapes.map((sh, i) => tf.tensor(vals[i] as Float32Array, sh)),
          axis,
        );
        return { shape: y.shape, data: Array.from(y.dataSync()) };
      });
    const want = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    assert.deepEqual(got, want, `shapes ${JSON.stringify(shapes)} axis ${axis}`);
  }
  // By hand, and int32 (the built-in): [[1, 2], [3, 4]] joined with [[5], [6]] along the rows.
  await onBackend('wasm', () => {
    for (const dtype of ['float32', 'int32'] as const) {
      tf.tidy(() => {
        const y = tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], dtype), tf.tensor2d([5, 6], [2, 1], dtype)], 1);
        assert.deepEqual(Array.from(y.dataSync()), [1, 2, 5, 3, 4, 6], dtype);
        assert.equal(y.dtype, dtype);
      });
    }
  });
});

test('native kernels allocate nothing that outlives a training step', { skip }, async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  const w = tf.variable(tf.tensor4d(values(3 * 3 * 4 * 8, 1), [3, 3, 4, 8]));
  const q = tf.variable(tf.tensor2d(values(8 * 8, 2), [8, 8]));
  const x = tf.tensor4d(values(2 * 10 * 10 * 4, 3), [2, 10, 10, 4]);
  const opt = tf.train.sgd(0.01);
  const step = (): number => {
    const loss = opt.minimize(
      () => {
        const h = tf.relu(tf.conv2d(x, w as tf.Tensor4D, 2, 'same')).reshape([-1, 8]);
        return tf.mean(tf.square(tf.matMul(h, q as tf.Tensor2D)));
      },
      true,
      [w, q],
    ) as tf.Scalar;
    const v = loss.dataSync()[0] as number;
    loss.dispose();
    return v;
  };
  const first = step();
  const before = tf.memory();
  let last = first;
  for (let i = 0; i < 4; i++) last = step();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
  assert.ok(last < first, `loss should fall under SGD: ${first} -> ${last}`);
  tf.dispose([w, q, x]);
  opt.dispose();
});

test('the fused group norm (with and without SiLU) and its gradients match the composed one on the cpu backend', { skip }, async (t) => {
  registerWasmKernels();
  // [shape, groups, offset]: an offset of 50 (std about 2) checks the variance does not cancel.
  const cases: [Shape4, number, number][] = [
    [[2, 5, 6, 8], 4, 0],
    [[3, 4, 4, 12], 3, 0],
    [[2, 32, 32, 16], 8, 0],
    [[2, 4, 4, 192], 8, 0],
    [[2, 8, 8, 16], 4, 50],
    [[2, 4, 4, 352], 8, 0], // base-L's deepest level
    [[1, 8, 8, 20], 4, 0], // 20 channels: two 8-float vectors and a remainder of 4
  ];
  for (const [i, [shape, groups, offset]] of cases.entries()) {
    for (const withSilu of [false, true]) {
      const xv = values(size(shape), 71 + i).map((v, k) => offset + 3 * v + (k % 5)); // a mean and a spread per group
      const gv = values(shape[3], 81 + i).map((v) => 1 + v);
      const bv = values(shape[3], 91 + i);
      const dyv = values(size(shape), 101 + i);
      const run = (): Float32Array[] => {
        const params = new Params(0);
        const scope = new Scope(params, 'gn/');
        const x = tf.tensor4d(xv, shape);
        const dy = tf.tensor4d(dyv, shape);
        const norm = withSilu ? groupNormSilu : groupNorm;
        tf.tidy(() => norm(scope, x, groups)); // creates scale and shift
        params.variable('gn/scale').assign(tf.tensor1d(gv));
        params.variable('gn/shift').assign(tf.tensor1d(bv));
        const out = tf.tidy(() => {
          const y = norm(scope, x, groups);
          const f = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(norm(scope, a as tf.Tensor4D, groups), dy));
          const { grads } = tf.variableGrads(() => f(x));
          const dx = tf.grad(f)(x);
          return [y, dx, grads[params.variable('gn/scale').name] as tf.Tensor, grads[params.variable('gn/shift').name] as tf.Tensor].map((r) => r.dataSync() as Float32Array);
        });
        tf.dispose([x, dy]);
        params.dispose();
        return out;
      };
      const want = await onBackend('cpu', () => {
        assert.equal(fusedGroupNormAvailable(), false);
        return run();
      });
      const got = await onBackend('wasm', () => {
        assert.equal(fusedGroupNormAvailable(), true);
        return run();
      });
      const errs = got.map((g, k) => relErr(g, want[k] as Float32Array));
      for (const [k, err] of errs.entries()) assert.ok(err < TOL, `${shape} G=${groups} offset ${offset} silu=${withSilu}: ${['y', 'dx', 'dscale', 'dshift'][k]} relative error ${err}`);
      t.diagnostic(`${shape} G=${groups} offset ${offset} silu=${withSilu}: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    }
  }
});

test('the addon refuses offsets outside the wasm heap instead of reading them', { skip }, () => {
  assert.ok(typeof addon !== 'string');
  const heap = new ArrayBuffer(1024);
  // batch 1, 4x4 times 4x4, a at byte 1000: 64 bytes would run past the 1,024-byte heap.
  const params = Float64Array.from([1, 4, 4, 4, 0, 0, 1000, 0, 0, 0, 512]);
  assert.throws(() => addon.batchMatMul(heap, params), /a \(byte offset 1000, 16 floats\) is outside the wasm heap of 1024 bytes/);
});
