import * as tf from '@tensorflow/tfjs';
import { addNoise } from '../diffusion/forwardNoise.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextContext } from '../model/textEncoder.js';
import type { TextToImageModel } from '../model/textToImage.js';

/** One noised batch: clean images, the noise added, the timesteps and the captions. */
export interface NoisedBatch {
  /** [B,R,R,3] in [-1, 1]. */
  x0: tf.Tensor4D;
  /** [B,R,R,3] standard normal. */
  eps: tf.Tensor4D;
  t: number[];
  captions: string[];
}

/**
 * The per-image denoising error ||eps - eps_theta(xt, t, c)||² averaged over pixels, [B]:
 * the quantity every loss of the kit is made of (MSE, Diffusion-DPO, Self-DPO). `text`, when
 * given, is the captions' encoding already made (a frozen text encoder's, shared by several
 * passes); otherwise the captions are encoded with `params`.
 */
export function denoisingError(model: TextToImageModel, schedule: NoiseSchedule, batch: NoisedBatch, params: Params = model.params, text?: TextContext): tf.Tensor1D {
  return tf.tidy(() => {
    const xt = addNoise(schedule, batch.x0, batch.eps, batch.t);
    const predicted = model.predictEps(xt, batch.t, text ?? model.encode(batch.captions, params), schedule, params);
    return tf.mean(tf.square(tf.sub(predicted, batch.eps)), [1, 2, 3]) as tf.Tensor1D;
  });
}
