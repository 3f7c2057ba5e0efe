/**
 * wasm kernels that hand the heavy products to the native addon (nativeAddon.ts): Conv2D,
 * FusedConv2D (bias, no activation), Conv2DBackpropInput, Conv2DBackpropFilter and
 * BatchMatMul through OpenBLAS; Sum over neighbouring axes in one ordered pass, Concat in
 * one loop; SplitV, GatherV2 and nearest-neighbour resizing and its gradient in one pass each
 * (nativeCopyKernels.ts); and kernels of our own, a group norm (optionally with SiLU) and
 * its gradient, which src/model/fusedGroupNorm.ts runs where they are registered, and the
 * layers of nativeLayerKernels.ts.
 * The wasm backend keeps every tensor in its heap, so each kernel allocates its output there
 * as usual and the addon reads and writes the heap in place: no copies. XNNPACK runs 128-bit
 * wasm SIMD; OpenBLAS runs the core's own AVX2/AVX-512 sgemm.
 *
 * Every kernel falls back to the kernel it replaced for what it does not handle (other
 * dtypes or data formats, fused activations, broadcasts other than a batch of 1).
 */
import * as tf from '@tensorflow/tfjs';
import type {
  BatchMatMulAttrs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  ConcatAttrs,
  FusedConv2DAttrs,
  KernelConfig,
  KernelFunc,
  SumAttrs,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './nativeAddon.js';
import { NATIVE_COPY_KERNELS } from './nativeCopyKernels.js';
import { NATIVE_LAYER_KERNELS } from './nativeLayerKernels.js';
import { heapFloats, heapOf, offsetOf } from './wasmHeap.js';
import { pair, replacementKernelConfig, WASM_BACKEND, type WasmKernelArgs } from './wasmKernelUtil.js';

/** A replacement kernel: its output(s), or null to hand the call to the kernel it replaced. */
type Kernel = (args: WasmKernelArgs) => TensorInfo | TensorInfo[] | null;

/** One parameter block per kernel call, reused (calls never overlap on a thread). */
const params = new Float64Array(24);

/** Writes the 15 geometry numbers native/addon.c reads first. */
function writeGeometry(info: tf.backend_util.Conv2DInfo): void {
  params.set([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

function allFloat32(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t !== undefined && t.dtype === 'float32');
}

function channelsLast(format: string | undefined): boolean {
  return format === undefined || format === 'NHWC';
}

function conv(addon: NativeAddon, args: WasmKernelArgs, bias: TensorInfo | undefined): TensorInfo | null {
  const backend = args.backend as BackendWasm;
  const { x, filter } = args.inputs;
  const attrs = args.attrs as unknown as Conv2DAttrs;
  if (!allFloat32(x, filter) || !channelsLast(attrs.dataFormat)) return null;
  if (bias !== undefined && (bias.dtype !== 'float32' || bias.shape.length !== 1)) return null;
  const info = tf.backend_util.computeConv2DInfo(
    (x as TensorInfo).shape as [number, number, number, number],
    (filter as TensorInfo).shape as [number, number, number, number],
    pair(attrs.strides, 1),
    pair(attrs.dilations, 1),
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (bias !== undefined && bias.shape[0] !== info.outChannels) return null;
  const out = backend.makeOutput(info.outShape, 'float32');
  writeGeometry(info);
  params[15] = offsetOf(backend, x as TensorInfo);
  params[16] = offsetOf(backend, filter as TensorInfo);
  params[17] = bias === undefined ? -1 : offsetOf(backend, bias);
  params[18] = offsetOf(backend, out);
  addon.conv2d(heapOf(backend), params);
  return out;
}

function fusedConv(addon: NativeAddon): Kernel {
  return (args) => {
    const attrs = args.attrs as unknown as FusedConv2DAttrs;
    if (attrs.activation !== undefined && attrs.activation !== 'linear') return null;
    if (args.inputs['preluActivationWeights'] !== undefined) return null;
    return conv(addon, args, args.inputs['bias']);
  };
}

/** Allocates a conv gradient's output and runs `gradient` on the geometry, its two inputs and the output. */
function runGradient(
  backend: BackendWasm,
  info: tf.backend_util.Conv2DInfo,
  outShape: number[],
  first: TensorInfo,
  second: TensorInfo,
  gradient: (heap: ArrayBuffer, params: Float64Array) => void,
): TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  writeGeometry(info);
  params[15] = offsetOf(backend, first);
  params[16] = offsetOf(backend, second);
  params[17] = offsetOf(backend, out);
  gradient(heapOf(backend), params);
  return out;
}

function conv2dBackpropInput(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (!allFloat32(dy, filter) || !channelsLast(attrs.dataFormat)) return null;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      (filter as TensorInfo).shape as [number, number, number, number],
      pair(attrs.strides, 1),
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return runGradient(backend, info, info.inShape, dy as TensorInfo, filter as TensorInfo, addon.conv2dBackpropInput);
  };
}

function conv2dBackpropFilter(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, dy } = args.inputs;
    // dilations: not a tfjs attr of this kernel, but accepted like our XNNPACK version does.
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: [number, number] | number };
    if (!allFloat32(x, dy) || !channelsLast(attrs.dataFormat)) return null;
    const info = tf.backend_util.computeConv2DInfo(
      (x as TensorInfo).shape as [number, number, number, number],
      attrs.filterShape,
      pair(attrs.strides, 1),
      pair(attrs.dilations, 1),
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return runGradient(backend, info, attrs.filterShape, x as TensorInfo, dy as TensorInfo, addon.conv2dBackpropFilter);
  };
}

