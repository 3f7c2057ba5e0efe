/**
 * `UnsortedSegmentSum` for the wasm backend, which ships without one, so the gradient of
 * `tf.gather` (an embedding lookup) fails there. The op is small (at most vocab x dim
 * outputs), so a JS loop over the wasm heap is enough; no C++ kernel is needed.
 *
 *   out[s, ...] = sum over positions p of segmentIds with segmentIds[p] == s of x[p, ...]
 *
 * Ids outside [0, numSegments), negative ones included, are dropped, as on the cpu backend.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WASM_BACKEND, type WasmKernelArgs } from './wasmKernelUtil.js';

function unsortedSegmentSumWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs } = args;
  // Kernels registered for 'wasm' are only ever called with the wasm backend instance.
  const backend = args.backend as BackendWasm;
  const x = inputs['x'];
  const segmentIds = inputs['segmentIds'];
  const numSegments = args.attrs?.['numSegments'];
  if (x === undefined || segmentIds === undefined) {
    throw new Error('UnsortedSegmentSum (wasm): inputs x and segmentIds are required');
  }
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum (wasm): numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm): x must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    // tf.unsortedSegmentSum casts ids to int32; only a direct runKernel call gets here.
    throw new Error(`UnsortedSegmentSum (wasm): segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  if (idRank < 1 || idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`UnsortedSegmentSum (wasm): segmentIds shape [${segmentIds.shape}] must be a non-empty ` + `prefix of x shape [${x.shape}]`);
  }

  const inner = x.shape.slice(idRank);
  const innerSize = inner.reduce((a, b) => a * b, 1);
  // Views straight onto the heap: valid only until the next allocation (makeOutput may
  // grow the heap and detach its buffer), so the sums are finished before that.
  const xv = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  // Accumulate in float64 like the cpu backend's Sum, in row order: float32 results then
  // agree with cpu bit for bit (for finite inputs), and int32 sums wrap only at the end.
  const acc = new Float64Array(numSegments * innerSize);
  for (let p = 0; p < ids.length; p++) {
    const s = ids[p] as number;
    if (s < 0 || s >= numSegments) continue;
    const src = p * innerSize;
    const dst = s * innerSize;
    for (let j = 0; j < innerSize; j++) {
      acc[dst + j] = (acc[dst + j] as number) + (xv[src + j] as number);
    }
  }

  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  // The heap memory makeOutput returns is not zeroed: set() writes every element.
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

/** Kernel config: register with `tf.registerKernel` (done by `registerWasmKernels`). */
export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: WASM_BACKEND,
  kernelFunc: unsortedSegmentSumWasm as unknown as KernelFunc,
};
