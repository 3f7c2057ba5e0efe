import * as tf from '@tensorflow/tfjs';

/**
 * Classifier-free guidance (Ho & Salimans 2022): eps = eps_uncond + w·(eps_cond - eps_uncond).
 * With w = 1 this is exactly eps_cond, and `guidedEps` skips the unconditional pass.
 */
export function combineGuidance(cond: tf.Tensor4D, uncond: tf.Tensor4D, w: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(uncond, tf.mul(tf.sub(cond, uncond), w)));
}

/**
 * Guided noise prediction from a model that takes a batch of inputs with their conditioning:
 * `predict(x, condIndex)` where the second argument says which half of the doubled batch is
 * conditional. For w != 1 the conditional and unconditional inputs run as one doubled batch.
 */
export function guidedEps(predictBoth: (x2: tf.Tensor4D) => tf.Tensor4D, predictCond: (x: tf.Tensor4D) => tf.Tensor4D, xt: tf.Tensor4D, w: number): tf.Tensor4D {
  if (w === 1) return predictCond(xt);
  return tf.tidy(() => {
    const B = xt.shape[0];
    const both = predictBoth(tf.concat([xt, xt], 0));
    const [cond, uncond] = tf.split(both, [B, B], 0) as [tf.Tensor4D, tf.Tensor4D];
    return combineGuidance(cond, uncond, w);
  });
}
