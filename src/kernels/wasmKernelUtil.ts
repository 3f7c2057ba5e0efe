/**
 * Helpers shared by our wasm kernels: calling the backend's own kernels directly, freeing
 * their untracked results, and an XNNPACK convolution with explicit (possibly negative)
 * padding, which both conv-gradient kernels are built from.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** What tfjs passes to a kernel function. */
export interface WasmKernelArgs {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}

/** The tfjs backend these kernels belong to. */
export const WASM_BACKEND = 'wasm';

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Calls another kernel registered for the wasm backend, on the same backend instance,
 * without going through the engine: intermediates made this way are not tracked, so the
 * caller must `backend.disposeData` every result it does not return.
 */
export function callWasmKernel(kernelName: string, backend: KernelBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  const config = tf.getKernel(kernelName, WASM_BACKEND);
  if (config === undefined) {
    throw new Error(`wasm backend has no '${kernelName}' kernel, needed by our conv gradients`);
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new Error(`wasm kernel '${kernelName}' returned ${out.length} outputs, expected one`);
  }
  return out;
}

/** Frees an untracked intermediate made by `callWasmKernel`. */
export function freeInfo(backend: KernelBackend, info: TensorInfo): void {
  backend.disposeData(info.dataId);
}

/** An all-zero float32 tensor, for gradients that no input position reaches. */
export function zerosInfo(backend: KernelBackend, shape: number[]): TensorInfo {
  return callWasmKernel('Fill', backend, {}, { shape, value: 0, dtype: 'float32' });
}

/** Normalises a tfjs `[h, w] | n` parameter. */
export function pair(v: [number, number] | number | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Paddings of a 2-D convolution, each side possibly negative (= crop the input). */
interface Pads2D {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * An NHWC wasm (XNNPACK) convolution with explicit paddings that may be negative: a
 * negative side first crops the input by a Slice, because XNNPACK takes only
 * non-negative padding. Crop rather than over-compute and cut the output afterwards: a
 * 1x1 stride-2 filter gradient would otherwise do up to 4x the work. Returns an
 * untracked TensorInfo that the caller owns; `x` and `filter` are not disposed.
 */
export function convExplicitWasm(backend: KernelBackend, x: TensorInfo, filter: TensorInfo, pads: Pads2D, strides: [number, number], dilations: [number, number]): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cropTop = Math.max(0, -pads.top);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropLeft = Math.max(0, -pads.left);
  const cropRight = Math.max(0, -pads.right);
  let input = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    input = callWasmKernel(
      'Slice',
      backend,
      { x },
      {
        begin: [0, cropTop, cropLeft, 0],
        size: [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
      },
    );
  }
  const pad: ExplicitPadding = [
    [0, 0],
    [Math.max(0, pads.top), Math.max(0, pads.bottom)],
    [Math.max(0, pads.left), Math.max(0, pads.right)],
    [0, 0],
  ];
  // dimRoundingMode stays unset: with explicit pads tfjs then truncates, and our pads are
  // chosen so that the division is exact.
  const out = callWasmKernel('Conv2D', backend, { x: input, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  if (input !== x) freeInfo(backend, input);
  return out;
}

/**
 * A wasm kernel config that replaces `builtin`: our `kernelFunc`, with the built-in's setup
 * and dispose functions kept (they create the C++ bindings our code may fall back to).
 */
export function replacementKernelConfig(builtin: KernelConfig, kernelFunc: (args: WasmKernelArgs) => TensorInfo | TensorInfo[]): KernelConfig {
  const config: KernelConfig = { kernelName: builtin.kernelName, backendName: WASM_BACKEND, kernelFunc: kernelFunc as unknown as KernelFunc };
  if (builtin.setupFunc !== undefined) config.setupFunc = builtin.setupFunc;
  if (builtin.disposeFunc !== undefined) config.disposeFunc = builtin.disposeFunc;
  return config;
}