function batchMatMul(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs;
    const attrs = args.attrs as unknown as BatchMatMulAttrs;
    if (!allFloat32(a, b)) return null;
    const sa = (a as TensorInfo).shape;
    const sb = (b as TensorInfo).shape;
    if (sa.length < 2 || sb.length < 2) return null;
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    const M = sa[sa.length - (ta ? 1 : 2)] as number;
    const K = sa[sa.length - (ta ? 2 : 1)] as number;
    const N = sb[sb.length - (tb ? 2 : 1)] as number;
    if (sb[sb.length - (tb ? 1 : 2)] !== K || M === 0 || N === 0) return null; // the built-in reports it
    const outerA = sa.slice(0, -2);
    const outerB = sb.slice(0, -2);
    const batchA = outerA.reduce((p, d) => p * d, 1);
    const batchB = outerB.reduce((p, d) => p * d, 1);
    let outer: number[];
    if (outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i])) outer = outerA;
    else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
    else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
    else return null; // general broadcasting: built-in
    const out = backend.makeOutput([...outer, M, N], 'float32');
    const batch = Math.max(batchA, batchB);
    params.set([
      batch,
      M,
      N,
      K,
      ta ? 1 : 0,
      tb ? 1 : 0,
      offsetOf(backend, a as TensorInfo),
      batchA === 1 ? 0 : M * K,
      offsetOf(backend, b as TensorInfo),
      batchB === 1 ? 0 : K * N,
      offsetOf(backend, out),
    ]);
    if (K === 0) {
      heapFloats(backend, out).fill(0);
      return out;
    }
    addon.batchMatMul(heapOf(backend), params);
    return out;
  };
}

/**
 * Sum over axes that sit side by side ([N,H,W,C] over N,H,W for a bias's gradient, over H,W
 * for a broadcast add's): the tensor read once in order, where the built-in transposes it
 * first. Other axis sets and dtypes go to the built-in.
 */
