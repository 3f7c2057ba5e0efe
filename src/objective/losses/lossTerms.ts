import type * as tf from '@tensorflow/tfjs';

/**
 * What every loss of the kit returns: one term per example (per pair for the preference
 * losses), not a mean. The trainer weights and reduces (docs/DESIGN.md convention 4), which is
 * what makes micro-batches with gradient accumulation give the full batch's update: it
 * divides the per-example sum of every micro-batch by the full batch size.
 */
export interface LossTerms {
  /** [B] the loss of each example; minimise its mean. */
  readonly loss: tf.Tensor1D;
}

/**
 * Throws unless every tensor is rank 1 with the same length: per-image errors [B] (or per
 * pair). A [B,1] or [B,R,R,3] tensor would broadcast silently into a wrong loss.
 */
export function checkPerExample(what: string, tensors: Readonly<Record<string, tf.Tensor>>): number {
  let length: number | undefined;
  let first = '';
  for (const [name, t] of Object.entries(tensors)) {
    if (t.rank !== 1) throw new Error(`${what}: ${name} must be per-example errors of shape [B], got [${t.shape.join(',')}]`);
    const n = t.shape[0] as number;
    if (length === undefined) {
      length = n;
      first = name;
    } else if (n !== length) {
      throw new Error(`${what}: ${name} has ${n} entries but ${first} has ${length}`);
    }
  }
  return length ?? 0;
}
