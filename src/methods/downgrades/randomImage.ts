import { checkInput, requireContext, type Downgrade } from './downgrade.js';
import { checkPoolResolution, poolImages } from '../../data/imagePool.js';
import { pickOther } from './pickOther.js';

/**
 * The paper's default downgrade (Sec. 3.2: "randomly selecting images from the training
 * dataset"): each loser is a uniformly drawn training image of a DIFFERENT concept than its
 * winner, so it fails to match the winner's caption. Drawing from the whole dataset keeps
 * losers independent of the batch's composition and works for any batch size, even 1.
 */
export const randomImage: Downgrade = {
  name: 'randomImage',
  description: 'a random training image of another concept (the paper default)',
  needs: ['pool'],
  apply(input, context) {
    const [, R] = checkInput('randomImage', input);
    const pool = requireContext(randomImage, context, 'pool');
    checkPoolResolution('randomImage', pool, R);
    const picks = pickOther(input.concepts, input.rng, pool);
    return { losers: poolImages(pool, picks), sources: picks.map((j) => pool.set.id(j)) };
  },
};
