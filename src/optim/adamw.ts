import * as tf from '@tensorflow/tfjs';
import { byName, type Optimizer } from './optimizer.js';
import type { VariableGroups } from './trainState.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (Loshchilov & Hutter 2019), applied to matrices and kernels only. */
  weightDecay: number;
}

/**
 * AdamW, which tfjs lacks: Adam moments with bias correction, and weight decay applied to the
 * weights directly (w -= lr·wd·w) rather than added to the gradient. Biases, norm scales and
 * other rank-1 parameters are not decayed. State (step and moments) is exposed for checkpoints.
 */
export class AdamW implements Optimizer {
  /** Updates applied so far. */
  step = 0;
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];

  constructor(
    readonly variables: readonly tf.Variable[],
    readonly opts: AdamWOptions,
  ) {
    const zeroVariable = (x: tf.Variable): tf.Variable => {
      const z = tf.zerosLike(x);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    this.m = variables.map(zeroVariable);
    this.v = variables.map(zeroVariable);
  }

  /** One update with `grads[i]` for `variables[i]` at learning rate `lr`. */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== this.variables.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.variables.length} variables`);
    this.step += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.opts;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g = grads[i] as tf.Tensor;
        const m = this.m[i] as tf.Variable;
        const v = this.v[i] as tf.Variable;
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        const update = tf.div(tf.div(mNew, c1), tf.add(tf.sqrt(tf.div(vNew, c2)), epsilon));
        const decayed = w.rank >= 2 && weightDecay > 0 ? tf.mul(w, 1 - lr * weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    });
  }

  /** The first and second moments (the group names pretraining checkpoints have always used). */
  stateGroups(names: readonly string[]): VariableGroups {
    return { adamM: byName(names, this.m), adamV: byName(names, this.v) };
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
