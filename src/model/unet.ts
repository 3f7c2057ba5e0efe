import * as tf from '@tensorflow/tfjs';
import { attention, conv, dense, groupNorm, groupNormSilu, layerNorm, silu, timestepEmbedding } from './layers.js';
import { zeros, type Scope } from './params.js';
import type { TextContext } from './textEncoder.js';

/** Width and depth of the UNet (improved-diffusion layout, SD-style text conditioning). */
export interface UNetConfig {
  /** Channels per resolution level, from full resolution down (each level halves H and W). */
  channels: number[];
  /**
   * Residual blocks per level, the same number on the way down and up; each block on the way
   * up takes the matching block's output as its skip. (improved-diffusion adds one more block
   * on the way up for the downsamplers' outputs; at 32x32 that block costs a third of the
   * FLOPs, which this CPU cannot spare.)
   */
  resBlocks: number[];
  /** Levels (indices into `channels`) with self-attention and cross-attention on the text. */
  attentionLevels: number[];
  heads: number;
  /** Group-norm groups; every channel count must divide by it. */
  groups: number;
  /** Width of the timestep (+ pooled text) embedding. */
  embedWidth: number;
}

/**
 * Predicts the noise eps in xt. x: [B,R,R,3], t: integer timesteps [B], text: the text
 * encoder's output for the B captions. Returns [B,R,R,3].
 */
export function unet(scope: Scope, cfg: UNetConfig, x: tf.Tensor4D, t: ArrayLike<number>, text: TextContext): tf.Tensor4D {
  const levels = cfg.channels.length;
  if (cfg.resBlocks.length !== levels) throw new Error(`unet: resBlocks has ${cfg.resBlocks.length} entries for ${levels} levels`);
  const E = cfg.embedWidth;
  // Timestep embedding plus the pooled caption, as SD-XL adds its pooled text vector.
  let emb = dense(scope.child('time1'), timestepEmbedding(t, E / 2), E);
  emb = dense(scope.child('time2'), silu(emb), E);
  emb = silu(tf.add(emb, dense(scope.child('pooled'), text.pooled, E))) as tf.Tensor2D;

  const block = (s: Scope, h: tf.Tensor4D, cout: number, level: number): tf.Tensor4D => {
    h = resBlock(s.child('res'), h, emb as tf.Tensor2D, cout, cfg.groups);
    return cfg.attentionLevels.includes(level) ? attentionBlock(s.child('attn'), h, text, cfg.heads, cfg.groups) : h;
  };

  let h = conv(scope.child('in'), x, cfg.channels[0] as number);
  const skips: tf.Tensor4D[] = [];
  for (let level = 0; level < levels; level++) {
    for (let r = 0; r < (cfg.resBlocks[level] as number); r++) {
      h = block(scope.child(`down${level}/block${r}`), h, cfg.channels[level] as number, level);
      skips.push(h);
    }
    if (level < levels - 1) h = conv(scope.child(`down${level}/downsample`), h, h.shape[3], 3, 2);
  }
  const deepest = levels - 1;
  h = resBlock(scope.child('mid/res1'), h, emb as tf.Tensor2D, cfg.channels[deepest] as number, cfg.groups);
  h = attentionBlock(scope.child('mid/attn'), h, text, cfg.heads, cfg.groups);
  h = resBlock(scope.child('mid/res2'), h, emb as tf.Tensor2D, cfg.channels[deepest] as number, cfg.groups);
  for (let level = deepest; level >= 0; level--) {
    for (let r = 0; r < (cfg.resBlocks[level] as number); r++) {
      h = tf.concat([h, skips.pop() as tf.Tensor4D], 3);
      h = block(scope.child(`up${level}/block${r}`), h, cfg.channels[level] as number, level);
    }
    if (level > 0) {
      // Convolve before enlarging, to the finer level's width: the same receptive field as
      // the usual enlarge-then-convolve at a quarter of the cost, which matters most at 32x32.
      const [, H, W] = h.shape;
      h = tf.image.resizeNearestNeighbor(conv(scope.child(`up${level}/upsample`), h, cfg.channels[level - 1] as number), [2 * H, 2 * W]);
    }
  }
  h = groupNormSilu(scope.child('out/norm'), h, cfg.groups);
  return conv(scope.child('out'), h, 3, 3, 1, zeros);
}

/** GN-SiLU-conv, add the embedding, GN-SiLU-conv (zero-initialised, so a new block starts as the identity), plus a skip. */
function resBlock(s: Scope, x: tf.Tensor4D, emb: tf.Tensor2D, cout: number, groups: number): tf.Tensor4D {
  const h = conv(s.child('conv1'), groupNormSilu(s.child('norm1'), x, groups), cout);
  // h + the embedding [B, cout] per pixel, added inside the norm's kernels where they are fused.
  const h2 = conv(s.child('conv2'), groupNormSilu(s.child('norm2'), h, groups, 1e-5, dense(s.child('emb'), emb, cout) as tf.Tensor2D), cout, 3, 1, zeros);
  const skip = x.shape[3] === cout ? x : conv(s.child('skip'), x, cout, 1);
  return tf.add(skip, h2);
}

/** Self-attention over the H*W positions, then cross-attention from them to the caption's tokens (SD's transformer block, without its MLP). */
function attentionBlock(s: Scope, x: tf.Tensor4D, text: TextContext, heads: number, groups: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const h = groupNorm(s.child('norm'), x, groups).reshape([B, H * W, C]);
  const q = dense(s.child('q'), h, C, undefined, false) as tf.Tensor3D;
  const k = dense(s.child('k'), h, C, undefined, false) as tf.Tensor3D;
  const v = dense(s.child('v'), h, C, undefined, false) as tf.Tensor3D;
  let y = tf.add(x.reshape([B, H * W, C]), dense(s.child('proj'), attention(q, k, v, heads, null), C, zeros)) as tf.Tensor3D;
  const h2 = layerNorm(s.child('crossNorm'), y);
  const cq = dense(s.child('crossQ'), h2, C, undefined, false) as tf.Tensor3D;
  const ck = dense(s.child('crossK'), text.tokens, C, undefined, false) as tf.Tensor3D;
  const cv = dense(s.child('crossV'), text.tokens, C, undefined, false) as tf.Tensor3D;
  y = tf.add(y, dense(s.child('crossProj'), attention(cq, ck, cv, heads, text.keyBias), C, zeros)) as tf.Tensor3D;
  return y.reshape([B, H, W, C]);
}
