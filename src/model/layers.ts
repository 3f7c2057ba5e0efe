import * as tf from '@tensorflow/tfjs';
import { convWithBias } from './convBias.js';
import { fusedAttention, fusedAttentionAvailable } from './fusedAttention.js';
import { fusedDense, fusedDenseAvailable } from './fusedDense.js';
import { fusedGroupNorm, fusedGroupNormAvailable } from './fusedGroupNorm.js';
import { fusedLayerNorm, fusedLayerNormAvailable } from './fusedLayerNorm.js';
import { matMul, matMulTransposeB } from './matMul.js';
import { glorotUniform, heNormal, ones, zeros, type Init, type Scope } from './params.js';

let flopCount: number | null = null;

/**
 * Multiply-add FLOPs (2 per multiply-add) of the matmuls and convolutions that `fn` runs:
 * the work that dominates a UNet's cost. Used for the model card and the bench's GFLOP/s.
 */
export function countFlops(fn: () => void): number {
  flopCount = 0;
  try {
    // A block body: tf.tidy would keep tensors that fn returns.
    tf.tidy(() => {
      fn();
    });
    return flopCount;
  } finally {
    flopCount = null;
  }
}

function addFlops(n: number): void {
  if (flopCount !== null) flopCount += n;
}

/**
 * The layers shared by the UNet and the text encoder, as functions of (scope, input):
 * parameters are looked up (or created on first use) under the scope's prefix.
 */

/** Dense layer over the last axis: [..., Cin] -> [..., cout]. */
export function dense(scope: Scope, x: tf.Tensor, cout: number, init?: Init, bias = true): tf.Tensor {
  const cin = x.shape[x.shape.length - 1] as number;
  const w = scope.get('w', [cin, cout], init ?? glorotUniform(cin, cout));
  const b = bias ? scope.get('b', [cout], zeros) : undefined;
  addFlops(2 * (x.size / cin) * cin * cout);
  if (fusedDenseAvailable()) return fusedDense(x, w, b);
  let y: tf.Tensor = matMul(x.reshape([-1, cin]) as tf.Tensor2D, w as tf.Tensor as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return y.reshape([...x.shape.slice(0, -1), cout]);
}

/** 'same' convolution over NHWC: [B,H,W,Cin] -> [B,H/stride,W/stride,cout]. */
export function conv(scope: Scope, x: tf.Tensor4D, cout: number, kernel = 3, stride = 1, init?: Init): tf.Tensor4D {
  const cin = x.shape[3];
  const w = scope.get('w', [kernel, kernel, cin, cout], init ?? heNormal(kernel * kernel * cin));
  // The bias rides in the convolution (one pass over the output instead of two).
  const y = convWithBias(x, w as tf.Tensor as tf.Tensor4D, scope.get('b', [cout], zeros) as tf.Tensor as tf.Tensor1D, stride);
  addFlops(2 * y.size * kernel * kernel * cin);
  return y;
}

/** x * sigmoid(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Group normalisation over NHWC with a learned per-channel scale and shift. Where the backend
 * has the fused kernels (fusedGroupNorm.ts) they run it; otherwise it is composed of tfjs ops.
 */
export function groupNorm(scope: Scope, x: tf.Tensor4D, groups: number, eps = 1e-5): tf.Tensor4D {
  return normalize(scope, x, groups, eps, false);
}

/**
 * silu(groupNorm(x)): the UNet's norm-then-activation, fused where the backend can. `add`
 * [B, C], when given, is added to every pixel of image b first (x + add, the res block's
 * timestep embedding), inside the fused kernels where they run.
 */
export function groupNormSilu(scope: Scope, x: tf.Tensor4D, groups: number, eps = 1e-5, add?: tf.Tensor2D): tf.Tensor4D {
  return normalize(scope, x, groups, eps, true, add);
}

function normalize(scope: Scope, x: tf.Tensor4D, groups: number, eps: number, withSilu: boolean, add?: tf.Tensor2D): tf.Tensor4D {
  const [B, , , C] = x.shape;
  if (C % groups !== 0) throw new Error(`groupNorm: ${C} channels do not split into ${groups} groups`);
  const scale = scope.get('scale', [C], ones);
  const shift = scope.get('shift', [C], zeros);
  if (fusedGroupNormAvailable()) return fusedGroupNorm(x, scale, shift, { groups, eps, silu: withSilu }, add);
  const input = add === undefined ? x : (tf.add(x, add.reshape([B, 1, 1, C])) as tf.Tensor4D);
  const y = composedGroupNorm(input, scale, shift, groups, eps);
  return withSilu ? silu(y) : y;
}

/**
 * Group norm from tfjs ops. The statistics are taken on a channels-first copy
 * [B, G, (C/G)·H·W], where each group is one contiguous row, so the reductions run over the
 * innermost axis: reducing the grouped NHWC view [B,H,W,G,C/G] over axes 1, 2, 4 made the
 * wasm backend transpose inside every reduction, and with C/G = 2 at 32x32 its broadcasts ran
 * several times slower (group norm was 18% of a sampling step; now about 2x less). The
 * normalisation is applied as one per-channel x·a + b on the plain [B,H,W,C] layout.
 */
function composedGroupNorm(x: tf.Tensor4D, scale: tf.Tensor, shift: tf.Tensor, groups: number, eps: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const perGroup = C / groups;
  const rows = tf.transpose(x.reshape([B, H * W, C]), [0, 2, 1]).reshape([B, groups, perGroup * H * W]);
  const { mean, variance } = tf.moments(rows, 2, true); // [B,G,1]
  const inv = tf.rsqrt(tf.add(variance, eps));
  // [B,G,1] -> [B,1,1,C] by broadcasting against ones.
  const spread = tf.ones([1, 1, perGroup]);
  const perChannel = (t: tf.Tensor): tf.Tensor => tf.mul(t, spread).reshape([B, 1, 1, C]);
  const a = tf.mul(perChannel(inv), scale); // [B,1,1,C]
  const b = tf.sub(shift, tf.mul(perChannel(mean), a));
  return tf.add(tf.mul(x, a), b);
}

/** Layer normalisation over the last axis. */
export function layerNorm(scope: Scope, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const C = x.shape[x.shape.length - 1] as number;
  const scale = scope.get('scale', [C], ones);
  const shift = scope.get('shift', [C], zeros);
  if (fusedLayerNormAvailable()) return fusedLayerNorm(x, scale, shift, eps);
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, scale), shift);
}

