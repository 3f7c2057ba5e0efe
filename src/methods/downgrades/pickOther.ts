import type { ConceptSource } from '../../data/imagePool.js';
import type { Rng } from '../../util/rng.js';

/** Rejection tries before enumerating the valid candidates (only reached when most share the winner's concept). */
const MAX_TRIES = 32;

/**
 * For each winner i (of concept `concepts[i]`), the index of a candidate of a DIFFERENT
 * concept, uniformly among those candidates. The candidates are the winners themselves by
 * default (an in-batch draw) or any `from` (a dataset draw). Because a candidate of the
 * winner's own concept is never returned, the winner itself never is either: the map has
 * no fixed point in the in-batch case, and in the dataset case it cannot return the winner
 * or another design of the same concept (which would be a second winner, not a loser).
 *
 * Draws are independent (with replacement), not a permutation: a permutation avoiding
 * every concept may not exist (3 of 4 winners of one concept), and independent draws are
 * what "randomly selecting images from the training dataset" (the paper, Sec. 3.2) means.
 * Throws if some winner has no candidate of another concept.
 */
export function pickOther(concepts: readonly string[], rng: Rng, from?: ConceptSource): number[] {
  const source: ConceptSource = from ?? { size: concepts.length, concept: (j) => concepts[j] as string };
  return concepts.map((c, i) => {
    // Rejection sampling is exactly uniform over the valid candidates and O(1) when, as in a
    // dataset of ~1,500 concepts, almost every candidate is valid.
    for (let tries = 0; tries < MAX_TRIES && source.size > 0; tries++) {
      const j = rng.int(source.size);
      if (source.concept(j) !== c) return j;
    }
    const valid: number[] = [];
    for (let j = 0; j < source.size; j++) if (source.concept(j) !== c) valid.push(j);
    if (valid.length === 0) {
      throw new Error(`pickOther: winner ${i} (concept '${c}') has no candidate of another concept among ${source.size}`);
    }
    return valid[rng.int(valid.length)] as number;
  });
}
