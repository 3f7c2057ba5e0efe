import type { EmojiT2I } from '../data/emojiDataset.js';
import type { ContrastiveJudge } from './contrastiveJudge.js';
import { alignScores, embedImages, embedTexts } from './judgeMetrics.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import type { ImageScorer, PairPrompt } from '../train/pairBuilder.js';

/**
 * The prompts Diffusion-DPO's pairs are drawn for: one curated training caption for each of
 * `count` concepts, concepts and captions drawn from `seed` (docs/PROTOCOL.md's Pick-a-Pic analog).
 */
export function annotatorPairPrompts(data: EmojiT2I, count: number, seed: number): PairPrompt[] {
  const curated = data.view('curated');
  const firstOf = new Map<string, number>();
  for (let i = 0; i < curated.size; i++) {
    const c = emojiConceptOfId(curated.id(i));
    if (!firstOf.has(c)) firstOf.set(c, i);
  }
  const concepts = new Rng(deriveSeed(seed, 'pair-concepts')).sample([...firstOf.keys()], Math.min(count, firstOf.size));
  return concepts.map((c) => ({ concept: c, prompt: curated.caption(firstOf.get(c) as number, new Rng(deriveSeed(seed, 'pair-caption', c))) }));
}

/** The annotator's preference: Align of each image with its prompt under a contrastive judge. */
export function alignScorer(judge: ContrastiveJudge): ImageScorer {
  return (images, captions) => alignScores(embedImages(judge, images), embedTexts(judge, captions), judge.config.embed);
}
