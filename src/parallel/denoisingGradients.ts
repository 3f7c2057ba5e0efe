import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { denoisingError } from '../objective/denoisingError.js';
import { addMicroBatch, type MicroBatchSums } from '../optim/gradients.js';
import type { DenoisingJob } from './protocol.js';

/**
 * Gradients of job.weight · sum of the job's per-image denoising errors with respect to
 * `variables`, over micro-batches of job.microBatch images, and the loss value. The same
 * function runs on the main thread and in every worker, so a share's gradient does not depend
 * on where it is computed.
 */
export function denoisingGradients(model: TextToImageModel, schedule: NoiseSchedule, variables: tf.Variable[], job: DenoisingJob): { grads: tf.Tensor[]; loss: number } {
  const n = job.t.length;
  const R = model.config.resolution;
  const per = R * R * 3;
  const sums: MicroBatchSums = { loss: 0, grads: null };
  for (let start = 0; start < n; start += job.microBatch) {
    const end = Math.min(n, start + job.microBatch);
    const m = end - start;
    const result = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const errors = denoisingError(model, schedule, {
            x0: tf.tensor4d(job.x0.subarray(start * per, end * per), [m, R, R, 3]),
            eps: tf.tensor4d(job.eps.subarray(start * per, end * per), [m, R, R, 3]),
            t: job.t.slice(start, end),
            captions: job.captions.slice(start, end),
          });
          const weighted = job.imageWeights ? tf.mul(errors, tf.tensor1d(job.imageWeights.slice(start, end))) : errors;
          return tf.mul(tf.sum(weighted), job.weight) as tf.Scalar;
        }),
      variables,
    );
    addMicroBatch(sums, result, variables);
  }
  const { grads, loss } = sums;
  if (grads === null) throw new Error('denoisingGradients: empty job');
  return { grads, loss };
}
