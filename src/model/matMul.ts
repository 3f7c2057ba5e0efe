import * as tf from '@tensorflow/tfjs';

/**
 * `a @ b` (rank 2, or rank 3 batched) whose gradient never asks the backend for a
 * transposed matmul: tfjs's own gradient calls matMul with transposeA/transposeB, which the
 * wasm backend runs as a naive loop (about 2.6 GFLOP/s here, DESIGN.md) instead of XNNPACK.
 * Transposing explicitly first keeps every product on the fast path.
 */
export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
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