function sum(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const attrs = args.attrs as unknown as SumAttrs;
    if (x.dtype !== 'float32') return null;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || new Set(axes).size !== axes.length) return null;
    const first = axes[0] as number;
    const last = axes.at(-1) as number;
    if (last - first + 1 !== axes.length) return null;
    const size = (from: number, to: number): number => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const out = backend.makeOutput(outShape, 'float32');
    params.set([size(0, first), size(first, last + 1), size(last + 1, rank), offsetOf(backend, x), offsetOf(backend, out)]);
    addon.sumMiddleAxes(heapOf(backend), params);
    return out;
  };
}

/** Inputs of one native concat: as many as the 24-number parameter block holds (addon.c takes up to 16); more go to the built-in. */
const MAX_CONCAT_INPUTS = 10;

/**
 * Concat of float32 tensors along any axis as rows ([outer, inner_i] each): one native loop
 * where the built-in copies every row with a JavaScript call (the UNet's skip connections:
 * one row per pixel). Empty inputs are dropped, as the built-in does.
 */
function concat(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const all = args.inputs as unknown as TensorInfo[];
    const inputs = all.filter((t) => t.shape.reduce((p, d) => p * d, 1) > 0);
    if (inputs.length < 2 || inputs.length > MAX_CONCAT_INPUTS || !inputs.every((t) => t.dtype === 'float32')) return null;
    const first = all[0] as TensorInfo;
    const axis = tf.util.parseAxisParam((args.attrs as unknown as ConcatAttrs).axis, first.shape)[0] as number;
    tf.backend_util.assertParamsConsistent(
      all.map((t) => t.shape),
      axis,
    );
    const outShape = tf.backend_util.computeOutShape(
      all.map((t) => t.shape),
      axis,
    );
    const out = backend.makeOutput(outShape, 'float32');
    const outer = first.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    params[0] = outer;
    params[1] = inputs.length;
    inputs.forEach((t, i) => {
      params[2 + 2 * i] = offsetOf(backend, t);
      params[3 + 2 * i] = t.shape.slice(axis).reduce((p, d) => p * d, 1);
    });
    params[2 + 2 * inputs.length] = offsetOf(backend, out);
    addon.concatRows(heapOf(backend), params);
    return out;
  };
}

/** Our kernel names: group norm over NHWC (+ SiLU when attrs.silu; of x + shift[b] when a shift [B, C] is given), and its gradient. */
export const FUSED_GROUP_NORM = 'SelfdpoFusedGroupNorm';
export const FUSED_GROUP_NORM_GRAD = 'SelfdpoFusedGroupNormGrad';

/** Attributes of both group-norm kernels. */
export interface FusedGroupNormAttrs {
  groups: number;
  eps: number;
  silu: boolean;
}

function writeGroupNormShape(x: TensorInfo, attrs: FusedGroupNormAttrs, shift?: TensorInfo): void {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  if (x.shape.length !== 4 || c % attrs.groups !== 0) {
    throw new Error(`${FUSED_GROUP_NORM}: x ${x.shape} must be NHWC with channels divisible by ${attrs.groups} groups`);
  }
  if (shift !== undefined && (shift.dtype !== 'float32' || shift.shape.length !== 2 || shift.shape[0] !== b || shift.shape[1] !== c)) {
    throw new Error(`${FUSED_GROUP_NORM}: the shift [${shift.shape}] must be float32 [${b}, ${c}]`);
  }
  params.set([b, h * w, c, attrs.groups, attrs.eps, attrs.silu ? 1 : 0]);
}

/** [y, stats]: stats [B, G, 2] = (mean, 1/sqrt(var + eps)) for the gradient. An optional shift [B, C] is added to x first. */
function groupNormKernel(addon: NativeAddon): (args: WasmKernelArgs) => TensorInfo[] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, gamma, beta, shift } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo; shift?: TensorInfo };
    const attrs = args.attrs as unknown as FusedGroupNormAttrs;
    writeGroupNormShape(x, attrs, shift);
    const y = backend.makeOutput(x.shape, 'float32');
    const stats = backend.makeOutput([x.shape[0] as number, attrs.groups, 2], 'float32');
    params.set([offsetOf(backend, x), offsetOf(backend, gamma), offsetOf(backend, beta), offsetOf(backend, y), offsetOf(backend, stats), shift === undefined ? -1 : offsetOf(backend, shift)], 6);
    addon.groupNorm(heapOf(backend), params);
    return [y, stats];
  };
}

