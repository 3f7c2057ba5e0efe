import type * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { pairGradients } from '../parallel/pairGradients.js';
import type { PairJob } from '../parallel/protocol.js';
import { globalNorm } from '../optim/gradients.js';
import { SELF_DPO_DEFAULT_LAMBDAS, type SelfDpoOptions } from '../objective/losses/selfDpo.js';
import type { PairProbe } from './pairProbe.js';
import { predictionErrorWeights } from '../objective/predictionError.js';

/** How much each term of Eq. 9 pulls on the trained weights, on fixed pairs. */
export interface LossTermNorms {
  /** Global gradient norm of lambda1 · L_MSE (the winner's error), mean over the pairs. */
  mse: number;
  /** Global gradient norm of lambda2 · L_Self-DPO (Eq. 8). */
  preference: number;
  /** Global gradient norm of the whole loss (what the trainer clips, at 1 by default). */
  total: number;
  /** preference / mse (Infinity when lambda1 is 0). */
  ratio: number;
  /** Pairs the norms are over. */
  pairs: number;
}

/**
 * The gradient norms of Eq. 9's two weighted terms, each alone, and of their sum, with
 * respect to `variables` (the UNet's, as the trainer trains), on the probe's pairs: the same
 * pair gradients, error weights and per-pair mean as a training step. Why it matters: the
 * trainer clips the summed gradient to norm 1, so when the preference term's norm is many
 * times the MSE term's, the update is almost all preference, whatever lambda1 is (the
 * paper's "w/o MSE" ablation then changes almost nothing).
 */
export function lossTermGradientNorms(
  model: TextToImageModel,
  reference: Params,
  schedule: NoiseSchedule,
  variables: tf.Variable[],
  probe: PairProbe,
  loss: SelfDpoOptions,
  microBatch = 16,
): LossTermNorms {
  const lambda1 = loss.lambda1 ?? SELF_DPO_DEFAULT_LAMBDAS.lambda1;
  const lambda2 = loss.lambda2 ?? SELF_DPO_DEFAULT_LAMBDAS.lambda2;
  const norm = (l1: number, l2: number): number => {
    if (l1 === 0 && l2 === 0) return 0;
    const job: PairJob = {
      kind: 'pairs',
      winners: probe.winners,
      losers: probe.losers,
      eps: probe.eps,
      t: probe.t,
      captions: probe.captions,
      weight: 1 / probe.size,
      imageWeights: predictionErrorWeights(model.config.prediction, schedule, probe.t),
      microBatch: Math.min(microBatch, probe.size),
      loss: { kind: 'selfDpo', beta: loss.beta, lambda1: l1, lambda2: l2 },
    };
    const { grads } = pairGradients(model, reference, schedule, variables, job);
    const n = globalNorm(grads);
    grads.forEach((g) => g.dispose());
    return n;
  };
  const mse = norm(lambda1, 0);
  const preference = norm(0, lambda2);
  return { mse, preference, total: norm(lambda1, lambda2), ratio: preference / mse, pairs: probe.size };
}
