import { deriveSeed, Rng } from '../util/rng.js';
import { buildCaption } from './captions.js';
import type { EmojiT2I } from './emojiDataset.js';

/** One evaluation prompt: a caption of a concept. */
export interface Prompt {
  readonly id: string;
  readonly concept: string;
  readonly prompt: string;
}

/** The three fixed evaluation prompt sets (docs/PROTOCOL.md: our PartiPrompts, HPDv2 and Pick-a-Pic val). */
export const PROMPT_SETS = ['curated-val', 'unseen-concepts', 'keyword-only'] as const;
export type PromptSetName = (typeof PROMPT_SETS)[number];

/** Prompts per set (unseen-concepts takes every unseen concept with fewer). */
export const PROMPT_SET_SIZE = 500;

/** The seed the evaluation captions are drawn from; training draws its captions from other streams. */
export const CURATED_VAL_SEED = 20261128;

/**
 * curated-val: captions of training (seen) concepts, one per concept for up to `count`
 * concepts chosen from a fixed seed. No trainer can draw these strings (`EmojiT2I.view`
 * avoids every evaluation prompt); the same build always gives the same list.
 */
export function curatedValPrompts(data: EmojiT2I, count = PROMPT_SET_SIZE): Prompt[] {
  const seen = data.manifest.concepts.filter((c) => c.split === 'seen').map((c) => c.key);
  const chosen = new Rng(deriveSeed(CURATED_VAL_SEED, 'concepts')).sample(seen, count);
  return chosen.map((key, i) => ({
    id: `curated-val/${i}`,
    concept: key,
    prompt: data.captionOf(key, deriveSeed(CURATED_VAL_SEED, 'caption', key)),
  }));
}

/**
 * Build a prompt set from Emoji-T2I, deterministically:
 * - curated-val: captions of training concepts (`curatedValPrompts`);
 * - unseen-concepts: one full caption per concept the generator never trained on;
 * - keyword-only: keywords alone, no name, group or subgroup, for training concepts with at
 *   least two keywords: the prompt names the thing only indirectly.
 */
export function buildPromptSet(data: EmojiT2I, name: PromptSetName): Prompt[] {
  if (name === 'curated-val') return curatedValPrompts(data);
  const concepts = data.manifest.concepts;
  if (name === 'unseen-concepts') {
    const unseen = concepts.filter((c) => c.split === 'unseen');
    const chosen = new Rng(deriveSeed(CURATED_VAL_SEED, 'unseen-concepts')).sample(unseen, Math.min(PROMPT_SET_SIZE, unseen.length));
    return chosen.map((c, i) => ({ id: `unseen-concepts/${i}`, concept: c.key, prompt: data.captionOf(c.key, deriveSeed(CURATED_VAL_SEED, 'unseen-caption', c.key)) }));
  }
  const eligible = concepts.filter((c) => c.split === 'seen' && c.keywords.length >= 2);
  const chosen = new Rng(deriveSeed(CURATED_VAL_SEED, 'keyword-only')).sample(eligible, Math.min(PROMPT_SET_SIZE, eligible.length));
  return chosen.map((c, i) => ({ id: `keyword-only/${i}`, concept: c.key, prompt: buildCaption(c, new Rng(deriveSeed(CURATED_VAL_SEED, 'keyword-caption', c.key)), 'loose') }));
}

/** Every prompt string of every evaluation set: the captions no trainer may draw. */
export function evaluationPromptStrings(data: EmojiT2I): Set<string> {
  return new Set(PROMPT_SETS.flatMap((name) => buildPromptSet(data, name).map((p) => p.prompt)));
}
