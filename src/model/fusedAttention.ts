/**
 * Multi-head attention as one kernel forward and one backward, where the active backend has
 * them (wasm with the native addon: src/kernels/nativeLayerKernels.ts, native/attention.c).
 * Composed of tfjs ops, one attention call runs about 20 kernels forward (the heads reshaped
 * and transposed out of q, k and v and back into the output, the scale, two batched matmuls,
 * the softmax) and about as many backward, each with the engine's bookkeeping; the base-S
 * UNet makes 10 such calls per pass. The fused kernels read every head in place.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_ATTENTION, FUSED_ATTENTION_GRAD, type FusedAttentionAttrs } from '../kernels/nativeLayerKernels.js';

/** Whether the active backend runs the fused attention kernels. */
export function fusedAttentionAvailable(): boolean {
  return tf.getKernel(FUSED_ATTENTION, tf.getBackend()) !== undefined;
}

type Inputs = Record<string, tf.Tensor>;

/** The op for `heads` heads, with or without a key bias, made once and kept (tf.customGrad per call would rebuild it). */
const ops = new Map<string, (...inputs: tf.Tensor[]) => tf.Tensor>();

function attentionOp(heads: number, withBias: boolean): (...inputs: tf.Tensor[]) => tf.Tensor {
  const key = `${heads} ${withBias}`;
  let op = ops.get(key);
  if (op === undefined) {
    const attrs = { heads } satisfies FusedAttentionAttrs as unknown as tf.NamedAttrMap;
    const names = withBias ? ['q', 'k', 'v', 'keyBias'] : ['q', 'k', 'v'];
    const named = (ts: tf.Tensor[]): Inputs => Object.fromEntries(names.map((n, i) => [n, ts[i] as tf.Tensor]));
    op = tf.customGrad(((...args: unknown[]) => {
      const inputs = args.slice(0, names.length) as tf.Tensor[];
      const save = args[names.length] as tf.GradSaveFunc;
      save(inputs);
      return {
        value: tf.engine().runKernel(FUSED_ATTENTION, named(inputs), attrs) as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(FUSED_ATTENTION_GRAD, { dy, ...named(saved) }, attrs) as tf.Tensor[],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
    ops.set(key, op);
  }
  return op;
}

/**
 * softmax(q kᵀ / sqrt(d) + keyBias) v per head, q: [B,Nq,C], k and v: [B,Nk,C], keyBias: [B,Nk]
 * or null; [B,Nq,C]. Gradients flow to q, k, v (and keyBias). Call only where
 * `fusedAttentionAvailable()`.
 */
export function fusedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, keyBias: tf.Tensor2D | null): tf.Tensor3D {
  const op = attentionOp(heads, keyBias !== null);
  return (keyBias === null ? op(q, k, v) : op(q, k, v, keyBias)) as tf.Tensor3D;
}
