/**
 * `Identity` and same-dtype `Cast` for the wasm backend without a copy. The built-ins
 * allocate an output and copy the whole input into it, yet tfjs tensors are immutable
 * (a variable's `assign` swaps its data id, it never writes into the old buffer), so the
 * output may share the input's buffer, as the cpu backend's kernels and the wasm backend's
 * own `Reshape` already do: one more reference on the data id, freed with the last tensor.
 * Autodiff emits these copies by the thousand: a base-S Self-DPO step of 16 pairs ran
 * 1,837 Identity and 405 float32-to-float32 Cast kernels, 87 ms of copying (tf.profile).
 */
import * as tf from '@tensorflow/tfjs';
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { replacementKernelConfig, type WasmKernelArgs } from './wasmKernelUtil.js';

/** The input itself under another tensor: one more reference on its data id. */
function share(args: WasmKernelArgs, kernelName: string): TensorInfo {
  const x = args.inputs['x'];
  if (x === undefined) throw new Error(`${kernelName} (wasm): input x is required`);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Identity for strings keeps the built-in (strings live outside the wasm heap). */
export function makeIdentityWasmConfig(builtin: KernelConfig): KernelConfig {
  const kernelFunc = (args: WasmKernelArgs): TensorInfo | TensorInfo[] => (args.inputs['x']?.dtype === 'string' ? builtin.kernelFunc(args as Parameters<KernelFunc>[0]) : share(args, tf.Identity));
  return replacementKernelConfig(builtin, kernelFunc);
}

/** A cast to the dtype the input already has shares it; real conversions keep the built-in. */
export function makeCastWasmConfig(builtin: KernelConfig): KernelConfig {
  const kernelFunc = (args: WasmKernelArgs): TensorInfo | TensorInfo[] => {
    const x = args.inputs['x'];
    const { dtype } = args.attrs as unknown as CastAttrs;
    return x !== undefined && x.dtype === dtype && dtype !== 'string' ? share(args, tf.Cast) : builtin.kernelFunc(args as Parameters<KernelFunc>[0]);
  };
  return replacementKernelConfig(builtin, kernelFunc);
}
