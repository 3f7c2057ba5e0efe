import * as tf from '@tensorflow/tfjs';
import { seededNormal } from './gaussian.js';
import type { NoiseSchedule } from './schedule.js';

/** A noise predictor at one timestep for the whole batch: xt [B,H,W,C] -> eps [B,H,W,C]. */
export type EpsFn = (xt: tf.Tensor4D, t: number) => tf.Tensor4D;

export interface SamplerOptions {
  /** Per-image seeds: the starting noise and any later noise of image i come from seeds[i]. */
  seeds: readonly number[];
  /** [H, W, C] of one image. */
  imageShape: [number, number, number];
  /** Clip the predicted x0 to [-1, 1] at each step (right for pixel-space images). Default true. */
  clipX0?: boolean;
  /** Called after each step with the step index and total, for progress. */
  onStep?: (step: number, total: number) => void;
}

export interface DdimOptions extends SamplerOptions {
  /** Number of denoising steps. */
  steps: number;
  /** 0 = deterministic DDIM; 1 = DDPM-like noise. Default 0. */
  eta?: number;
}

/**
 * The timesteps DDIM visits, "trailing" spacing (Lin et al. 2024, "Common diffusion noise
 * schedules and sample steps are flawed"): it starts at the last timestep, where the model
 * was trained on the noisiest inputs, rather than at T - T/steps.
 */
export function ddimTimesteps(T: number, steps: number): number[] {
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= T)) throw new Error(`DDIM steps must be an integer in [1, ${T}], got ${steps}`);
  return Array.from({ length: steps }, (_, i) => Math.round(T - (i * T) / steps) - 1);
}

/** x0 predicted from xt and eps (clipped on request), and eps made consistent with it. */
function predictX0(xt: tf.Tensor4D, eps: tf.Tensor4D, aBar: number, clip: boolean): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
  let x0 = tf.div(tf.sub(xt, tf.mul(eps, Math.sqrt(1 - aBar))), Math.sqrt(aBar)) as tf.Tensor4D;
  if (!clip) return { x0, eps };
  x0 = tf.clipByValue(x0, -1, 1);
  return { x0, eps: tf.div(tf.sub(xt, tf.mul(x0, Math.sqrt(aBar))), Math.sqrt(1 - aBar)) as tf.Tensor4D };
}

function startNoise(opts: SamplerOptions): tf.Tensor4D {
  const [H, W, C] = opts.imageShape;
  return tf.tensor4d(seededNormal(opts.seeds, H * W * C, 'start'), [opts.seeds.length, H, W, C]);
}

/**
 * DDIM (Song et al. 2021, Eq. 12): x_prev = sqrt(aBar_prev)·x0 + sqrt(1 - aBar_prev - sigma²)·eps
 * + sigma·z, sigma = eta·sqrt((1 - aBar_prev)/(1 - aBar_t))·sqrt(1 - aBar_t/aBar_prev).
 * Returns x0 in [-1, 1]-ish, [B,H,W,C].
 */
export function ddimSample(schedule: NoiseSchedule, epsFn: EpsFn, opts: DdimOptions): tf.Tensor4D {
  const ts = ddimTimesteps(schedule.steps, opts.steps);
  const eta = opts.eta ?? 0;
  const [H, W, C] = opts.imageShape;
  let x = startNoise(opts);
  try {
    ts.forEach((t, i) => {
      const aBar = schedule.alphaBar[t] as number;
      const prev = i + 1 < ts.length ? (ts[i + 1] as number) : -1;
      const aPrev = prev >= 0 ? (schedule.alphaBar[prev] as number) : 1;
      const next = tf.tidy(() => {
        const { x0, eps } = predictX0(x, epsFn(x, t), aBar, opts.clipX0 ?? true);
        const sigma = eta * Math.sqrt((1 - aPrev) / (1 - aBar)) * Math.sqrt(1 - aBar / aPrev);
        let out = tf.add(tf.mul(x0, Math.sqrt(aPrev)), tf.mul(eps, Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma))));
        if (sigma > 0) {
          const z = tf.tensor4d(seededNormal(opts.seeds, H * W * C, 'ddim', t), [opts.seeds.length, H, W, C]);
          out = tf.add(out, tf.mul(z, sigma));
        }
        return out as tf.Tensor4D;
      });
      x.dispose();
      x = next;
      opts.onStep?.(i + 1, ts.length);
    });
  } catch (err) {
    x.dispose();
    throw err;
  }
  return x;
}

