import * as tf from '@tensorflow/tfjs';

/**
 * RGB bytes (0..255) into `out` from `offset` as x/127.5 - 1, the [-1, 1] range every network
 * of the kit reads. One rule everywhere, so a winner drawn by the loader and the same image
 * drawn as a loser or a probe are bit-identical.
 */
export function bytesToUnit(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  for (let k = 0; k < bytes.length; k++) out[offset + k] = (bytes[k] as number) / 127.5 - 1;
}

/** [-1, 1] images back to byte values (rounded, clipped to 0..255), as float32. */
export function unitToByteValues(images: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.round(tf.mul(tf.add(images, 1), 127.5)), 0, 255));
}
