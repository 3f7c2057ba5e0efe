import type { EmojiT2I } from '../data/emojiDataset.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import { CURATED_VAL_SEED, curatedValPrompts } from '../data/evalPrompts.js';
import { deriveSeed, Rng } from '../util/rng.js';

/**
 * The curated-val prompts with images: for each prompt, one curated image of its concept
 * (the style drawn from the prompt's own seed), captioned by the prompt. What post-training
 * is tuned on (its held-out probe): the concepts are training concepts, the captions are
 * ones training never draws, and no evaluation prompt set is involved.
 */
export function curatedValImages(data: EmojiT2I, count = 500): ImageTextSet {
  const curated = data.view('curated');
  const byConcept = new Map<string, number[]>();
  for (let i = 0; i < curated.size; i++) {
    const c = emojiConceptOfId(curated.id(i));
    byConcept.set(c, [...(byConcept.get(c) ?? []), i]);
  }
  const items = curatedValPrompts(data, count).map((p) => {
    const images = byConcept.get(p.concept);
    if (!images || images.length === 0) throw new Error(`curated-val concept '${p.concept}' has no curated image`);
    return { index: new Rng(deriveSeed(CURATED_VAL_SEED, 'image', p.concept)).pick(images), prompt: p.prompt };
  });
  return {
    resolution: curated.resolution,
    size: items.length,
    pixels: (i) => curated.pixels((items[i] as { index: number }).index),
    caption: (i) => (items[i] as { prompt: string }).prompt,
    id: (i) => curated.id((items[i] as { index: number }).index),
  };
}
