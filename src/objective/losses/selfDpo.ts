import * as tf from '@tensorflow/tfjs';
import { checkBeta, dpoLoss, type DpoTerms, type PairErrors } from './dpo.js';

/** Weights of Eq. 9. */
export interface SelfDpoOptions {
  /** The DPO scale: C = -beta/2 in Eq. 8 (the paper's beta = 5000, C = -2500). */
  readonly beta: number;
  /** Weight of the winner's MSE (Eq. 9's lambda1); 0 is the paper's "w/o MSE" ablation. Default 0.5. */
  readonly lambda1?: number;
  /** Weight of the Self-DPO term (Eq. 9's lambda2). Default 0.5. */
  readonly lambda2?: number;
}

/** The paper's weights: "We empirically set lambda1 and lambda2 to 0.5, 0.5". */
export const SELF_DPO_DEFAULT_LAMBDAS = { lambda1: 0.5, lambda2: 0.5 } as const;

/** Per-pair Self-DPO terms: the DPO terms with `loss` replaced by Eq. 9's total. */
export interface SelfDpoTerms extends DpoTerms {
  /** [B] lambda1·mse + lambda2·dpo: what the trainer minimises. */
  readonly loss: tf.Tensor1D;
  /** [B] the winner's denoising error (Eq. 9's L_MSE before weighting): a new tensor equal to modelW. */
  readonly mse: tf.Tensor1D;
  /** [B] -log sigma(inside) (Eq. 8's L_Self-DPO before weighting). */
  readonly dpo: tf.Tensor1D;
  readonly lambda1: number;
  readonly lambda2: number;
}

/**
 * Self-DPO, Eq. 9, per pair: L = lambda1·L_MSE + lambda2·L_Self-DPO, where L_MSE is the
 * SFT loss on the winner (Eq. 3, per-pixel mean) and L_Self-DPO is Eq. 8, the Diffusion-DPO
 * loss (`dpoLoss`) with the loser made by a Downgrade of the winner. The losses differ from
 * DPO only in where the loser comes from, so the pair errors are the same four tensors.
 */
export function selfDpoLoss(errors: PairErrors, opts: SelfDpoOptions): SelfDpoTerms {
  const lambda1 = opts.lambda1 ?? SELF_DPO_DEFAULT_LAMBDAS.lambda1;
  const lambda2 = opts.lambda2 ?? SELF_DPO_DEFAULT_LAMBDAS.lambda2;
  checkBeta(opts.beta);
  for (const [name, v] of [
    ['lambda1', lambda1],
    ['lambda2', lambda2],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`selfDpoLoss: ${name} must be a finite number >= 0, got ${v}`);
  }
  const d = dpoLoss(errors, opts.beta);
  const { mse, loss } = tf.tidy(() => {
    const mse = tf.clone(errors.modelW) as tf.Tensor1D; // [B]
    const loss = tf.add(tf.mul(lambda1, mse), tf.mul(lambda2, d.loss)) as tf.Tensor1D; // [B], Eq. 9
    return { mse, loss };
  });
  return { ...d, loss, mse, dpo: d.loss, lambda1, lambda2 };
}