/**
 * Sinusoidal embedding of integer timesteps (Transformer/DDPM style), [B] -> [B, dim]:
 * the first half cosines, the second half sines, frequencies 10000^(-i/half).
 */
export function timestepEmbedding(t: ArrayLike<number>, dim: number): tf.Tensor2D {
  if (!(Number.isInteger(dim) && dim > 0 && dim % 2 === 0)) throw new Error(`timestepEmbedding: dim must be a positive even integer, got ${dim}`);
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const angle = (t[b] as number) * Math.exp((-Math.log(10000) * i) / half);
      out[b * dim + i] = Math.cos(angle);
      out[b * dim + half + i] = Math.sin(angle);
    }
  }
  return tf.tensor2d(out, [t.length, dim]);
}

/**
 * Multi-head scaled dot-product attention. q: [B,Nq,C], k and v: [B,Nk,C] (already
 * projected), keyBias: [B,Nk] added to the logits (0 to keep, a large negative number to
 * mask a padded key) or null. Returns [B,Nq,C].
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, keyBias: tf.Tensor2D | null): tf.Tensor3D {
  const [B, Nq, C] = q.shape;
  const Nk = k.shape[1];
  if (C % heads !== 0) throw new Error(`attention: width ${C} does not split into ${heads} heads`);
  const d = C / heads;
  addFlops(2 * 2 * B * Nq * Nk * C);
  if (fusedAttentionAvailable()) return fusedAttention(q, k, v, heads, keyBias);
  // [B,N,C] -> [B*heads, N, d]
  const split = (x: tf.Tensor3D, n: number): tf.Tensor3D => tf.transpose(x.reshape([B, n, heads, d]), [0, 2, 1, 3]).reshape([B * heads, n, d]);
  const qh = tf.mul(split(q, Nq), 1 / Math.sqrt(d));
  let logits = matMulTransposeB(qh as tf.Tensor3D, split(k, Nk)).reshape([B, heads, Nq, Nk]);
  if (keyBias) logits = tf.add(logits, keyBias.reshape([B, 1, 1, Nk]));
  const weights = tf.softmax(logits).reshape([B * heads, Nq, Nk]) as tf.Tensor3D;
  const out = matMul(weights, split(v, Nk)); // [B*heads, Nq, d]
  return tf.transpose(out.reshape([B, heads, Nq, d]), [0, 2, 1, 3]).reshape([B, Nq, C]);
}

/** Logit bias that masks padded keys: mask 1 -> 0, mask 0 -> -1e9. [B,N] -> [B,N]. */
export function maskToBias(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.sub(1, mask), -1e9);
}
