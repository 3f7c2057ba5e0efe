import * as tf from '@tensorflow/tfjs';
import { attention, dense, layerNorm, maskToBias, silu } from './layers.js';
import { type Scope } from './params.js';

/** Shape of the text encoder (our CLIP text tower analog). */
export interface TextEncoderConfig {
  /** Token width D. */
  width: number;
  /** Transformer layers. */
  layers: number;
  heads: number;
}

/** What the UNet is conditioned on. */
export interface TextContext {
  /** [B, L+1, D]: a learned start token followed by the caption's tokens. */
  readonly tokens: tf.Tensor3D;
  /** [B, L+1]: 0 for keys to attend to, -1e9 for padding. */
  readonly keyBias: tf.Tensor2D;
  /** [B, D]: the start token's output, a summary of the whole caption. */
  readonly pooled: tf.Tensor2D;
}

/**
 * A small pre-LN transformer over token ids. A learned start token is always present, so
 * the empty caption (classifier-free guidance's unconditional input) is a valid input that
 * attends to that token alone; its output is the pooled vector, as CLIP's end token is.
 * ids: [B,L] int32, mask: [B,L] float (1 = word, 0 = padding).
 */
export function encodeText(scope: Scope, cfg: TextEncoderConfig, vocabSize: number, ids: tf.Tensor2D, mask: tf.Tensor2D): TextContext {
  const [B, L] = ids.shape;
  const D = cfg.width;
  const table = scope.get('embed', [vocabSize, D], { normal: 0.02 });
  const start = scope.get('start', [1, 1, D], { normal: 0.02 });
  const position = scope.get('position', [1, L + 1, D], { normal: 0.01 });
  let x: tf.Tensor3D = tf.concat([tf.tile(start, [B, 1, 1]), tf.gather(table, ids)], 1) as tf.Tensor3D;
  x = tf.add(x, position);
  const keyBias = maskToBias(tf.concat([tf.ones([B, 1]), mask], 1) as tf.Tensor2D);
  for (let i = 0; i < cfg.layers; i++) {
    const s = scope.child(`layer${i}`);
    const h = layerNorm(s.child('norm1'), x) as tf.Tensor3D;
    const q = dense(s.child('q'), h, D) as tf.Tensor3D;
    const k = dense(s.child('k'), h, D) as tf.Tensor3D;
    const v = dense(s.child('v'), h, D) as tf.Tensor3D;
    x = tf.add(x, dense(s.child('proj'), attention(q, k, v, cfg.heads, keyBias), D));
    const h2 = layerNorm(s.child('norm2'), x);
    x = tf.add(x, dense(s.child('ff2'), silu(dense(s.child('ff1'), h2, 4 * D)), D));
  }
  const tokens = layerNorm(scope.child('final'), x) as tf.Tensor3D;
  const pooled = tokens.slice([0, 0, 0], [B, 1, D]).reshape([B, D]) as tf.Tensor2D;
  return { tokens, keyBias, pooled };
}
