import * as tf from '@tensorflow/tfjs';
import { checkInput, type Downgrade } from './downgrade.js';
import { pickOther } from './pickOther.js';

/**
 * `randomImage` drawn from the batch itself: each loser is another winner of the batch, of
 * a different concept. It needs no dataset access (the losers are already in memory), but
 * the draws depend on the batch: apply it to the whole batch before splitting into
 * micro-batches, and expect it to throw on a batch whose winners all share one concept.
 */
export const randomImageInBatch: Downgrade = {
  name: 'randomImageInBatch',
  description: 'another winner of the same batch, of another concept',
  needs: [],
  apply(input) {
    checkInput('randomImageInBatch', input);
    const picks = pickOther(input.concepts, input.rng);
    const losers = tf.tidy(() => tf.gather(input.winners, tf.tensor1d(picks, 'int32'))) as tf.Tensor4D; // [B,R,R,3]
    return { losers, sources: picks.map((j) => input.ids[j] as string) };
  },
};
