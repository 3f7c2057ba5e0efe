import * as tf from '@tensorflow/tfjs';
import type { ImageTextSet } from '../data/imageTextSet.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { Params } from '../model/params.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { PairLoss } from '../parallel/protocol.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { pairErrors } from '../objective/pairErrors.js';
import type { Downgrade, DowngradeContext } from '../methods/downgrades/downgrade.js';
import { downgradeContext } from '../methods/downgrades/downgradeContext.js';
import { dpoLoss } from '../objective/losses/dpo.js';
import { predictionErrorWeights } from '../objective/predictionError.js';
import { bytesToUnit } from '../data/pixels.js';
import type { PreferencePairSet } from '../data/preferencePairs.js';

/** Fixed held-out pairs: the same winners, losers, captions, noise and timesteps at every checkpoint. */
export interface PairProbe {
  readonly name: string;
  /** The downgrade that made the losers. */
  readonly downgrade: string;
  readonly size: number;
  readonly resolution: number;
  readonly winners: Float32Array;
  readonly losers: Float32Array;
  readonly captions: string[];
  readonly t: number[];
  readonly eps: Float32Array;
}

/** What a probe measures: mean errors (in the model's prediction space), the DPO loss and the implicit accuracy. */
export interface PairProbeScore {
  mse_w: number;
  mse_l: number;
  ref_w: number;
  ref_l: number;
  dpo: number;
  implicit_acc: number;
}

/** `n` images of `set` (drawn from `seed`) as winners, their losers made by `downgrade`, fixed noise and timesteps. */
export function makePairProbe(
  name: string,
  set: ImageTextSet,
  conceptOfId: (id: string) => string,
  downgrade: Downgrade,
  context: DowngradeContext,
  n: number,
  seed: number,
  steps: number,
): PairProbe {
  return fixedProbe(name, downgrade.name, set, n, seed, steps, (picks, winners) => {
    const R = set.resolution;
    const ids = picks.map((i) => set.id(i));
    const w = tf.tensor4d(winners, [picks.length, R, R, 3]);
    const out = downgrade.apply({ winners: w, ids, concepts: ids.map(conceptOfId), rng: new Rng(deriveSeed(seed, 'pair-probe-losers', name)) }, context);
    const losers = Float32Array.from(out.losers.dataSync() as Float32Array);
    tf.dispose([w, out.losers]);
    return losers;
  });
}

/** What a probe on labelled pairs records as its downgrade: the losers are the annotator's own. */
export const LABELLED_LOSERS = 'labelled';

/**
 * `n` labelled held-out pairs (drawn from `seed`): each winner with its own labelled loser, as
 * Diffusion-DPO trains (docs/PROTOCOL.md, "Emoji-Pick": its probe reads the validation split's
 * pairs), with fixed noise and timesteps.
 */
export function makeLabelledPairProbe(name: string, pairs: PreferencePairSet, n: number, seed: number, steps: number): PairProbe {
  const per = pairs.winners.resolution * pairs.winners.resolution * 3;
  return fixedProbe(name, LABELLED_LOSERS, pairs.winners, n, seed, steps, (picks) => {
    const losers = new Float32Array(picks.length * per);
    picks.forEach((i, b) => bytesToUnit(pairs.loser(i).subarray(0, per), losers, b * per));
    return losers;
  });
}

/** A probe of `n` images of `set` drawn from `seed`, with the losers `losersOf` makes for them, and fixed captions, noise and timesteps. */
function fixedProbe(name: string, downgrade: string, set: ImageTextSet, n: number, seed: number, steps: number, losersOf: (picks: number[], winners: Float32Array) => Float32Array): PairProbe {
  const rng = new Rng(deriveSeed(seed, 'pair-probe', name));
  const picks = rng.sample(
    Array.from({ length: set.size }, (_, i) => i),
    Math.min(n, set.size),
  );
  const R = set.resolution;
  const per = R * R * 3;
  const winners = new Float32Array(picks.length * per);
  picks.forEach((i, b) => {
    const src = set.pixels(i);
    bytesToUnit(src.subarray(0, per), winners, b * per);
  });
  const losers = losersOf(picks, winners);
  const captions = picks.map((i) => set.caption(i, new Rng(deriveSeed(seed, 'pair-probe-caption', name, i))));
  const t = picks.map(() => rng.int(steps));
  const eps = new Float32Array(picks.length * per);
  for (let k = 0; k < eps.length; k++) eps[k] = rng.normal();
  return { name, downgrade, size: picks.length, resolution: R, winners, losers, captions, t, eps };
}

/** Score `policy` against `reference` on the probe (no gradients), in chunks of `chunk` pairs. */
export function scorePairProbe(model: TextToImageModel, policy: Params, reference: Params, schedule: NoiseSchedule, probe: PairProbe, loss: PairLoss, chunk = 32): PairProbeScore {
  const R = probe.resolution;
  const per = R * R * 3;
  const sums = { mse_w: 0, mse_l: 0, ref_w: 0, ref_l: 0, dpo: 0, implicit_acc: 0 };
  for (let start = 0; start < probe.size; start += chunk) {
    const end = Math.min(probe.size, start + chunk);
    const m = end - start;
    const values = tf.tidy(() => {
      const part = (a: Float32Array): tf.Tensor4D => tf.tensor4d(a.subarray(start * per, end * per), [m, R, R, 3]);
      const pairs = { winners: part(probe.winners), losers: part(probe.losers), eps: part(probe.eps), t: probe.t.slice(start, end), captions: probe.captions.slice(start, end) };
      const weights = predictionErrorWeights(model.config.prediction, schedule, pairs.t);
      const [modelW, modelL] = pairErrors(model, schedule, pairs, weights, policy);
      const [refW, refL] = pairErrors(model, schedule, pairs, weights, reference);
      const d = dpoLoss({ modelW, modelL, refW, refL }, loss.beta);
      return tf.stack([modelW, modelL, refW, refL, d.loss, d.win].map((x) => tf.sum(x)));
    });
    const [a, b, c, d, e, f] = values.dataSync() as Float32Array;
    values.dispose();
    sums.mse_w += a as number;
    sums.mse_l += b as number;
    sums.ref_w += c as number;
    sums.ref_l += d as number;
    sums.dpo += e as number;
    sums.implicit_acc += f as number;
  }
  const mean = (x: number): number => x / probe.size;
  return { mse_w: mean(sums.mse_w), mse_l: mean(sums.mse_l), ref_w: mean(sums.ref_w), ref_l: mean(sums.ref_l), dpo: mean(sums.dpo), implicit_acc: mean(sums.implicit_acc) };
}

/**
 * The probe of a run: `n` pairs of the held-out set. Its losers are the held-out set's own labelled
 * losers when `labelled` and the set has them (a method that trains on ranked pairs), else made by
 * `downgrade` over that same set.
 */
export function probeOf(
  heldout: { name: string; set: ImageTextSet; conceptOfId: (id: string) => string; pairs?: PreferencePairSet },
  downgrade: Downgrade,
  model: TextToImageModel,
  n: number,
  seed: number,
  steps: number,
  labelled = false,
): PairProbe {
  if (labelled && heldout.pairs) return makeLabelledPairProbe(heldout.name, heldout.pairs, n, seed, steps);
  const context = downgradeContext(downgrade, heldout.set, heldout.conceptOfId, model);
  return makePairProbe(heldout.name, heldout.set, heldout.conceptOfId, downgrade, context, n, seed, steps);
}
