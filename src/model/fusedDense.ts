/**
 * A dense layer (x · w + b over the last axis) as one kernel forward, and one per input's
 * gradient backward, where the active backend has them (wasm with the native addon:
 * src/kernels/nativeLayerKernels.ts, native/dense.c). Composed of tfjs ops (reshape, matmul,
 * add, reshape) a dense layer runs about 20 kernels and saved copies per training pass, and
 * the UNet has about fifty: the engine's bookkeeping of those kernels, not their arithmetic,
 * was the cost. The kernel's gradient is registered with tfjs, which asks for the gradient of
 * each input apart and only where one is needed (the caption's tokens, for one, need none).
 * The results are the composed layer's, bit for bit (the same sgemm calls and bias sums).
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_DENSE, FUSED_DENSE_GRAD, type FusedDenseGradAttrs } from '../kernels/nativeLayerKernels.js';

/** Whether the active backend runs the fused dense kernels. */
export function fusedDenseAvailable(): boolean {
  return tf.getKernel(FUSED_DENSE, tf.getBackend()) !== undefined;
}

function gradientOf(of: FusedDenseGradAttrs['of'], dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(FUSED_DENSE_GRAD, { dy, x, w }, { of } satisfies FusedDenseGradAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

let gradientRegistered = false;

/**
 * x [..., cin] · w [cin, cout] (+ b [cout]): [..., cout]. Gradients flow to x, w and b. Call
 * only where `fusedDenseAvailable()`.
 */
export function fusedDense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  if (!gradientRegistered) {
    tf.registerGradient({
      kernelName: FUSED_DENSE,
      inputsToSave: ['x', 'w'],
      gradFunc: (dy, saved) => {
        const [x0, w0] = saved as [tf.Tensor, tf.Tensor];
        const d = dy as tf.Tensor;
        return { x: () => gradientOf('x', d, x0, w0), w: () => gradientOf('w', d, x0, w0), b: () => gradientOf('b', d, x0, w0) };
      },
    });
    gradientRegistered = true;
  }
  return tf.engine().runKernel(FUSED_DENSE, b === undefined ? { x, w } : { x, w, b }) as tf.Tensor;
}
