import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Rng } from '../util/rng.js';
import type { ImageTextSet } from './imageTextSet.js';
import { bytesToUnit } from './pixels.js';

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  /**
   * Random horizontal flips. Off by default: a flip changes the meaning of some emoji
   * ("right arrow", "left-facing fist", text on signs), which the caption would then contradict.
   */
  flip?: boolean;
  /** Drop the last incomplete batch of an epoch (default true: every step sees batchSize). */
  dropLast?: boolean;
}

/** One batch as plain arrays: what the tensor is made from. */
export interface BatchData {
  /** [B,R,R,3] row-major, values in [-1, 1]. */
  readonly pixels: Float32Array;
  readonly shape: [number, number, number, number];
  readonly captions: string[];
  readonly ids: string[];
  readonly epoch: number;
  /** Batch number within the epoch. */
  readonly index: number;
}

export interface Batch extends Omit<BatchData, 'pixels'> {
  /** [B,R,R,3] float32 in [-1, 1]; the caller disposes it. */
  readonly images: tf.Tensor4D;
}

/**
 * Seeded batches over an ImageTextSet. Every random choice of epoch e (order, caption
 * keywords, flips) comes from streams derived from (seed, e, example), so batch k of epoch
 * e is the same whenever it is asked for: a resumed run sees exactly the batches it would
 * have seen, and captions do not depend on which batch an example falls in.
 */
export class BatchLoader {
  private readonly orders = new Map<number, number[]>();

  constructor(
    readonly set: ImageTextSet,
    readonly opts: LoaderOptions,
  ) {
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) {
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (set.size === 0) throw new Error('BatchLoader: the dataset is empty');
    if ((opts.dropLast ?? true) && set.size < opts.batchSize) {
      throw new Error(`BatchLoader: batchSize ${opts.batchSize} exceeds the dataset size ${set.size}`);
    }
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    const n = this.set.size / this.opts.batchSize;
    return (this.opts.dropLast ?? true) ? Math.floor(n) : Math.ceil(n);
  }

  /** The example order of an epoch (cached for the current epoch only). */
  order(epoch: number): number[] {
    let order = this.orders.get(epoch);
    if (!order) {
      const rng = new Rng(deriveSeed(this.opts.seed, 'order', epoch));
      order = rng.shuffle(Array.from({ length: this.set.size }, (_, i) => i));
      this.orders.clear();
      this.orders.set(epoch, order);
    }
    return order;
  }

  /** Batch `index` of `epoch` as plain arrays. */
  batchData(epoch: number, index: number): BatchData {
    if (index < 0 || index >= this.batchesPerEpoch) {
      throw new RangeError(`batch ${index} out of range (epoch has ${this.batchesPerEpoch})`);
    }
    const order = this.order(epoch);
    const members = order.slice(index * this.opts.batchSize, (index + 1) * this.opts.batchSize);
    const R = this.set.resolution;
    const perImage = R * R * 3;
    const pixels = new Float32Array(members.length * perImage);
    const captions: string[] = [];
    const ids: string[] = [];
    members.forEach((i, b) => {
      const src = this.set.pixels(i);
      const flip = this.opts.flip === true && new Rng(deriveSeed(this.opts.seed, 'flip', epoch, i)).next() < 0.5;
      const base = b * perImage;
      if (!flip) bytesToUnit(src, pixels, base);
      else {
        const mirrored = new Uint8Array(perImage);
        for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) mirrored.set(src.subarray((y * R + R - 1 - x) * 3, (y * R + R - x) * 3), (y * R + x) * 3);
        bytesToUnit(mirrored, pixels, base);
      }
      captions.push(this.set.caption(i, new Rng(deriveSeed(this.opts.seed, 'caption', epoch, i))));
      ids.push(this.set.id(i));
    });
    return { pixels, shape: [members.length, R, R, 3], captions, ids, epoch, index };
  }

  /** Batch `index` of `epoch` with its images as a tensor. */
  batch(epoch: number, index: number): Batch {
    const { pixels, ...rest } = this.batchData(epoch, index);
    return { ...rest, images: tf.tensor4d(pixels, rest.shape) };
  }

  /** The batch a run sees at global step `step` (0-based), across epochs. */
  batchAtStep(step: number): Batch {
    const per = this.batchesPerEpoch;
    return this.batch(Math.floor(step / per), step % per);
  }

  /** Batches from global step `fromStep` on, forever; stop with `break`. */
  *stream(fromStep = 0): Generator<Batch> {
    for (let step = fromStep; ; step++) yield this.batchAtStep(step);
  }
}
