import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng.js';
import type { ConceptNeighbours } from './conceptNeighbours.js';
import type { ImagePool } from '../../data/imagePool.js';

/** One batch of winners to make losers from (Eq. 8: x^sl = Downgrade(x^w)). */
export interface DowngradeInput {
  /** [B,R,R,3] the winners x^w in [-1, 1]: clean pixels, before noising. Not disposed. */
  readonly winners: tf.Tensor4D;
  /** Stable id of each winner (the BatchLoader's `ids`), for the losers' provenance. */
  readonly ids: readonly string[];
  /**
   * Concept key of each winner (`pool.conceptOfId(id)` when there is a pool): an image drawn
   * as a loser must be of a different concept, not merely a different image.
   */
  readonly concepts: readonly string[];
  /**
   * The only source of randomness. Derive it per batch, e.g.
   * `new Rng(deriveSeed(seed, 'downgrade', step, microBatch))`, so that a resumed run draws
   * the same losers and a change elsewhere never shifts them.
   */
  readonly rng: Rng;
}

/** Run-level inputs some downgrades need, built once before training. */
export interface DowngradeContext {
  /** The training images, for dataset-level draws (`randomImage`, `nearestConcept`). */
  readonly pool?: ImagePool;
  /** Nearest other concepts under the frozen text encoder (`nearestConcept`). */
  readonly neighbours?: ConceptNeighbours;
}

/** A context entry a downgrade needs. */
export type DowngradeNeed = keyof DowngradeContext;

/** The losers of one batch. */
export interface DowngradeOutput {
  /** [B,R,R,3] the losers x^sl in [-1, 1], aligned with the winners; the caller disposes it. */
  readonly losers: tf.Tensor4D;
  /** Id of the image each loser was made from: the winner's own id for blur or grid, another image's for draws. */
  readonly sources: readonly string[];
}

/**
 * A way to make self-supervised losers (Eq. 8's Downgrade). Pure: the losers depend only
 * on the input, the context and the draws from `input.rng`. Registered by name in
 * `registry.ts`.
 */
export interface Downgrade {
  /** Its key in the registry. */
  readonly name: string;
  /** One line for tables and run summaries (the paper's Table 3 rows). */
  readonly description: string;
  /** Context entries it cannot run without: checked once at start by `checkContext`. */
  readonly needs: readonly DowngradeNeed[];
  apply(input: DowngradeInput, context: DowngradeContext): DowngradeOutput;
}

/** Throws, naming what is missing, unless `context` has everything `downgrade` needs. */
export function checkContext(downgrade: Downgrade, context: DowngradeContext): void {
  for (const need of downgrade.needs) {
    if (context[need] === undefined) {
      throw new Error(`downgrade '${downgrade.name}' needs context.${need} (${NEED_HINT[need]})`);
    }
  }
}

const NEED_HINT: Record<DowngradeNeed, string> = {
  pool: 'the training set as an ImagePool: imagePool(set, conceptOfId)',
  neighbours: 'a nearest-concept table: conceptNeighbours(keys, pooled vectors, dim)',
};

/** `context[need]`, or the error of `checkContext`. */
export function requireContext<K extends DowngradeNeed>(downgrade: Downgrade, context: DowngradeContext, need: K): NonNullable<DowngradeContext[K]> {
  const value = context[need];
  if (value === undefined) throw new Error(`downgrade '${downgrade.name}' needs context.${need} (${NEED_HINT[need]})`);
  return value as NonNullable<DowngradeContext[K]>;
}

/** Throws unless winners is [B,R,R,3] and ids and concepts have B entries. Returns [B, R]. */
export function checkInput(name: string, input: DowngradeInput): [number, number] {
  const { winners, ids, concepts } = input;
  const [B, H, W, C] = winners.shape;
  if (winners.rank !== 4 || H !== W || C !== 3) {
    throw new Error(`downgrade '${name}': winners must be [B,R,R,3], got [${winners.shape.join(',')}]`);
  }
  if (ids.length !== B || concepts.length !== B) {
    throw new Error(`downgrade '${name}': ${B} winners but ${ids.length} ids and ${concepts.length} concepts`);
  }
  return [B, H];
}
