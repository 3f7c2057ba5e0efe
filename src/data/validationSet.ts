import { deriveSeed, Rng } from '../util/rng.js';
import type { EmojiT2I } from './emojiDataset.js';
import { emojiConceptOfId } from './imagePool.js';
import type { ImageTextSet } from './imageTextSet.js';

/** The seed of the validation set's draws (its images and captions). */
export const VALIDATION_SEED = 20261204;

/**
 * The validation set (docs/PROTOCOL.md): up to `count` held-out real images, one per seen
 * concept, each with one fixed training-style caption (never an evaluation prompt). What the
 * post-training probe and tuning read: no trainer has seen these images, and no evaluation
 * prompt set is involved.
 */
export function validationImages(data: EmojiT2I, count = 500): ImageTextSet {
  const heldout = data.view('heldout');
  const firstOfConcept = new Map<string, number>();
  const rank = (i: number): number => deriveSeed(VALIDATION_SEED, 'image', heldout.id(i));
  for (let i = 0; i < heldout.size; i++) {
    const concept = emojiConceptOfId(heldout.id(i));
    const best = firstOfConcept.get(concept);
    if (best === undefined || rank(i) < rank(best)) firstOfConcept.set(concept, i);
  }
  const chosen = new Rng(deriveSeed(VALIDATION_SEED, 'concepts')).sample([...firstOfConcept.values()], count);
  const captions = chosen.map((i) => heldout.caption(i, new Rng(deriveSeed(VALIDATION_SEED, 'caption', heldout.id(i)))));
  return {
    resolution: heldout.resolution,
    size: chosen.length,
    pixels: (k) => heldout.pixels(chosen[k] as number),
    caption: (k) => captions[k] as string,
    id: (k) => heldout.id(chosen[k] as number),
  };
}
