import * as tf from '@tensorflow/tfjs';

/** The global L2 norm of a list of gradients. */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  return tf.tidy(() => Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number));
}

/**
 * Scale gradients so their global norm is at most `maxNorm` (disposes the inputs it replaces).
 * Returns the new list and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || norm <= maxNorm) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const scaled = grads.map((g) => tf.mul(g, scale));
  tf.dispose(grads);
  return { grads: scaled, norm };
}

/** Add `more` into the running sums `acc` (both lists aligned); disposes `more` and the old sums. */
export function accumulate(acc: tf.Tensor[] | null, more: tf.Tensor[]): tf.Tensor[] {
  if (acc === null) return more;
  const out = acc.map((a, i) => tf.add(a, more[i] as tf.Tensor));
  tf.dispose([...acc, ...more]);
  return out;
}

/** Running sums over micro-batches: the loss and the gradients of `variables`. */
export interface MicroBatchSums {
  loss: number;
  grads: tf.Tensor[] | null;
}

/**
 * Add one micro-batch's `tf.variableGrads` result into `sums` (in `variables` order), taking
 * ownership of its tensors.
 */
export function addMicroBatch(sums: MicroBatchSums, result: { value: tf.Scalar; grads: tf.NamedTensorMap }, variables: readonly tf.Variable[]): void {
  sums.loss += result.value.dataSync()[0] as number;
  result.value.dispose();
  sums.grads = accumulate(
    sums.grads,
    variables.map((v) => result.grads[v.name] as tf.Tensor),
  );
}
