/**
 * Kernels of our own for whole layers (registered by nativeWasmKernels.ts where the native
 * addon is built), which src/model runs where they are registered: each replaces a chain of
 * tfjs ops, forward and backward, by one kernel each way. The kernels' arithmetic is small
 * next to the convolutions; what the chains cost is the engine's bookkeeping per kernel
 * (dispatch, the tape, the copies it saves for the backward pass), paid dozens of times per
 * layer call.
 *
 * - SelfdpoDense (x, w, b?): x[..., cin] · w[cin, cout] + b, native/dense.c.
 *   SelfdpoDenseGrad (dy, x, w; attrs.of): the gradient of one input, 'x', 'w' or 'b'.
 * - SelfdpoAttention (q, k, v, keyBias?; attrs.heads): multi-head attention of q [B, Nq, C] to
 *   k, v [B, Nk, C] with an optional logit bias [B, Nk] per key, native/attention.c.
 *   SelfdpoAttentionGrad (dy, q, k, v, keyBias?; attrs.heads): [dq, dk, dv] and dkeyBias
 *   when keyBias is given.
 * - SelfdpoLayerNorm (x, gamma, beta; attrs.eps): layer norm over the last axis,
 *   native/layerNorm.c. SelfdpoLayerNormGrad (dy, x, gamma; attrs.eps): [dx, dgamma, dbeta].
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './nativeAddon.js';
import { heapOf, offsetOf } from './wasmHeap.js';
import type { WasmKernelArgs } from './wasmKernelUtil.js';

/** Kernel names. */
export const FUSED_DENSE = 'SelfdpoDense';
export const FUSED_DENSE_GRAD = 'SelfdpoDenseGrad';

export const FUSED_ATTENTION = 'SelfdpoAttention';
export const FUSED_ATTENTION_GRAD = 'SelfdpoAttentionGrad';

/** Attributes of both attention kernels. */
export interface FusedAttentionAttrs {
  heads: number;
}

export const FUSED_LAYER_NORM = 'SelfdpoLayerNorm';
export const FUSED_LAYER_NORM_GRAD = 'SelfdpoLayerNormGrad';

/** Attributes of both layer-norm kernels. */
export interface FusedLayerNormAttrs {
  eps: number;
}

/** Attributes of SelfdpoDenseGrad: the input whose gradient it computes (tfjs asks for each input's apart, and only for those it needs). */
export interface FusedDenseGradAttrs {
  of: 'x' | 'w' | 'b';
}

type OwnKernel = (args: WasmKernelArgs) => TensorInfo | TensorInfo[];

/** One parameter block per kernel call, reused (calls never overlap on a thread). */
const params = new Float64Array(24);

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** [cin, cout, rows] of x [..., cin] times w [cin, cout], or a thrown error naming the shapes. */
function denseShape(kernel: string, x: TensorInfo, w: TensorInfo, b?: TensorInfo): [number, number, number] {
  const cin = x.shape[x.shape.length - 1];
  const ok = [x, w, b].every((t) => t === undefined || t.dtype === 'float32') && w.shape.length === 2 && cin === w.shape[0] && (b === undefined || (b.shape.length === 1 && b.shape[0] === w.shape[1]));
  if (!ok || cin === undefined) throw new Error(`${kernel}: float32 x [..., cin], w [cin, cout] and b [cout] expected, got x [${x.shape}], w [${w.shape}]${b ? `, b [${b.shape}]` : ''}`);
  return [cin, w.shape[1] as number, cin === 0 ? 0 : sizeOf(x.shape) / cin];
}

function denseKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, w, b } = args.inputs as { x: TensorInfo; w: TensorInfo; b?: TensorInfo };
    const [cin, cout, rows] = denseShape(FUSED_DENSE, x, w, b);
    const out = backend.makeOutput([...x.shape.slice(0, -1), cout], 'float32');
    params.set([rows, cin, cout, offsetOf(backend, x), offsetOf(backend, w), b === undefined ? -1 : offsetOf(backend, b), offsetOf(backend, out)]);
    addon.dense(heapOf(backend), params);
    return out;
  };
}

function denseGradKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, x, w } = args.inputs as { dy: TensorInfo; x: TensorInfo; w: TensorInfo };
    const { of } = args.attrs as unknown as FusedDenseGradAttrs;
    const [cin, cout, rows] = denseShape(FUSED_DENSE_GRAD, x, w);
    const out = backend.makeOutput(of === 'x' ? x.shape : of === 'w' ? w.shape : [cout], 'float32');
    const at = (which: FusedDenseGradAttrs['of']): number => (which === of ? offsetOf(backend, out) : -1);
    params.set([rows, cin, cout, offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, w), at('x'), at('w'), at('b')]);
    addon.denseGrad(heapOf(backend), params);
    return out;
  };
}

