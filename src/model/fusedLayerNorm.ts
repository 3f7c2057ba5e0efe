/**
 * Layer norm over the last axis as one kernel forward and one backward, where the active
 * backend has them (wasm with the native addon: src/kernels/nativeLayerKernels.ts,
 * native/layerNorm.c). Composed of tfjs ops it runs about 10 kernels forward and 25 backward.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_LAYER_NORM, FUSED_LAYER_NORM_GRAD, type FusedLayerNormAttrs } from '../kernels/nativeLayerKernels.js';

/** Whether the active backend runs the fused layer-norm kernels. */
export function fusedLayerNormAvailable(): boolean {
  return tf.getKernel(FUSED_LAYER_NORM, tf.getBackend()) !== undefined;
}

/** The op for one eps, made once and kept. */
const ops = new Map<number, (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor>();

/**
 * (x - mean) / sqrt(var + eps) · gamma + beta over the last axis of x. Gradients flow to x,
 * gamma and beta. Call only where `fusedLayerNormAvailable()`.
 */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  let op = ops.get(eps);
  if (op === undefined) {
    const attrs = { eps } satisfies FusedLayerNormAttrs as unknown as tf.NamedAttrMap;
    op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([xi, g]);
      return {
        value: tf.engine().runKernel(FUSED_LAYER_NORM, { x: xi, gamma: g, beta: b }, attrs) as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(FUSED_LAYER_NORM_GRAD, { dy, x: saved[0] as tf.Tensor, gamma: saved[1] as tf.Tensor }, attrs) as tf.Tensor[],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;
    ops.set(eps, op);
  }
  return op(x, gamma, beta);
}
