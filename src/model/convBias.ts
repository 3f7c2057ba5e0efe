/**
 * A same-padded NHWC convolution plus a per-channel bias, as the FusedConv2D kernel with a
 * gradient of our own registered for it. tf.fused.conv2d wraps that kernel in tf.customGrad,
 * which keeps four copies for the backward pass (x, the filter, the bias and the output,
 * which a linear activation does not need) and computes every input's gradient whether it
 * is needed or not (the first convolution's input is the noised image); a registered
 * gradient keeps x and the filter, and tfjs asks it only for the gradients it needs. The
 * kernels are the same ones (FusedConv2D forward; Conv2DBackpropInput, Conv2DBackpropFilter
 * and Sum backward, with tf.fused.conv2d's attributes), so the results are its, bit for bit.
 * Where tfjs has a gradient of its own for FusedConv2D, tf.fused.conv2d runs instead.
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedConv2DAttrs, NamedAttrMap } from '@tensorflow/tfjs';

const KERNEL = 'FusedConv2D';

const gradient: tf.GradConfig = {
  kernelName: KERNEL,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as FusedConv2DAttrs;
    const dilations = typeof a.dilations === 'number' ? [a.dilations] : (a.dilations ?? [1]);
    if ((a.activation ?? 'linear') !== 'linear' || (a.dataFormat ?? 'NHWC') !== 'NHWC' || dilations.some((d) => d !== 1)) {
      throw new Error(`${KERNEL} gradient (src/model/convBias.ts): only NHWC, a linear activation and dilation 1, got ${JSON.stringify(a)}`);
    }
    const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode };
    const d = dy as tf.Tensor4D;
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter }, { ...conv, inputShape: x.shape } as unknown as NamedAttrMap) as tf.Tensor,
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: d }, { ...conv, filterShape: filter.shape } as unknown as NamedAttrMap) as tf.Tensor,
      bias: () => tf.sum(d, [0, 1, 2]),
    };
  },
};

let ours: boolean | undefined;

/** Registers our gradient unless tfjs has one; whether ours is the one registered. */
function ownGradient(): boolean {
  if (ours === undefined) {
    const existing = tf.getGradient(KERNEL) as tf.GradConfig | undefined;
    if (existing === undefined) tf.registerGradient(gradient);
    ours = existing === undefined || existing === gradient;
  }
  return ours;
}

/** x [B,H,W,Cin] convolved with filter [k,k,Cin,Cout] ('same' padding, `stride`) plus bias [Cout]. */
export function convWithBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number): tf.Tensor4D {
  if (!ownGradient()) return tf.fused.conv2d({ x, filter, strides: stride, pad: 'same', bias });
  // tf.fused.conv2d's own checks, which the kernels do not repeat.
  if (x.rank !== 4 || filter.rank !== 4 || filter.shape[2] !== x.shape[3] || bias.rank !== 1 || bias.shape[0] !== filter.shape[3]) {
    throw new Error(`convWithBias: x [B,H,W,Cin], filter [k,k,Cin,Cout] and bias [Cout] expected, got x [${x.shape}], filter [${filter.shape}], bias [${bias.shape}]`);
  }
  const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' };
  return tf.engine().runKernel(KERNEL, { x, filter, bias }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
}
