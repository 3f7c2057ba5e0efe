/**
 * Group norm (optionally followed by SiLU) as one kernel forward and one backward, where the
 * active backend has them (wasm with the native addon: src/kernels/nativeWasmKernels.ts).
 * Composed of tfjs ops, a group norm with its SiLU runs about 110 kernels forward and
 * backward, and was about a quarter of a base-S Self-DPO step once the convolutions ran
 * natively; the fused pair reads and writes each tensor once or twice.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_GROUP_NORM, FUSED_GROUP_NORM_GRAD, type FusedGroupNormAttrs } from '../kernels/nativeWasmKernels.js';

/** Whether the active backend runs the fused kernels. */
export function fusedGroupNormAvailable(): boolean {
  return tf.getKernel(FUSED_GROUP_NORM, tf.getBackend()) !== undefined;
}

/**
 * y = norm(x)·gamma + beta per channel, the statistics over each of `groups` groups of
 * contiguous channels of each image (NHWC), then SiLU when `silu`. Gradients flow to x,
 * gamma and beta. Call only where `fusedGroupNormAvailable()`.
 */
export function fusedGroupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, attrs: FusedGroupNormAttrs): tf.Tensor4D {
  const named = attrs as unknown as tf.NamedAttrMap;
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, stats] = tf.engine().runKernel(FUSED_GROUP_NORM, { x: xi, gamma: g, beta: b }, named) as tf.Tensor[];
    save([xi, g, b, stats as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sb, st] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(FUSED_GROUP_NORM_GRAD, { dy, x: sx, gamma: sg, beta: sb, stats: st }, named) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}
