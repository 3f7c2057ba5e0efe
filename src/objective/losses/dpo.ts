import * as tf from '@tensorflow/tfjs';
import { checkPerExample, type LossTerms } from './lossTerms.js';

/**
 * The four per-image denoising errors of a batch of pairs, each [B] and aligned by pair:
 * ||eps_theta(xt, t, c) - eps||² averaged over pixels (`denoisingError`), for the model
 * being trained (`model*`) and the frozen reference (`ref*`), on the winner x^w (`*W`) and
 * the loser x^l (`*L`, the annotator's loser for DPO, Downgrade(x^w) for Self-DPO). Winner
 * and loser of a pair share eps and t (docs/DESIGN.md convention 5), and the loser is
 * conditioned on the winner's caption c.
 *
 * The reference errors must carry no gradient: compute them outside the function given
 * to `tf.variableGrads`, or the reference's variables would be differentiated too.
 */
export interface PairErrors {
  readonly modelW: tf.Tensor1D;
  readonly modelL: tf.Tensor1D;
  readonly refW: tf.Tensor1D;
  readonly refL: tf.Tensor1D;
}

/** Per-pair Diffusion-DPO terms, plus what the trainer logs. */
export interface DpoTerms extends LossTerms {
  /** [B] -log sigmoid(inside). */
  readonly loss: tf.Tensor1D;
  /** [B] the argument of the sigmoid: C·(modelDiff - refDiff), C = -beta/2. */
  readonly inside: tf.Tensor1D;
  /** [B] 1 where inside > 0 (the model prefers the winner more than the reference does), else 0: ties are not wins. */
  readonly win: tf.Tensor1D;
  /** [] mean(win): the implicit accuracy of the paper's Fig. 5. */
  readonly implicitAcc: tf.Scalar;
  /** [B] modelW - modelL. */
  readonly modelDiff: tf.Tensor1D;
  /** [B] refW - refL. */
  readonly refDiff: tf.Tensor1D;
  /** The inputs, passed through for logging (mse_w, mse_l, ref_w, ref_l): the same tensors, not copies. */
  readonly modelW: tf.Tensor1D;
  readonly modelL: tf.Tensor1D;
  readonly refW: tf.Tensor1D;
  readonly refL: tf.Tensor1D;
}

/** Throws unless beta is a finite positive number (beta <= 0 would reward the loser). */
export function checkBeta(beta: number): void {
  if (!(Number.isFinite(beta) && beta > 0)) throw new Error(`beta must be a finite number > 0, got ${beta}`);
}

/**
 * Diffusion-DPO, Eq. 7, per pair, as the Diffusion-DPO authors' code computes it (and as
 * Self-DPO's Eq. 8 writes it with the scale C):
 *
 *   log p_theta(xt^w | ...) / p_ref(xt^w | ...) is, up to a positive factor that beta absorbs,
 *   -(||eps_theta(xt^w, t) - eps^w||² - ||eps_ref(xt^w, t) - eps^w||²), so with C = -beta/2
 *   inside = C·((e_w - e_l) - (eref_w - eref_l))          // Eq. 8's argument of sigma
 *   loss   = -log sigma(inside)                              // Eq. 7
 *
 * beta = 5000 in the paper (C = -2500), tuned for SD latents; errors are means over pixels.
 * inside > 0 means the model has lowered its winner error relative to its loser error more
 * than the reference has.
 *
 * -log sigma(x) is computed as softplus(-x), the same function: tf.logSigmoid's gradient
 * reads a disposed tensor on the wasm backend (docs/DESIGN.md traps), and softplus is stable
 * for the |inside| of thousands that beta = 5000 can give.
 */
export function dpoLoss(errors: PairErrors, beta: number): DpoTerms {
  checkBeta(beta);
  const { modelW, modelL, refW, refL } = errors;
  checkPerExample('dpoLoss', { modelW, modelL, refW, refL });
  const C = -0.5 * beta;
  const terms = tf.tidy(() => {
    const modelDiff = tf.sub(modelW, modelL) as tf.Tensor1D; // [B]
    const refDiff = tf.sub(refW, refL) as tf.Tensor1D; // [B]
    const inside = tf.mul(C, tf.sub(modelDiff, refDiff)) as tf.Tensor1D; // [B], Eq. 8
    const loss = tf.softplus(tf.neg(inside)) as tf.Tensor1D; // [B], Eq. 7: -log sigma(inside)
    // Strictly greater: a tie (e.g. a loser identical to its winner) is not a win.
    const win = tf.cast(tf.greater(inside, 0), 'float32') as tf.Tensor1D; // [B]
    const implicitAcc = tf.mean(win) as tf.Scalar; // []
    return { loss, inside, win, implicitAcc, modelDiff, refDiff };
  });
  return { ...terms, modelW, modelL, refW, refL };
}
