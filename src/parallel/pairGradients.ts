import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { pairErrors, type PairBatch } from '../objective/pairErrors.js';
import { addMicroBatch, type MicroBatchSums } from '../optim/gradients.js';
import { dpoLoss } from '../objective/losses/dpo.js';
import { selfDpoLoss } from '../objective/losses/selfDpo.js';
import type { PairJob, PairStats } from './protocol.js';

/**
 * Gradients of job.weight · sum over pairs of the preference loss with respect to
 * `variables` (the policy's), over micro-batches, with the loss and logging sums. Winner and
 * loser are stacked on the batch axis and share eps, t and the winner's caption; the
 * reference's errors come from `reference` outside the gradient. The same function runs on
 * the main thread and in every worker.
 */
export function pairGradients(model: TextToImageModel, reference: Params, schedule: NoiseSchedule, variables: tf.Variable[], job: PairJob): { grads: tf.Tensor[]; loss: number; stats: PairStats } {
  const n = job.t.length;
  const R = model.config.resolution;
  const per = R * R * 3;
  const stats: PairStats = { pairs: n, modelW: 0, modelL: 0, refW: 0, refL: 0, wins: 0 };
  const sums: MicroBatchSums = { loss: 0, grads: null };
  for (let start = 0; start < n; start += job.microBatch) {
    const end = Math.min(n, start + job.microBatch);
    const m = end - start;
    const part = (a: Float32Array): tf.Tensor4D => tf.tensor4d(a.subarray(start * per, end * per), [m, R, R, 3]);
    const pairs = (): PairBatch => ({ winners: part(job.winners), losers: part(job.losers), eps: part(job.eps), t: job.t.slice(start, end), captions: job.captions.slice(start, end) });
    // The pairs' error weights, applied to the policy's and the reference's errors alike.
    const weights = job.imageWeights?.slice(start, end);
    const [refW, refL] = tf.tidy(() => pairErrors(model, schedule, pairs(), weights, reference));
    let logged: tf.Tensor[] = [];
    const result = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const [modelW, modelL] = pairErrors(model, schedule, pairs(), weights);
          const errors = { modelW, modelL, refW, refL };
          const terms = job.loss.kind === 'dpo' ? dpoLoss(errors, job.loss.beta) : selfDpoLoss(errors, job.loss);
          logged = [tf.keep(tf.sum(modelW)), tf.keep(tf.sum(modelL)), tf.keep(tf.sum(terms.win))];
          return tf.mul(tf.sum(terms.loss), job.weight) as tf.Scalar;
        }),
      variables,
    );
    const [sumW, sumL, wins] = logged.map((x) => x.dataSync()[0] as number) as [number, number, number];
    stats.modelW += sumW;
    stats.modelL += sumL;
    stats.wins += wins;
    stats.refW += refW.sum().dataSync()[0] as number;
    stats.refL += refL.sum().dataSync()[0] as number;
    tf.dispose([...logged, refW, refL]);
    addMicroBatch(sums, result, variables);
  }
  const { grads, loss } = sums;
  if (grads === null) throw new Error('pairGradients: empty job');
  return { grads, loss, stats };
}
