import * as tf from '@tensorflow/tfjs';
import { readTensorInto } from '../kernels/readTensorInto.js';
import type { NamedWeights } from '../model/weightsFile.js';

/**
 * A list of variables laid end to end in one flat float32 buffer (in list order): the layout
 * of the shared weights, moments and gradients of a data-parallel step.
 */
export class FlatLayout {
  readonly offsets: number[];
  readonly size: number;

  constructor(
    readonly names: readonly string[],
    readonly shapes: ReadonlyArray<readonly number[]>,
  ) {
    if (names.length !== shapes.length) throw new Error(`FlatLayout: ${names.length} names for ${shapes.length} shapes`);
    let at = 0;
    this.offsets = shapes.map((s) => {
      const o = at;
      at += s.reduce((a, b) => a * b, 1);
      return o;
    });
    this.size = at;
  }

  static of(names: readonly string[], variables: readonly tf.Variable[]): FlatLayout {
    return new FlatLayout(
      names,
      variables.map((v) => v.shape),
    );
  }

  /** Copy the variables' values into `flat`. */
  read(variables: readonly tf.Tensor[], flat: Float32Array): void {
    variables.forEach((v, i) => readTensorInto(v, flat, this.offsets[i] as number));
  }

  /** Assign the variables from `flat`. */
  write(variables: readonly tf.Variable[], flat: Float32Array): void {
    variables.forEach((v, i) => {
      const o = this.offsets[i] as number;
      const t = tf.tensor(flat.subarray(o, o + v.size), v.shape);
      v.assign(t);
      t.dispose();
    });
  }

  /** 1 for the elements of matrices and kernels (rank >= 2), which weight decay applies to. */
  decayMask(): Uint8Array {
    const mask = new Uint8Array(this.size);
    this.shapes.forEach((s, i) => {
      if (s.length >= 2) mask.fill(1, this.offsets[i] as number, (this.offsets[i] as number) + s.reduce((a, b) => a * b, 1));
    });
    return mask;
  }

  /** `flat` as named views (no copy): what checkpoints write and read. */
  named(flat: Float32Array): NamedWeights {
    return new Map(
      this.names.map((n, i) => {
        const o = this.offsets[i] as number;
        const shape = [...(this.shapes[i] as number[])];
        return [n, { shape, data: flat.subarray(o, o + shape.reduce((a, b) => a * b, 1)) }];
      }),
    );
  }
}
