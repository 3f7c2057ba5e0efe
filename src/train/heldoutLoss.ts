import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import type { Params } from '../model/params.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { denoisingError } from '../objective/denoisingError.js';
import { bytesToUnit } from '../data/pixels.js';

/** A fixed probe: the same images, captions, noise and timesteps every time it is scored. */
export interface HeldoutProbe {
  readonly name: string;
  readonly pixels: Float32Array;
  readonly captions: string[];
  readonly size: number;
  readonly resolution: number;
  readonly seed: number;
}

/** `n` images of `set` chosen and captioned from `seed` (the same probe for every checkpoint). */
export function makeProbe(name: string, set: ImageTextSet, n: number, seed: number): HeldoutProbe {
  const rng = new Rng(deriveSeed(seed, 'probe', name));
  const picks = rng.sample(
    Array.from({ length: set.size }, (_, i) => i),
    Math.min(n, set.size),
  );
  const R = set.resolution;
  const pixels = new Float32Array(picks.length * R * R * 3);
  picks.forEach((i, b) => {
    const src = set.pixels(i);
    bytesToUnit(src, pixels, b * src.length);
  });
  const captions = picks.map((i) => set.caption(i, new Rng(deriveSeed(seed, 'probe-caption', name, i))));
  return { name, pixels, captions, size: picks.length, resolution: R, seed };
}

/**
 * Mean denoising error of the probe in each quarter of the timesteps ([0, T/4), ... [3T/4, T)):
 * every image is scored once per quartile at a timestep and noise fixed by the probe's seed.
 * Low quartiles measure detail, high ones composition; all four should fall during training.
 */
export function heldoutLossByQuartile(model: TextToImageModel, schedule: NoiseSchedule, probe: HeldoutProbe, params: Params, chunk = 32): number[] {
  const R = probe.resolution;
  const per = R * R * 3;
  const T = schedule.steps;
  const sums = [0, 0, 0, 0];
  for (let q = 0; q < 4; q++) {
    for (let start = 0; start < probe.size; start += chunk) {
      const n = Math.min(chunk, probe.size - start);
      const rng = new Rng(deriveSeed(probe.seed, 'probe-noise', probe.name, q, start));
      const t = Array.from({ length: n }, () => Math.floor((q * T) / 4) + rng.int(Math.floor(T / 4)));
      const eps = new Float32Array(n * per);
      for (let k = 0; k < eps.length; k++) eps[k] = rng.normal();
      const errors = tf.tidy(() =>
        denoisingError(
          model,
          schedule,
          {
            x0: tf.tensor4d(probe.pixels.subarray(start * per, (start + n) * per), [n, R, R, 3]),
            eps: tf.tensor4d(eps, [n, R, R, 3]),
            t,
            captions: probe.captions.slice(start, start + n),
          },
          params,
        ).sum(),
      );
      sums[q] = (sums[q] as number) + (errors.dataSync()[0] as number);
      errors.dispose();
    }
  }
  return sums.map((s) => s / probe.size);
}

/** A line of a pretraining run's heldout.jsonl. */
export interface HeldoutRecord {
  step: number;
  set: string;
  quartiles: number[];
  mean: number;
}
