/**
 * Kernels we add to tfjs backends. Only the wasm backend needs any: it lacks
 * Conv2DBackpropFilter and UnsortedSegmentSum (the gradient of tf.gather), its
 * Conv2DBackpropInput is a scalar loop that our XNNPACK route beats 4.7-12x
 * (bench/convGrad.ts, stride 1 and 2), and its BatchMatMul leaves XNNPACK for a scalar
 * loop whenever the batch is > 1 (attention), which per-element XNNPACK calls beat 2-5x,
 * and its Identity and same-dtype Cast copy buffers that may be shared.
 */
import * as tf from '@tensorflow/tfjs';
// Load the wasm backend's own kernels first, so ours replace them and not the reverse.
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasmConfig } from './conv2dBackpropFilterWasm.js';
import { WASM_BACKEND } from './wasmKernelUtil.js';
import { makeConv2dBackpropInputWasmConfig } from './conv2dBackpropInputWasm.js';
import { unsortedSegmentSumWasmConfig } from './unsortedSegmentSumWasm.js';
import { makeBatchMatMulWasmConfig } from './batchMatMulWasm.js';
import { makeCastWasmConfig, makeIdentityWasmConfig } from './shareDataWasm.js';
import { loadNativeAddon, shortDescription } from './nativeAddon.js';
import { registerNativeWasmKernels } from './nativeWasmKernels.js';

export { conv2dBackpropFilterWasmConfig } from './conv2dBackpropFilterWasm.js';
export { conv2dBackpropInputXnn } from './conv2dBackpropInputWasm.js';
export { unsortedSegmentSumWasmConfig } from './unsortedSegmentSumWasm.js';
export { batchMatMulPerElement } from './batchMatMulWasm.js';

let registered = false;
/** Puts the XNNPACK kernels back while the native ones are registered. */
let unregisterNative: (() => void) | undefined;
let builtinInputKernel: KernelConfig | undefined;
let builtinBatchMatMulKernel: KernelConfig | undefined;

/**
 * Registers our wasm kernels: Conv2DBackpropFilter and UnsortedSegmentSum (both missing
 * from the backend), an XNNPACK Conv2DBackpropInput in place of the built-in one, a
 * BatchMatMul whose batch > 1 products run through XNNPACK per batch element, and an
 * Identity and Cast that share the input's buffer instead of copying it. Then, where the
 * native addon is built (nativeAddon.ts), convolutions, their gradients and BatchMatMul run
 * through OpenBLAS, falling back to the kernels above for what it does not handle, and the
 * fused group norm kernels are added (nativeWasmKernels.ts).
 * Idempotent. Call it before the wasm backend runs a gradient; `initBackend` does.
 * Registering before or after `tf.setBackend('wasm')` both work: our kernels need no
 * setup of their own.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  if (tf.getKernel('Conv2DBackpropFilter', WASM_BACKEND) === undefined) {
    tf.registerKernel(conv2dBackpropFilterWasmConfig);
  }
  if (tf.getKernel('UnsortedSegmentSum', WASM_BACKEND) === undefined) {
    tf.registerKernel(unsortedSegmentSumWasmConfig);
  }
  const builtin = tf.getKernel('Conv2DBackpropInput', WASM_BACKEND);
  if (builtin !== undefined) {
    builtinInputKernel = builtin;
    // tf.registerKernel would overwrite too, but warns "already registered" on stderr.
    tf.unregisterKernel('Conv2DBackpropInput', WASM_BACKEND);
    tf.registerKernel(makeConv2dBackpropInputWasmConfig(builtin));
  }
  const builtinMatMul = tf.getKernel('BatchMatMul', WASM_BACKEND);
  if (builtinMatMul !== undefined) {
    builtinBatchMatMulKernel = builtinMatMul;
    tf.unregisterKernel('BatchMatMul', WASM_BACKEND);
    tf.registerKernel(makeBatchMatMulWasmConfig(builtinMatMul));
  }
  for (const [name, make] of [
    ['Identity', makeIdentityWasmConfig],
    ['Cast', makeCastWasmConfig],
  ] as const) {
    const builtin = tf.getKernel(name, WASM_BACKEND);
    if (builtin === undefined) continue;
    tf.unregisterKernel(name, WASM_BACKEND);
    tf.registerKernel(make(builtin));
  }
  const addon = loadNativeAddon();
  if (typeof addon !== 'string') unregisterNative = registerNativeWasmKernels(addon);
  registered = true;
}

/**
 * Turns the native kernels off (the XNNPACK ones run again) or back on, in this thread: for
 * benchmarks that time both in one process. Returns whether they are on now (never, where the
 * addon is unavailable).
 */
export function setNativeKernels(on: boolean): boolean {
  registerWasmKernels();
  if (!on && unregisterNative !== undefined) {
    unregisterNative();
    unregisterNative = undefined;
  } else if (on && unregisterNative === undefined) {
    const addon = loadNativeAddon();
    if (typeof addon !== 'string') unregisterNative = registerNativeWasmKernels(addon);
  }
  return unregisterNative !== undefined;
}

/** Whether the native kernels are registered for the wasm backend now. */
export function nativeKernelsOn(): boolean {
  return unregisterNative !== undefined;
}

/** Whether the heavy wasm kernels run natively (and with what), or why not: for the backend line. */
/** Whether the native addon loaded (it may still be turned off by setNativeKernels). */
export function nativeKernelsLoaded(): boolean {
  return typeof loadNativeAddon() !== 'string';
}

export function nativeKernelsStatus(): string {
  const addon = loadNativeAddon();
  if (typeof addon === 'string') return `wasm kernels only: ${addon}`;
  if (!registered) return 'native kernels not registered yet';
  return unregisterNative !== undefined ? `native kernels: ${shortDescription(addon)}` : 'wasm kernels only: native kernels turned off (setNativeKernels)';
}

/**
 * The wasm backend's own Conv2DBackpropInput as it was before `registerWasmKernels`
 * replaced it (undefined before that call), for tests and benchmarks that compare.
 */
export function builtinConv2dBackpropInputWasm(): KernelConfig | undefined {
  return builtinInputKernel;
}

/**
 * The wasm backend's own BatchMatMul as it was before `registerWasmKernels` replaced it
 * (undefined before that call), for tests and benchmarks that compare.
 */
export function builtinBatchMatMulWasm(): KernelConfig | undefined {
  return builtinBatchMatMulKernel;
}
