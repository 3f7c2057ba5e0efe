import * as tf from '@tensorflow/tfjs';

/**
 * Exponential moving average of weights, the usual way diffusion models are sampled from:
 * ema = d·ema + (1 - d)·w, with d warmed up as min(decay, (1 + n)/(10 + n)) so the average
 * is not dominated by the random initialisation early in training.
 */
export function updateEma(ema: readonly tf.Variable[], weights: readonly tf.Variable[], decay: number, updates: number): void {
  const d = Math.min(decay, (1 + updates) / (10 + updates));
  tf.tidy(() => {
    ema.forEach((e, i) => e.assign(tf.add(tf.mul(e, d), tf.mul(weights[i] as tf.Variable, 1 - d))));
  });
}
