import type * as tf from '@tensorflow/tfjs';
import type { VariableGroups } from './trainState.js';

/** What the trainers need of an optimiser: one update per step and a resumable state. */
export interface Optimizer {
  /** Updates applied so far (resumed runs restore it: bias corrections and decay rates use it). */
  step: number;
  /** One update with `grads[i]` for `variables[i]` at learning rate `lr`. */
  apply(grads: readonly tf.Tensor[], lr: number): void;
  /** Its state variables by group, keyed by the parameter names (aligned with `variables`), for checkpoints. */
  stateGroups(names: readonly string[]): VariableGroups;
  dispose(): void;
}

/** Map names[i] to vars[i]; throws unless the two lists align. */
export function byName(names: readonly string[], vars: readonly tf.Variable[]): Map<string, tf.Variable> {
  if (names.length !== vars.length) throw new Error(`${names.length} names for ${vars.length} variables`);
  return new Map(names.map((n, i) => [n, vars[i] as tf.Variable]));
}
