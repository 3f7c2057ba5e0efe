import { checkInput, requireContext, type Downgrade } from './downgrade.js';
import { checkPoolResolution, poolImages } from '../../data/imagePool.js';

/**
 * A content-aware hard negative (the paper's future work, Sec. 5): each loser is an image
 * of the NEAREST OTHER concept to the winner's under the frozen text encoder, e.g. "grinning
 * face" for "grinning face with big eyes". A random other concept is usually trivially
 * wrong; a near one differs in the details the caption names, which is what alignment needs.
 *
 * The neighbour table (context.neighbours) is computed elsewhere from the text encoder's
 * pooled vectors (`conceptNeighbours`); the first neighbour, nearest first, with at least
 * one image in the pool is used, and one of its images (all styles alike) is drawn.
 */
export const nearestConcept: Downgrade = {
  name: 'nearestConcept',
  description: 'an image of the nearest other concept under the frozen text encoder (hard negative)',
  needs: ['pool', 'neighbours'],
  apply(input, context) {
    const [, R] = checkInput('nearestConcept', input);
    const pool = requireContext(nearestConcept, context, 'pool');
    const neighbours = requireContext(nearestConcept, context, 'neighbours');
    checkPoolResolution('nearestConcept', pool, R);
    const picks = input.concepts.map((c) => {
      const list = neighbours.get(c);
      if (list === undefined) throw new Error(`downgrade 'nearestConcept': concept '${c}' is not in the neighbour table`);
      const near = list.find((n) => n !== c && pool.indicesOf(n).length > 0);
      if (near === undefined) throw new Error(`downgrade 'nearestConcept': no neighbour of '${c}' has an image in the pool`);
      return input.rng.pick(pool.indicesOf(near));
    });
    return { losers: poolImages(pool, picks), sources: picks.map((j) => pool.set.id(j)) };
  },
};
