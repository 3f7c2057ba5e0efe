import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextContext } from '../model/textEncoder.js';
import { TEXT_PREFIX, type TextToImageModel } from '../model/textToImage.js';
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
  const shareText = frozenSharedTextEncoder(model, reference, variables);
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
    // With the text encoder frozen and the same in policy and reference, the captions are encoded
    // once, outside the gradient, for the reference's pass and the policy's (4x fewer encodings).
    const text: TextContext | undefined = shareText
      ? tf.tidy(() => {
          const c = model.encode(job.captions.slice(start, end));
          return { tokens: c.tokens, keyBias: c.keyBias, pooled: c.pooled };
        })
      : undefined;
    const [refW, refL] = tf.tidy(() => pairErrors(model, schedule, pairs(), weights, reference, text));
    let logged: tf.Tensor[] = [];
    const result = tf.variableGrads(
      () =>
        tf.tidy(() => {
          const [modelW, modelL] = pairErrors(model, schedule, pairs(), weights, model.params, text);
          const errors = { modelW, modelL, refW, refL };
          const terms = job.loss.kind === 'dpo' ? dpoLoss(errors, job.loss.beta) : selfDpoLoss(errors, job.loss);
          logged = [tf.keep(tf.sum(modelW)), tf.keep(tf.sum(modelL)), tf.keep(tf.sum(terms.win))];
          return tf.mul(tf.sum(terms.loss), job.weight) as tf.Scalar;
        }),
      variables,
    );
    // The reference's sums are tensors too: read and disposed with the rest (two were left per micro-batch, bench/tensorLeaks.ts).
    const refSums = [tf.sum(refW), tf.sum(refL)];
    const [sumW, sumL, wins, sumRefW, sumRefL] = [...logged, ...refSums].map((x) => x.dataSync()[0] as number) as [number, number, number, number, number];
    stats.modelW += sumW;
    stats.modelL += sumL;
    stats.wins += wins;
    stats.refW += sumRefW;
    stats.refL += sumRefL;
    tf.dispose([...logged, ...refSums, refW, refL]);
    if (text) tf.dispose([text.tokens, text.keyBias, text.pooled]);
    addMicroBatch(sums, result, variables);
  }
  const { grads, loss } = sums;
  if (grads === null) throw new Error('pairGradients: empty job');
  return { grads, loss, stats };
}

/** Per reference: whether its text encoder holds the same weights as the policy's (checked once). */
const sameTextWeights = new WeakMap<Params, boolean>();

/**
 * Whether the policy's text encoder is frozen (none of its weights among the trained
 * `variables`) and the reference's is the same, value for value: then one encoding of the
 * captions serves both passes. Post-training always freezes it; the check keeps this exact for
 * any other use.
 */
function frozenSharedTextEncoder(model: TextToImageModel, reference: Params, variables: readonly tf.Variable[]): boolean {
  const textNames = model.params.names.filter((n) => n.startsWith(TEXT_PREFIX));
  const trained = new Set(variables);
  if (textNames.some((n) => trained.has(model.params.variable(n)))) return false;
  let same = sameTextWeights.get(reference);
  if (same === undefined) {
    same = textNames.every((n) => {
      const a = model.params.variable(n).dataSync();
      const b = reference.variable(n).dataSync();
      return a.length === b.length && a.every((v, i) => v === b[i]);
    });
    sameTextWeights.set(reference, same);
  }
  return same;
}
