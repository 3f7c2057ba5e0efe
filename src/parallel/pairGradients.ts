import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { denoisingError } from '../train/denoisingError.js';
import { addMicroBatch, type MicroBatchSums } from '../train/gradients.js';
import { dpoLoss } from '../train/losses/dpo.js';
import { selfDpoLoss } from '../train/losses/selfDpo.js';
import type { PairJob, PairStats } from './protocol.js';

/**
 * Gradients of job.weight · sum over pairs of the preference loss with respect to
 * `variables` (the policy's), over micro-batches, with the loss and logging sums. Winner and
 * loser are stacked on the batch axis and share eps, t and the winner's caption; the
 * reference's errors come from `reference` outside the gradient. The same function runs on
 * the main thread and in every worker.
 */
export function pairGradients(
  model: TextToImageModel,
  reference: Params,
  schedule: NoiseSchedule,
  variables: tf.Variable[],
  job: PairJob,
): { grads: tf.Tensor[]; loss: number; stats: PairStats } {
  const n = job.t.length;
  const R = model.config.resolution;
  const per = R * R * 3;
  const stats: PairStats = { pairs: n, modelW: 0, modelL: 0, refW: 0, refL: 0, wins: 0 };
  const sums: MicroBatchSums = { loss: 0, grads: null };
  for (let start = 0; start < n; start += job.microBatch) {
    const end = Math.min(n, start + job.microBatch);
    const m = end - start;
    const part = (a: Float32Array): tf.Tensor4D => tf.tensor4d(a.subarray(start * per, end * per), [m, R, R, 3]);
    const batch = (): { x0: tf.Tensor4D; eps: tf.Tensor4D; t: number[]; captions: string[] } => {
      const eps = part(job.eps);
      const t = job.t.slice(start, end);
      const captions = job.captions.slice(start, end);
      return { x0: tf.concat([part(job.winners), part(job.losers)]) as tf.Tensor4D, eps: tf.concat([eps, eps]) as tf.Tensor4D, t: [...t, ...t], captions: [...captions, ...captions] };
    };
    // The pairs' error weights, applied to the policy's and the reference's errors alike.
    const weigh = (e: tf.Tensor): tf.Tensor1D => (job.imageWeights ? tf.mul(e, tf.tensor1d(job.imageWeights.slice(start, end))) : e) as tf.Tensor1D;
    const [refW, refL] = tf.tidy(() => tf.split(denoisingError(model, schedule, batch(), reference), 2).map(weigh)) as [tf.Tensor1D, tf.Tensor1D];
    let logged: tf.Tensor[] = [];
    const result = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const [modelW, modelL] = tf.split(denoisingError(model, schedule, batch()), 2).map(weigh) as [tf.Tensor1D, tf.Tensor1D];
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
