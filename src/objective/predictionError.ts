import type { NoiseSchedule } from '../diffusion/schedule.js';

/**
 * Per-image weights that turn the kit's eps errors into errors in the model's own prediction
 * space, or undefined when the model predicts eps. For a v-predicting model the v error is
 * the eps error / alphaBar_t (eps = sqrt(1 - alphaBar)·xt + sqrt(alphaBar)·v), which is what
 * it trains on: in pretraining (docs/DESIGN.md) and in post-training, where the
 * Diffusion-DPO authors' code likewise compares the model's output with its own target
 * (noise or velocity).
 */
export function predictionErrorWeights(prediction: 'eps' | 'v', schedule: NoiseSchedule, t: readonly number[]): number[] | undefined {
  if (prediction === 'eps') return undefined;
  return t.map((ti) => {
    const a = schedule.alphaBar[ti];
    if (a === undefined) throw new RangeError(`timestep ${ti} is outside the schedule's ${schedule.steps} steps`);
    return 1 / a;
  });
}