/** [dx, dgamma, dbeta] (and dshift [B, C] when the forward had a shift) from dy, x, gamma, beta, the forward's stats (and shift). */
function groupNormGradKernel(addon: NativeAddon): (args: WasmKernelArgs) => TensorInfo[] {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, x, gamma, beta, stats, shift } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as FusedGroupNormAttrs;
    writeGroupNormShape(x as TensorInfo, attrs, shift);
    const dx = backend.makeOutput((x as TensorInfo).shape, 'float32');
    const dgamma = backend.makeOutput((gamma as TensorInfo).shape, 'float32');
    const dbeta = backend.makeOutput((beta as TensorInfo).shape, 'float32');
    const dshift = shift === undefined ? undefined : backend.makeOutput(shift.shape, 'float32');
    params.set(
      [dy, x, gamma, beta, stats, dx, dgamma, dbeta].map((t) => offsetOf(backend, t as TensorInfo)),
      6,
    );
    params[14] = shift === undefined ? -1 : offsetOf(backend, shift);
    params[15] = dshift === undefined ? -1 : offsetOf(backend, dshift);
    addon.groupNormGrad(heapOf(backend), params);
    return dshift === undefined ? [dx, dgamma, dbeta] : [dx, dgamma, dbeta, dshift];
  };
}

/** The kernels this file replaces, each by a maker taking the addon. */
const NATIVE_KERNELS: [string, (addon: NativeAddon) => Kernel][] = [
  ['Conv2D', (addon) => (args) => conv(addon, args, undefined)],
  ['FusedConv2D', fusedConv],
  ['Conv2DBackpropInput', conv2dBackpropInput],
  ['Conv2DBackpropFilter', conv2dBackpropFilter],
  ['BatchMatMul', batchMatMul],
  ['Sum', sum],
  ['Concat', concat],
  ...NATIVE_COPY_KERNELS,
];

/** The kernels this file adds, under names of our own. */
const OWN_KERNELS: [string, (addon: NativeAddon) => (args: WasmKernelArgs) => TensorInfo | TensorInfo[]][] = [
  [FUSED_GROUP_NORM, groupNormKernel],
  [FUSED_GROUP_NORM_GRAD, groupNormGradKernel],
  ...NATIVE_LAYER_KERNELS,
];

/**
 * Replaces the wasm kernels above with native ones that fall back to the kernel registered
 * before (built-in or ours), and adds our own. Returns a function that undoes both.
 */
export function registerNativeWasmKernels(addon: NativeAddon): () => void {
  const replaced: KernelConfig[] = [];
  for (const [name, make] of NATIVE_KERNELS) {
    const previous = tf.getKernel(name, WASM_BACKEND);
    if (previous === undefined) continue;
    const native = make(addon);
    const kernelFunc = (args: WasmKernelArgs): TensorInfo | TensorInfo[] => native(args) ?? previous.kernelFunc(args as Parameters<KernelFunc>[0]);
    tf.unregisterKernel(name, WASM_BACKEND);
    tf.registerKernel(replacementKernelConfig(previous, kernelFunc));
    replaced.push(previous);
  }
  for (const [name, make] of OWN_KERNELS) {
    tf.registerKernel({ kernelName: name, backendName: WASM_BACKEND, kernelFunc: make(addon) as unknown as KernelFunc });
  }
  return () => {
    for (const previous of replaced) {
      tf.unregisterKernel(previous.kernelName, WASM_BACKEND);
      tf.registerKernel(previous);
    }
    for (const [name] of OWN_KERNELS) tf.unregisterKernel(name, WASM_BACKEND);
  };
}