export interface DpmSolverOptions extends SamplerOptions {
  /** Number of model evaluations (the timesteps are DDIM's, trailing). */
  steps: number;
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", Algorithm 2): the probability-flow ODE solved in the data prediction
 * x0 with a second-order multistep update. With alpha = sqrt(aBar), sigma = sqrt(1 - aBar),
 * lambda = log(alpha / sigma) and h_i = lambda_i - lambda_{i-1}, one step is
 *   x_i = (sigma_i / sigma_{i-1})·x_{i-1} - alpha_i·(exp(-h_i) - 1)·D_i,
 * where D_i = x0_{i-1} on the first step and otherwise
 *   D_i = (1 + 1/(2 r_i))·x0_{i-1} - 1/(2 r_i)·x0_{i-2},  r_i = h_{i-1} / h_i.
 * The last step lands on clean data (sigma = 0, lambda infinite): x = x0 of the last
 * evaluation, as DDIM's last step. Same timesteps and starting noise as DDIM, so the two are
 * compared on identical inputs. Returns x0 as [B,H,W,C].
 */
export function dpmSolverSample(schedule: NoiseSchedule, epsFn: EpsFn, opts: DpmSolverOptions): tf.Tensor4D {
  const ts = ddimTimesteps(schedule.steps, opts.steps);
  const alpha = (t: number): number => Math.sqrt(schedule.alphaBar[t] as number);
  const sigma = (t: number): number => Math.sqrt(1 - (schedule.alphaBar[t] as number));
  const lambda = (t: number): number => Math.log(alpha(t) / sigma(t));
  let x = startNoise(opts);
  let previousX0: tf.Tensor4D | null = null;
  try {
    ts.forEach((t, i) => {
      const x0 = tf.tidy(() => predictX0(x, epsFn(x, t), schedule.alphaBar[t] as number, opts.clipX0 ?? true).x0);
      const next = ts[i + 1];
      let out: tf.Tensor4D;
      if (next === undefined) {
        out = tf.clone(x0);
      } else {
        const h = lambda(next) - lambda(t);
        const last = ts[i - 1];
        out = tf.tidy(() => {
          let d: tf.Tensor4D = x0;
          if (previousX0 !== null && last !== undefined) {
            const r = (lambda(t) - lambda(last)) / h;
            d = tf.sub(tf.mul(x0, 1 + 1 / (2 * r)), tf.mul(previousX0, 1 / (2 * r)));
          }
          return tf.sub(tf.mul(x, sigma(next) / sigma(t)), tf.mul(d, alpha(next) * Math.expm1(-h))) as tf.Tensor4D;
        });
      }
      previousX0?.dispose();
      previousX0 = x0;
      x.dispose();
      x = out;
      opts.onStep?.(i + 1, ts.length);
    });
  } catch (err) {
    x.dispose();
    throw err;
  } finally {
    (previousX0 as tf.Tensor4D | null)?.dispose();
  }
  return x;
}

/**
 * Ancestral DDPM sampling over every timestep (Ho et al. 2020, Eqs. 6–7): the posterior
 * mean from the predicted x0, and the posterior variance beta~_t = beta_t·(1 - aBar_{t-1})/(1 - aBar_t).
 */
export function ddpmSample(schedule: NoiseSchedule, epsFn: EpsFn, opts: SamplerOptions): tf.Tensor4D {
  const [H, W, C] = opts.imageShape;
  let x = startNoise(opts);
  try {
    for (let t = schedule.steps - 1; t >= 0; t--) {
      const aBar = schedule.alphaBar[t] as number;
      const aPrev = t > 0 ? (schedule.alphaBar[t - 1] as number) : 1;
      const beta = schedule.betas[t] as number;
      const next = tf.tidy(() => {
        const { x0 } = predictX0(x, epsFn(x, t), aBar, opts.clipX0 ?? true);
        const c0 = (beta * Math.sqrt(aPrev)) / (1 - aBar);
        const ct = ((1 - aPrev) * Math.sqrt(schedule.alphas[t] as number)) / (1 - aBar);
        let out = tf.add(tf.mul(x0, c0), tf.mul(x, ct));
        if (t > 0) {
          const sigma = Math.sqrt((beta * (1 - aPrev)) / (1 - aBar));
          const z = tf.tensor4d(seededNormal(opts.seeds, H * W * C, 'ddpm', t), [opts.seeds.length, H, W, C]);
          out = tf.add(out, tf.mul(z, sigma));
        }
        return out as tf.Tensor4D;
      });
      x.dispose();
      x = next;
      opts.onStep?.(schedule.steps - t, schedule.steps);
    }
  } catch (err) {
    x.dispose();
    throw err;
  }
  return x;
}
