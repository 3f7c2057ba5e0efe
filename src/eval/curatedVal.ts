import type { EmojiT2I } from '../data/emojiDataset.js';
import { deriveSeed, Rng } from '../util/rng.js';

/** One evaluation prompt: a caption of a concept. */
export interface Prompt {
  readonly id: string;
  readonly concept: string;
  readonly prompt: string;
}

/** The seed the curated-val captions are drawn from; training draws its captions from other streams. */
export const CURATED_VAL_SEED = 20261128;

/**
 * curated-val (PROTOCOL.md): captions of training (seen) concepts, one per concept for up to
 * `count` concepts chosen from a fixed seed, with keywords drawn from a stream training never
 * uses. The same build always gives the same list.
 */
export function curatedValPrompts(data: EmojiT2I, count = 500): Prompt[] {
  const seen = data.manifest.concepts.filter((c) => c.split === 'seen').map((c) => c.key);
  const chosen = new Rng(deriveSeed(CURATED_VAL_SEED, 'concepts')).sample(seen, count);
  return chosen.map((key, i) => ({
    id: `curated-val/${i}`,
    concept: key,
    prompt: data.captionOf(key, deriveSeed(CURATED_VAL_SEED, 'caption', key)),
  }));
}
