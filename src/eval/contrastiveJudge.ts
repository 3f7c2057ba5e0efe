import * as tf from '@tensorflow/tfjs';
import { Params, Scope } from '../model/params.js';
import { dense } from '../model/layers.js';
import { encodeText, type TextEncoderConfig } from '../model/textEncoder.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { imageTower, type ImageTowerConfig } from './imageTower.js';

export interface ContrastiveJudgeConfig {
  resolution: number;
  maxWords: number;
  image: ImageTowerConfig;
  text: TextEncoderConfig;
  /** Width of the shared embedding space. */
  embed: number;
}

/** CLIP's cap on the learned logit scale (a temperature of 0.01). */
const MAX_LOGIT_SCALE = 100;

/**
 * Our CLIP: an image tower and a text tower mapped into one space of unit vectors, trained
 * with InfoNCE. Align = 100·cosine(image, caption); retrieval ranks captions by cosine.
 */
export class ContrastiveJudge {
  constructor(
    readonly config: ContrastiveJudgeConfig,
    readonly tokenizer: Tokenizer,
    readonly params: Params,
  ) {}

  static create(config: ContrastiveJudgeConfig, tokenizer: Tokenizer, seed: number): ContrastiveJudge {
    const judge = new ContrastiveJudge(config, tokenizer, new Params(seed));
    tf.tidy(() => {
      judge.imageEmbedding(tf.zeros([1, config.resolution, config.resolution, 3]));
      judge.textEmbedding(['']);
      judge.logitScale();
    });
    judge.params.freezeShapes();
    return judge;
  }

  /** [B,R,R,3] in [-1, 1] -> [B, embed] unit vectors. Call inside tf.tidy. */
  imageEmbedding(x: tf.Tensor4D): tf.Tensor2D {
    const scope = new Scope(this.params, 'image/');
    return unit(dense(scope.child('project'), imageTower(scope, this.config.image, x), this.config.embed, undefined, false) as tf.Tensor2D);
  }

  /** Captions -> [B, embed] unit vectors. Call inside tf.tidy. */
  textEmbedding(captions: readonly string[]): tf.Tensor2D {
    const scope = new Scope(this.params, 'text/');
    const { ids, mask } = this.tokenizer.encodeBatch(captions);
    const L = this.config.maxWords;
    const { pooled } = encodeText(scope, this.config.text, this.tokenizer.vocabSize, tf.tensor2d(ids, [captions.length, L], 'int32'), tf.tensor2d(mask, [captions.length, L]));
    return unit(dense(scope.child('project'), pooled, this.config.embed, undefined, false) as tf.Tensor2D);
  }

  /** exp(s), s learned (initialised at log(1/0.07) as in CLIP), capped at 100. */
  logitScale(): tf.Scalar {
    const s = this.params.get('logit_scale', [], { uniform: 0 });
    return tf.minimum(tf.exp(tf.add(s, Math.log(1 / 0.07))), MAX_LOGIT_SCALE) as tf.Scalar;
  }
}

function unit(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), 1e-8)) as tf.Tensor2D;
}

/**
 * Symmetric InfoNCE over a batch of matching (image, text) rows: the mean of the
 * image-to-text and text-to-image cross-entropies of scale·I·Tᵀ with the diagonal as targets.
 */
export function infoNceLoss(images: tf.Tensor2D, texts: tf.Tensor2D, scale: tf.Scalar): tf.Scalar {
  return tf.tidy(() => {
    const B = images.shape[0];
    const logits = tf.mul(tf.matMul(images, texts, false, true), scale) as tf.Tensor2D; // [B,B]
    const targets = tf.oneHot(tf.range(0, B, 1, 'int32'), B);
    const i2t = tf.losses.softmaxCrossEntropy(targets, logits);
    const t2i = tf.losses.softmaxCrossEntropy(targets, tf.transpose(logits));
    return tf.div(tf.add(i2t, t2i), 2) as tf.Scalar;
  });
}
