/**
 * Native kernels that move data rather than compute (native/split.c, gather.c, resize.c),
 * where the wasm backend's own are slow paths: its SplitV runs a Slice per output, each of
 * which copies the whole input out of the heap and then every row with a JavaScript call (the
 * gradient of the UNet's skip connections splits channels, one row per pixel); its Gather
 * works out each element's position with index arithmetic and a heap allocation; and its
 * nearest-neighbour resize copies element by element and its gradient searches a window of dy
 * for every element of dx (the UNet's 2x upsampling). Each falls back, by returning null, to
 * the kernel it replaces for what it does not handle (other dtypes, more outputs than one
 * call takes). Registered by nativeWasmKernels.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { GatherV2Attrs, ResizeNearestNeighborAttrs, SplitVAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './nativeAddon.js';
import { heapFloats, heapOf, offsetOf } from './wasmHeap.js';
import type { WasmKernelArgs } from './wasmKernelUtil.js';

type Kernel = (args: WasmKernelArgs) => TensorInfo | TensorInfo[] | null;

/** One parameter block per kernel call, reused (calls never overlap on a thread). */
const params = new Float64Array(40);

/** Outputs of one native split (native/addon.c takes up to 16); more go to the built-in. */
const MAX_SPLIT_OUTPUTS = 16;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** SplitV of a float32 tensor along any axis, as rows [outer, inner_i]: one pass over the input. */
function splitV(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
    if (x.dtype !== 'float32') return null;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    if (sizes.length > MAX_SPLIT_OUTPUTS) return null;
    const outs = sizes.map((s) =>
      backend.makeOutput(
        x.shape.map((d, i) => (i === ax ? s : d)),
        'float32',
      ),
    );
    const outer = sizeOf(x.shape.slice(0, ax));
    const rowOf = (s: number): number => s * sizeOf(x.shape.slice(ax + 1));
    if (sizeOf(x.shape) === 0) return outs;
    params[0] = outer;
    params[1] = outs.length;
    params[2] = offsetOf(backend, x);
    outs.forEach((t, i) => {
      const inner = rowOf(sizes[i] as number);
      // An empty output has no buffer to write: the addon skips an offset of -1.
      params[3 + 2 * i] = inner === 0 ? -1 : offsetOf(backend, t);
      params[4 + 2 * i] = inner;
    });
    addon.splitRows(heapOf(backend), params);
    return outs;
  };
}

/** GatherV2 of float32 or int32 slices with int32 indices: one copy per slice. */
function gatherV2(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return null;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const axisDim = x.shape[ax] as number;
    // The built-in's check and message, on a view of the indices (no copy).
    for (const index of backend.typedArrayFromHeap(indices)) {
      tf.util.assert(index <= axisDim - 1 && index >= 0, () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`);
    }
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, ax, batchDims ?? 0);
    const out = backend.makeOutput(info.outputShape, x.dtype);
    if (sizeOf(x.shape) === 0 || sizeOf(info.outputShape) === 0) return out;
    params.set([info.batchSize, info.outerSize, info.dimSize, info.sliceSize, sizeOf(indices.shape) / info.batchSize, offsetOf(backend, x), offsetOf(backend, indices), offsetOf(backend, out)]);
    addon.gatherSlices(heapOf(backend), params);
    return out;
  };
}

/** Writes the 8 shape numbers of native/resize.c: batch, inH, inW, c, outH, outW, alignCorners, halfPixelCenters. */
function writeResizeShape(images: TensorInfo, outH: number, outW: number, attrs: ResizeNearestNeighborAttrs): void {
  const [b, h, w, c] = images.shape as [number, number, number, number];
  params.set([b, h, w, c, outH, outW, attrs.alignCorners ? 1 : 0, attrs.halfPixelCenters ? 1 : 0]);
}

/** ResizeNearestNeighbor of float32 NHWC images: one copy per output pixel. */
function resizeNearestNeighbor(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const images = args.inputs['images'] as TensorInfo;
    const attrs = args.attrs as unknown as ResizeNearestNeighborAttrs;
    if (images.dtype !== 'float32' || images.shape.length !== 4) return null;
    const [outH, outW] = attrs.size;
    const [b, , , c] = images.shape as [number, number, number, number];
    const out = backend.makeOutput([b, outH, outW, c], 'float32');
    if (sizeOf(images.shape) === 0 || sizeOf(out.shape) === 0) return out;
    writeResizeShape(images, outH, outW, attrs);
    params[8] = offsetOf(backend, images);
    params[9] = offsetOf(backend, out);
    addon.resizeNearest(heapOf(backend), params);
    return out;
  };
}

/** ResizeNearestNeighborGrad: each dy pixel added into its source pixel, in one pass over dy. */
function resizeNearestNeighborGrad(addon: NativeAddon): Kernel {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as ResizeNearestNeighborAttrs;
    if (dy.dtype !== 'float32' || images.shape.length !== 4 || dy.shape.length !== 4) return null;
    const dx = backend.makeOutput(images.shape, 'float32');
    if (sizeOf(images.shape) === 0) return dx;
    if (sizeOf(dy.shape) === 0) {
      heapFloats(backend, dx).fill(0); // nothing flows back; makeOutput's memory is not zeroed
      return dx;
    }
    writeResizeShape(images, dy.shape[1] as number, dy.shape[2] as number, attrs);
    params[8] = offsetOf(backend, dy);
    params[9] = offsetOf(backend, dx);
    addon.resizeNearestGrad(heapOf(backend), params);
    return dx;
  };
}

/** The kernels this file replaces, each by a maker taking the addon. */
export const NATIVE_COPY_KERNELS: [string, (addon: NativeAddon) => Kernel][] = [
  ['SplitV', splitV],
  ['GatherV2', gatherV2],
  ['ResizeNearestNeighbor', resizeNearestNeighbor],
  ['ResizeNearestNeighborGrad', resizeNearestNeighborGrad],
];
