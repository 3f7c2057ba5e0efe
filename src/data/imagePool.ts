import * as tf from '@tensorflow/tfjs';
import type { ImageTextSet } from './imageTextSet.js';
import { bytesToUnit } from './pixels.js';

/** Candidates to draw from: `size` items, each of a concept. */
export interface ConceptSource {
  readonly size: number;
  concept(j: number): string;
}

/**
 * The training images indexed by concept, for downgrades that draw losers from the dataset.
 * Built once per run; `conceptOfId` is the rule that also gives the batch's concepts, so
 * the two can never disagree.
 */
export interface ImagePool extends ConceptSource {
  readonly set: ImageTextSet;
  readonly resolution: number;
  /** Number of images (= set.size). */
  readonly size: number;
  /** Concept key of image i. */
  concept(i: number): string;
  /** Concept key of an example id (apply it to the batch's ids). */
  conceptOfId(id: string): string;
  /** Indices of the images of a concept (empty when the concept has none). */
  indicesOf(concept: string): readonly number[];
  /** The distinct concept keys, in first-seen order. */
  readonly concepts: readonly string[];
}

/**
 * The concept key of an Emoji-T2I id: `<style>/<concept>` (curated, unseen and judge views)
 * or `web/<style>/<concept>`; concept keys contain no '/'. For a folder of the user's own
 * images, where each image is its own concept, use `(id) => id`.
 */
export function emojiConceptOfId(id: string): string {
  const slash = id.lastIndexOf('/');
  if (slash < 0 || slash === id.length - 1) throw new Error(`not an Emoji-T2I id (<style>/<concept>): '${id}'`);
  return id.slice(slash + 1);
}

/** Index `set` by concept. */
export function imagePool(set: ImageTextSet, conceptOfId: (id: string) => string): ImagePool {
  const conceptOf: string[] = [];
  const byConcept = new Map<string, number[]>();
  for (let i = 0; i < set.size; i++) {
    const c = conceptOfId(set.id(i));
    conceptOf.push(c);
    const list = byConcept.get(c);
    if (list) list.push(i);
    else byConcept.set(c, [i]);
  }
  const none: readonly number[] = [];
  return {
    set,
    resolution: set.resolution,
    size: set.size,
    concept: (i) => {
      const c = conceptOf[i];
      if (c === undefined) throw new RangeError(`image index ${i} out of range [0, ${set.size})`);
      return c;
    },
    conceptOfId,
    indicesOf: (concept) => byConcept.get(concept) ?? none,
    concepts: [...byConcept.keys()],
  };
}

/**
 * Images `indices` of the pool as [n,R,R,3] float32 in [-1, 1], scaled as the BatchLoader
 * scales winners (`bytesToUnit`) so that a drawn loser and a winner of the same image are
 * bit-identical. Never flipped: a loser needs no augmentation of its own.
 */
export function poolImages(pool: ImagePool, indices: readonly number[]): tf.Tensor4D {
  const R = pool.resolution;
  const perImage = R * R * 3;
  const pixels = new Float32Array(indices.length * perImage);
  indices.forEach((i, b) => {
    const src = pool.set.pixels(i);
    if (src.length !== perImage) throw new Error(`image ${i} has ${src.length} bytes, expected ${perImage}`);
    const base = b * perImage;
    bytesToUnit(src, pixels, base);
  });
  return tf.tensor4d(pixels, [indices.length, R, R, 3]);
}

/** Throws unless the pool's images have the winners' side. */
export function checkPoolResolution(name: string, pool: ImagePool, R: number): void {
  if (pool.resolution !== R) throw new Error(`downgrade '${name}': pool images are ${pool.resolution}px but winners are ${R}px`);
}
