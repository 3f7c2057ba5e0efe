/**
 * Where a wasm tensor lives: its byte offset in the wasm heap and the heap itself, for the
 * native kernels (nativeWasmKernels.ts, nativeCopyKernels.ts), which read and write tensors in
 * place.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The byte offset of a tensor's buffer in the wasm heap. */
export function offsetOf(backend: BackendWasm, t: TensorInfo): number {
  const off = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  if (off === undefined) throw new Error('native kernels: a tensor has no wasm heap buffer');
  return off;
}

/** The heap as it is now: any allocation (makeOutput) may have grown and replaced it. */
export function heapOf(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/** A float32 view of a tensor on the heap, valid until the next allocation. */
export function heapFloats(backend: BackendWasm, t: TensorInfo): Float32Array {
  const n = t.shape.reduce((p, d) => p * d, 1);
  return new Float32Array(heapOf(backend), offsetOf(backend, t), n);
}
