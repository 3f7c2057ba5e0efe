import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from './schedule.js';

/** Per-example sqrt(alphaBar_t) and sqrt(1 - alphaBar_t) as [B,1,1,1] tensors. */
export function noiseCoefficients(schedule: NoiseSchedule, t: ArrayLike<number>): { signal: tf.Tensor4D; noise: tf.Tensor4D } {
  const signal = new Float32Array(t.length);
  const noise = new Float32Array(t.length);
  for (let b = 0; b < t.length; b++) {
    const ti = t[b] as number;
    if (!(Number.isInteger(ti) && ti >= 0 && ti < schedule.steps)) throw new RangeError(`timestep ${ti} outside 0..${schedule.steps - 1}`);
    const aBar = schedule.alphaBar[ti] as number;
    signal[b] = Math.sqrt(aBar);
    noise[b] = Math.sqrt(1 - aBar);
  }
  return { signal: tf.tensor4d(signal, [t.length, 1, 1, 1]), noise: tf.tensor4d(noise, [t.length, 1, 1, 1]) };
}

/** xt = sqrt(alphaBar_t)·x0 + sqrt(1 - alphaBar_t)·eps, per example ([B,H,W,C]). */
export function addNoise(schedule: NoiseSchedule, x0: tf.Tensor4D, eps: tf.Tensor4D, t: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => {
    const { signal, noise } = noiseCoefficients(schedule, t);
    return tf.add(tf.mul(x0, signal), tf.mul(eps, noise));
  });
}