/** Writes the 6 shape numbers of native/attention.c (batch, nq, nk, c, heads, scale) after checking the shapes. */
function writeAttentionShape(kernel: string, q: TensorInfo, k: TensorInfo, v: TensorInfo, keyBias: TensorInfo | undefined, heads: number): void {
  const [B, Nq, C] = q.shape as [number, number, number];
  const Nk = k.shape[1] as number;
  const same = (t: TensorInfo, shape: number[]): boolean => t.dtype === 'float32' && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  const ok =
    q.dtype === 'float32' &&
    q.shape.length === 3 &&
    same(k, [B, Nk, C]) &&
    same(v, [B, Nk, C]) &&
    (keyBias === undefined || same(keyBias, [B, Nk])) &&
    Number.isInteger(heads) &&
    heads >= 1 &&
    C % heads === 0 &&
    Nq >= 1 &&
    Nk >= 1;
  if (!ok)
    throw new Error(
      `${kernel}: float32 q [B, Nq, C], k and v [B, Nk, C], keyBias [B, Nk] and heads dividing C expected, got q [${q.shape}], k [${k.shape}], v [${v.shape}]${keyBias ? `, keyBias [${keyBias.shape}]` : ''}, ${heads} heads`,
    );
  params.set([B, Nq, Nk, C, heads, 1 / Math.sqrt(C / heads)]);
}

function attentionKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { q, k, v, keyBias } = args.inputs as { q: TensorInfo; k: TensorInfo; v: TensorInfo; keyBias?: TensorInfo };
    const { heads } = args.attrs as unknown as FusedAttentionAttrs;
    writeAttentionShape(FUSED_ATTENTION, q, k, v, keyBias, heads);
    const out = backend.makeOutput(q.shape, 'float32');
    params.set([offsetOf(backend, q), offsetOf(backend, k), offsetOf(backend, v), keyBias === undefined ? -1 : offsetOf(backend, keyBias), offsetOf(backend, out)], 6);
    addon.attention(heapOf(backend), params);
    return out;
  };
}

function attentionGradKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, q, k, v, keyBias } = args.inputs as { dy: TensorInfo; q: TensorInfo; k: TensorInfo; v: TensorInfo; keyBias?: TensorInfo };
    const { heads } = args.attrs as unknown as FusedAttentionAttrs;
    writeAttentionShape(FUSED_ATTENTION_GRAD, q, k, v, keyBias, heads);
    const [dq, dk, dv] = [q, k, v].map((t) => backend.makeOutput(t.shape, 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
    const dKeyBias = keyBias === undefined ? undefined : backend.makeOutput(keyBias.shape, 'float32');
    const optional = (t: TensorInfo | undefined): number => (t === undefined ? -1 : offsetOf(backend, t));
    params.set(
      [
        offsetOf(backend, dy),
        offsetOf(backend, q),
        offsetOf(backend, k),
        offsetOf(backend, v),
        optional(keyBias),
        offsetOf(backend, dq),
        offsetOf(backend, dk),
        offsetOf(backend, dv),
        optional(dKeyBias),
      ],
      6,
    );
    addon.attentionGrad(heapOf(backend), params);
    return dKeyBias === undefined ? [dq, dk, dv] : [dq, dk, dv, dKeyBias];
  };
}

/** [C, rows] of x [..., C] with gamma [C], or a thrown error naming the shapes. */
function layerNormShape(kernel: string, x: TensorInfo, gamma: TensorInfo): [number, number] {
  const C = x.shape[x.shape.length - 1];
  if (C === undefined || C === 0 || x.dtype !== 'float32' || gamma.dtype !== 'float32' || gamma.shape.length !== 1 || gamma.shape[0] !== C) {
    throw new Error(`${kernel}: float32 x [..., C] (C >= 1) and gamma, beta [C] expected, got x [${x.shape}], gamma [${gamma.shape}]`);
  }
  return [C, sizeOf(x.shape) / C];
}

function layerNormKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    const { eps } = args.attrs as unknown as FusedLayerNormAttrs;
    const [C, rows] = layerNormShape(FUSED_LAYER_NORM, x, gamma);
    if (beta.dtype !== 'float32' || beta.shape.length !== 1 || beta.shape[0] !== C) throw new Error(`${FUSED_LAYER_NORM}: beta [${beta.shape}] must be float32 [${C}]`);
    const out = backend.makeOutput(x.shape, 'float32');
    params.set([rows, C, eps, offsetOf(backend, x), offsetOf(backend, gamma), offsetOf(backend, beta), offsetOf(backend, out)]);
    addon.layerNorm(heapOf(backend), params);
    return out;
  };
}

function layerNormGradKernel(addon: NativeAddon): OwnKernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, x, gamma } = args.inputs as { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo };
    const { eps } = args.attrs as unknown as FusedLayerNormAttrs;
    const [C, rows] = layerNormShape(FUSED_LAYER_NORM_GRAD, x, gamma);
    const dx = backend.makeOutput(x.shape, 'float32');
    const dgamma = backend.makeOutput([C], 'float32');
    const dbeta = backend.makeOutput([C], 'float32');
    params.set([rows, C, eps, offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, gamma), offsetOf(backend, dx), offsetOf(backend, dgamma), offsetOf(backend, dbeta)]);
    addon.layerNormGrad(heapOf(backend), params);
    return [dx, dgamma, dbeta];
  };
}

/** The kernels this file adds, under names of our own. */
export const NATIVE_LAYER_KERNELS: [string, (addon: NativeAddon) => OwnKernel][] = [
  [FUSED_DENSE, denseKernel],
  [FUSED_DENSE_GRAD, denseGradKernel],
  [FUSED_ATTENTION, attentionKernel],
  [FUSED_ATTENTION_GRAD, attentionGradKernel],
  [FUSED_LAYER_NORM, layerNormKernel],
  [FUSED_LAYER_NORM_GRAD, layerNormGradKernel],
];
