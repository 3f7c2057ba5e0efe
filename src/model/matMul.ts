import * as tf from '@tensorflow/tfjs';
import { nativeKernelsOn } from '../kernels/index.js';

/**
 * Whether the active backend multiplies transposed operands as fast as plain ones: all do
 * but wasm without the native kernels, whose transposed BatchMatMul is a naive loop (about
 * 2.6 GFLOP/s here, docs/DESIGN.md) instead of XNNPACK.
 */
function transposedProductsAreFast(): boolean {
  return tf.getBackend() !== 'wasm' || nativeKernelsOn();
}

/** `a @ b` (rank 2, or rank 3 batched), with a gradient that is fast on every backend. */
export function matMul<T extends tf.Tensor>(a: T, b: T): T {
  return transposedProductsAreFast() ? (tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D) as tf.Tensor as T) : matMulExplicitTransposes(a, b);
}

/** `a @ bᵀ` over the last two axes, without a transpose where the backend does not need one. */
export function matMulTransposeB<T extends tf.Tensor>(a: T, b: T): T {
  return transposedProductsAreFast() ? (tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true) as tf.Tensor as T) : matMulExplicitTransposes(a, swapLast(b));
}

/**
 * `a @ b` whose gradient never asks the backend for a transposed matmul: tfjs's own gradient
 * calls matMul with transposeA/transposeB. Transposing explicitly first keeps every product
 * on XNNPACK's fast path.
 */
const matMulExplicitTransposes = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  if (a.rank !== b.rank) throw new Error(`matMul: ranks ${a.rank} and ${b.rank} differ (batch broadcasting is not supported; reshape first)`);
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy as tf.Tensor3D, swapLast(sb)), tf.matMul(swapLast(sa), dy as tf.Tensor3D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(a: T, b: T) => T;

/** Transpose of the last two axes. */
export function swapLast<T extends tf.Tensor>(x: T): T {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1] as number, perm[n - 2] as number];
  return tf.transpose(x, perm);
}
