import * as tf from '@tensorflow/tfjs';
import { checkPerExample, type LossTerms } from './lossTerms.js';

/**
 * The SFT loss, per image: Eq. 3's ||eps - eps_theta(xt, t, c)||² on the winner x0 = x^w,
 * averaged over pixels rather than summed (as the Diffusion-DPO code and diffusers do), so
 * `loss` is the per-image denoising error itself. `errors` [B] comes from `denoisingError`
 * (src/train/denoisingError.ts).
 *
 * `loss` is a copy, not `errors` itself: the caller may dispose the two independently.
 */
export function mseLoss(errors: tf.Tensor1D): LossTerms {
  checkPerExample('mseLoss', { errors });
  return { loss: tf.clone(errors) };
}
