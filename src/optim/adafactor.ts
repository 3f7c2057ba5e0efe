import * as tf from '@tensorflow/tfjs';
import { byName, type Optimizer } from './optimizer.js';
import type { VariableGroups } from './trainState.js';

export interface AdafactorOptions {
  /** beta2 at step k is 1 - k^decayRate (the paper's -0.8): an average over all past steps early, slower later. */
  decayRate: number;
  /** Added to squared gradients (1e-30 in the paper) so an all-zero row cannot divide by zero. */
  epsilon: number;
  /** Updates whose root mean square exceeds this are scaled down to it (the paper's d = 1). */
  clipThreshold: number;
  /** Momentum on the update; 0 (the paper's default) keeps no first moment at all. */
  beta1: number;
  /** Decoupled weight decay on matrices and kernels, as AdamW applies it. */
  weightDecay: number;
}

export const ADAFACTOR_DEFAULTS: AdafactorOptions = { decayRate: -0.8, epsilon: 1e-30, clipThreshold: 1, beta1: 0, weightDecay: 0 };

/**
 * Adafactor (Shazeer & Stern 2018) with an external learning rate, as the paper trains SDXL
 * to save memory: for a matrix (or a kernel, over its last two axes) the second moment is
 * kept as a row mean and a column mean, and estimated as their outer product divided by the
 * mean of the rows; vectors keep a full second moment. Updates are clipped by their RMS.
 * Memory per [m,n] matrix: m + n numbers, where AdamW keeps 2·m·n.
 */
export class Adafactor implements Optimizer {
  step = 0;
  /** Per variable: [row, col] factors for rank >= 2, else [v]. */
  private readonly second: tf.Variable[][];
  private readonly momentum: tf.Variable[] | null;

  constructor(
    readonly variables: readonly tf.Variable[],
    readonly opts: AdafactorOptions = ADAFACTOR_DEFAULTS,
  ) {
    const zeros = (shape: number[]): tf.Variable => {
      const z = tf.zeros(shape);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    this.second = variables.map((w) => (isFactored(w) ? [zeros(w.shape.slice(0, -1)), zeros([...w.shape.slice(0, -2), w.shape[w.rank - 1] as number])] : [zeros(w.shape)]));
    this.momentum = opts.beta1 > 0 ? variables.map((w) => zeros(w.shape)) : null;
  }

  apply(grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== this.variables.length) throw new Error(`Adafactor: ${grads.length} gradients for ${this.variables.length} variables`);
    this.step += 1;
    const { decayRate, epsilon, clipThreshold, beta1, weightDecay } = this.opts;
    const beta2 = 1 - this.step ** decayRate;
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g = grads[i] as tf.Tensor;
        const g2 = tf.add(tf.square(g), epsilon);
        const state = this.second[i] as tf.Variable[];
        let update: tf.Tensor;
        if (isFactored(w)) {
          const [row, col] = state as [tf.Variable, tf.Variable];
          const rowNew = tf.add(tf.mul(row, beta2), tf.mul(tf.mean(g2, -1), 1 - beta2)); // [..., m]
          const colNew = tf.add(tf.mul(col, beta2), tf.mul(tf.mean(g2, -2), 1 - beta2)); // [..., n]
          row.assign(rowNew);
          col.assign(colNew);
          // v ≈ row ⊗ col / mean(row): scale g by rsqrt of each factor.
          const rowFactor = tf.expandDims(tf.rsqrt(tf.div(rowNew, tf.mean(rowNew, -1, true))), -1); // [..., m, 1]
          const colFactor = tf.expandDims(tf.rsqrt(colNew), -2); // [..., 1, n]
          update = tf.mul(tf.mul(g, rowFactor), colFactor);
        } else {
          const [v] = state as [tf.Variable];
          const vNew = tf.add(tf.mul(v, beta2), tf.mul(g2, 1 - beta2));
          v.assign(vNew);
          update = tf.mul(g, tf.rsqrt(vNew));
        }
        // update / max(1, RMS(update) / d), without reading the RMS back to JS.
        update = tf.div(update, tf.maximum(1, tf.div(tf.sqrt(tf.mean(tf.square(update))), clipThreshold)));
        if (this.momentum) {
          const m = this.momentum[i] as tf.Variable;
          const mNew = tf.add(tf.mul(m, beta1), tf.mul(update, 1 - beta1));
          m.assign(mNew);
          update = mNew;
        }
        const decayed = w.rank >= 2 && weightDecay > 0 ? tf.mul(w, 1 - lr * weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    });
  }

  stateGroups(names: readonly string[]): VariableGroups {
    if (names.length !== this.variables.length) throw new Error(`Adafactor: ${names.length} names for ${this.variables.length} variables`);
    const pick = (factored: boolean, k: number): Map<string, tf.Variable> =>
      new Map(this.variables.flatMap((w, i) => (isFactored(w) === factored ? [[names[i] as string, (this.second[i] as tf.Variable[])[k] as tf.Variable] as const] : [])));
    return {
      adafactorRow: pick(true, 0),
      adafactorCol: pick(true, 1),
      adafactorV: pick(false, 0),
      ...(this.momentum ? { adafactorM: byName(names, this.momentum) } : {}),
    };
  }

  dispose(): void {
    tf.dispose([...this.second.flat(), ...(this.momentum ?? [])]);
  }
}

/** Matrices and kernels keep factored second moments (over their last two axes). */
function isFactored(w: tf.Tensor): boolean {
  return w.rank >= 2;
}
