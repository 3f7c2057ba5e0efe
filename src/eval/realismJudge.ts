import * as tf from '@tensorflow/tfjs';
import { dense } from '../model/layers.js';
import { Params, Scope } from '../model/params.js';
import { imageTower, type ImageTowerConfig } from './imageTower.js';

export interface RealismJudgeConfig {
  resolution: number;
  image: ImageTowerConfig;
  /**
   * Set for a judge trained against an Emoji-Pick pool, whose images are stored as JPEG: the
   * quality of that JPEG. Every image the judge is shown, real or drawn, in training, in its report
   * and in evaluation (`realismInputs`), has then been through the same JPEG at this quality, so
   * JPEG artifacts tell it nothing (docs/PROTOCOL.md "The judges"). Absent: images as drawn.
   */
  inputJpegQuality?: number;
}

/**
 * The realism judge: P(real) of an image, trained to tell real emoji (judge styles, which the
 * generator never sees) from generated ones: the samples of one base, or the images of an
 * Emoji-Pick pool's generators. Real = 100·P(real).
 */
export class RealismJudge {
  constructor(
    readonly config: RealismJudgeConfig,
    readonly params: Params,
  ) {}

  static create(config: RealismJudgeConfig, seed: number): RealismJudge {
    const judge = new RealismJudge(config, new Params(seed));
    tf.tidy(() => {
      judge.logits(tf.zeros([1, config.resolution, config.resolution, 3]));
    });
    judge.params.freezeShapes();
    return judge;
  }

  /** [B,R,R,3] in [-1, 1] -> [B] logits of "real". Call inside tf.tidy. */
  logits(x: tf.Tensor4D): tf.Tensor1D {
    const scope = new Scope(this.params, 'image/');
    return dense(scope.child('head'), imageTower(scope, this.config.image, x), 1).reshape([-1]) as tf.Tensor1D;
  }

  /** [B] P(real). Call inside tf.tidy. */
  probabilityReal(x: tf.Tensor4D): tf.Tensor1D {
    return tf.sigmoid(this.logits(x));
  }
}

/**
 * Mean binary cross-entropy of real-vs-generated logits: softplus(-z) for real images,
 * softplus(z) for generated ones (the stable form of -log sigmoid, see dpoLoss).
 */
export function realismLoss(logits: tf.Tensor1D, isReal: readonly boolean[]): tf.Scalar {
  return tf.tidy(() => {
    const sign = tf.tensor1d(isReal.map((r) => (r ? -1 : 1)));
    return tf.mean(tf.softplus(tf.mul(logits, sign))) as tf.Scalar;
  });
}
