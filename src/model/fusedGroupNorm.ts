/**
 * Group norm (optionally followed by SiLU) as one kernel forward and one backward, where the
 * active backend has them (wasm with the native addon: src/kernels/nativeWasmKernels.ts).
 * Composed of tfjs ops, a group norm with its SiLU runs about 110 kernels forward and
 * backward, and was about a quarter of a base-S Self-DPO step once the convolutions ran
 * natively; the fused pair reads and writes each tensor once or twice. A shift [B, C] may be
 * added to x inside the kernels (the res block's timestep embedding): the broadcast add and
 * its gradient's sum then run in the same passes.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_GROUP_NORM, FUSED_GROUP_NORM_GRAD, type FusedGroupNormAttrs } from '../kernels/nativeWasmKernels.js';

/** Whether the active backend runs the fused kernels. */
export function fusedGroupNormAvailable(): boolean {
  return tf.getKernel(FUSED_GROUP_NORM, tf.getBackend()) !== undefined;
}

type Op = (...inputs: tf.Tensor[]) => tf.Tensor;

/** The op for each set of attributes, with and without a shift, made once and kept. */
const ops = new Map<string, Op>();

function groupNormOp(attrs: FusedGroupNormAttrs, withShift: boolean): Op {
  const key = `${attrs.groups} ${attrs.eps} ${attrs.silu} ${withShift}`;
  let op = ops.get(key);
  if (op === undefined) {
    const named = { ...attrs } as unknown as tf.NamedAttrMap;
    op = tf.customGrad(((...args: unknown[]) => {
      const [x, gamma, beta] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
      const shift = withShift ? (args[3] as tf.Tensor) : undefined;
      const save = args[withShift ? 4 : 3] as tf.GradSaveFunc;
      const inputs: tf.NamedTensorMap = shift === undefined ? { x, gamma, beta } : { x, gamma, beta, shift };
      const [y, stats] = tf.engine().runKernel(FUSED_GROUP_NORM, inputs, named) as tf.Tensor[];
      save(shift === undefined ? [x, gamma, beta, stats as tf.Tensor] : [x, gamma, beta, stats as tf.Tensor, shift]);
      return {
        value: y as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sg, sb, st, sh] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
          const gradInputs: tf.NamedTensorMap = sh === undefined ? { dy, x: sx, gamma: sg, beta: sb, stats: st } : { dy, x: sx, gamma: sg, beta: sb, stats: st, shift: sh };
          return tf.engine().runKernel(FUSED_GROUP_NORM_GRAD, gradInputs, named) as tf.Tensor[];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Op;
    ops.set(key, op);
  }
  return op;
}

/**
 * y = norm(x + shift)·gamma + beta per channel, the statistics over each of `groups` groups of
 * contiguous channels of each image (NHWC), then SiLU when `silu`; `shift` [B, C], when given,
 * is added to every pixel of image b first. Gradients flow to x, gamma, beta (and shift). Call
 * only where `fusedGroupNormAvailable()`.
 */
export function fusedGroupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, attrs: FusedGroupNormAttrs, shift?: tf.Tensor2D): tf.Tensor4D {
  const op = groupNormOp(attrs, shift !== undefined);
  return (shift === undefined ? op(x, gamma, beta) : op(x, gamma, beta, shift)) as tf.Tensor4D;
}
