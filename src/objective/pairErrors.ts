import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextContext } from '../model/textEncoder.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { denoisingError } from './denoisingError.js';

/** Preference pairs as tensors: winner i and loser i share eps[i], t[i] and captions[i] (the winner's). */
export interface PairBatch {
  /** [B,R,R,3] in [-1, 1]. */
  winners: tf.Tensor4D;
  losers: tf.Tensor4D;
  /** [B,R,R,3] standard normal. */
  eps: tf.Tensor4D;
  t: readonly number[];
  captions: readonly string[];
}

/**
 * The per-pair denoising errors of winners and losers under `params` ([B] each), weighted per
 * pair by `weights` (the model's prediction space, `predictionErrorWeights`) when given. Winners
 * and losers are stacked on the batch axis and share noise, timestep and caption
 * (docs/DESIGN.md convention 5). The one place pairs are fed to the network: the gradient step
 * and the held-out probe both call it. `text`, when given, is the encoding of `pairs.captions`
 * (once per pair) to use instead of encoding them with `params`.
 */
export function pairErrors(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  pairs: PairBatch,
  weights: readonly number[] | undefined,
  params: Params = model.params,
  text?: TextContext,
): [tf.Tensor1D, tf.Tensor1D] {
  return tf.tidy(() => {
    // The winners' and losers' rows share their captions: a given encoding of the pairs' captions serves both halves.
    const doubled: TextContext | undefined = text && { tokens: tf.concat([text.tokens, text.tokens]), keyBias: tf.concat([text.keyBias, text.keyBias]), pooled: tf.concat([text.pooled, text.pooled]) };
    const batch = {
      x0: tf.concat([pairs.winners, pairs.losers]) as tf.Tensor4D,
      eps: tf.concat([pairs.eps, pairs.eps]) as tf.Tensor4D,
      t: [...pairs.t, ...pairs.t],
      captions: [...pairs.captions, ...pairs.captions],
    };
    const weigh = (e: tf.Tensor): tf.Tensor1D => (weights ? tf.mul(e, tf.tensor1d(weights as number[])) : e) as tf.Tensor1D;
    return tf.split(denoisingError(model, schedule, batch, params, doubled), 2).map(weigh) as [tf.Tensor1D, tf.Tensor1D];
  });
}
