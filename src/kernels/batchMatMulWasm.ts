/**
 * `BatchMatMul` for the wasm backend with a fast path for batch > 1. The built-in kernel
 * runs XNNPACK only when both batch sizes are 1 and nothing is transposed; any batch
 * falls into a scalar C++ loop (about 2 GFLOP/s here, against 10-30 for XNNPACK). That
 * loop is what attention's q·kᵀ and weights·v (batch B·heads) ran in.
 *
 * The fast path runs the built-in's own XNNPACK route once per batch element: each
 * element's a, b and output are registered with the backend's C++ side as tensors of
 * their own that alias the right offsets of the whole buffers (register_tensor only
 * records a pointer, dispose_data frees nothing), so no data is copied. Disposing each
 * alias id right after its product also drops the XNNPACK operator that the C++ side
 * caches per b tensor (its packed weights), so no stale packing can be reused.
 *
 * Transposed inputs, broadcast batches, empty shapes and batch 1 go to the built-in kernel.
 */
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replacementKernelConfig, type WasmKernelArgs } from './wasmKernelUtil.js';

/** The parts of the Emscripten module the fast path calls directly (no cwrap per call). */
interface WasmExports {
  _malloc(bytes: number): number;
  _register_tensor(id: number, size: number, memoryOffset: number): void;
  _dispose_data(id: number): void;
  _BatchMatMul(aId: number, aShapePtr: number, aShapeLen: number, bId: number, bShapePtr: number, bShapeLen: number, transposeA: number, transposeB: number, outId: number): void;
  HEAP32: Int32Array;
}

/** Per backend instance: a 6-int heap buffer for the two rank-3 shapes, allocated once. */
const shapeBuffers = new WeakMap<object, number>();

function shapeBuffer(wasm: WasmExports): number {
  let ptr = shapeBuffers.get(wasm);
  if (ptr === undefined) {
    ptr = wasm._malloc(6 * 4);
    shapeBuffers.set(wasm, ptr);
  }
  return ptr;
}

/** A fresh tensor id from the backend's own counter, so it never collides with a JS tensor's. */
function nextId(backend: BackendWasm): number {
  const b = backend as unknown as { dataIdNextNumber: number };
  return b.dataIdNextNumber++;
}

/**
 * The batched product through XNNPACK one batch element at a time, or null when the
 * inputs are not of the kind the fast path handles (the caller then runs the built-in).
 * Exported so that tests and benchmarks can compare it with the built-in in one process.
 */
export function batchMatMulPerElement(args: WasmKernelArgs): TensorInfo | null {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a?: TensorInfo; b?: TensorInfo };
  const attrs = args.attrs as unknown as BatchMatMulAttrs | undefined;
  if (a === undefined || b === undefined) return null;
  if (attrs?.transposeA === true || attrs?.transposeB === true) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 3 || ra !== rb) return null;
  const outer = a.shape.slice(0, -2);
  if (outer.some((d, i) => d !== b.shape[i])) return null; // broadcasting: built-in
  const batch = outer.reduce((x, y) => x * y, 1);
  const M = a.shape[ra - 2] as number;
  const K = a.shape[ra - 1] as number;
  const N = b.shape[rb - 1] as number;
  if (b.shape[rb - 2] !== K) return null; // the built-in reports the mismatch
  if (batch <= 1 || M === 0 || K === 0 || N === 0) return null;

  const wasm = backend.wasm as unknown as WasmExports;
  const out = backend.makeOutput([...outer, M, N], 'float32');
  const aOff = backend.dataIdMap.get(a.dataId)?.memoryOffset;
  const bOff = backend.dataIdMap.get(b.dataId)?.memoryOffset;
  const oOff = backend.dataIdMap.get(out.dataId)?.memoryOffset;
  if (aOff === undefined || bOff === undefined || oOff === undefined) {
    backend.disposeData(out.dataId);
    return null;
  }
  const shapes = shapeBuffer(wasm);
  const heap = wasm.HEAP32;
  const s = shapes >> 2;
  heap[s] = 1;
  heap[s + 1] = M;
  heap[s + 2] = K;
  heap[s + 3] = 1;
  heap[s + 4] = K;
  heap[s + 5] = N;
  const aStep = M * K;
  const bStep = K * N;
  const oStep = M * N;
  for (let i = 0; i < batch; i++) {
    const ai = nextId(backend);
    const bi = nextId(backend);
    const oi = nextId(backend);
    wasm._register_tensor(ai, aStep, aOff + 4 * i * aStep);
    wasm._register_tensor(bi, bStep, bOff + 4 * i * bStep);
    wasm._register_tensor(oi, oStep, oOff + 4 * i * oStep);
    wasm._BatchMatMul(ai, shapes, 3, bi, shapes + 12, 3, 0, 0, oi);
    // Aliases only: dispose_data frees no memory, but drops b's cached XNNPACK operator.
    wasm._dispose_data(ai);
    wasm._dispose_data(bi);
    wasm._dispose_data(oi);
  }
  return out;
}

/**
 * Builds the replacement kernel config around the built-in one, keeping its setupFunc:
 * tfjs runs setup functions only for kernels registered when the backend is set, and the
 * built-in's C++ binding is created there.
 */
export function makeBatchMatMulWasmConfig(builtin: KernelConfig): KernelConfig {
  const kernelFunc = (args: WasmKernelArgs): TensorInfo | TensorInfo[] => batchMatMulPerElement(args) ?? builtin.kernelFunc(args as Parameters<KernelFunc>[0]);
  return replacementKernelConfig(builtin, kernelFunc);
}
