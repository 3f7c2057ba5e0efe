import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCaption } from '../data/captions.js';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { CURATED_VAL_SEED, curatedValPrompts, type Prompt } from './curatedVal.js';

/** The three fixed evaluation prompt sets (PROTOCOL.md: our PartiPrompts, HPDv2 and Pick-a-Pic val). */
export const PROMPT_SETS = ['curated-val', 'unseen-concepts', 'keyword-only'] as const;
export type PromptSetName = (typeof PROMPT_SETS)[number];

/** Where the committed prompt sets live. */
export const PROMPTS_DIR = join('data', 'prompts');

/** Prompts per set (unseen-concepts takes every unseen concept with fewer). */
export const PROMPT_SET_SIZE = 500;

/**
 * Build a prompt set from Emoji-T2I, deterministically:
 * - curated-val: captions of training concepts that training never draws (`curatedValPrompts`);
 * - unseen-concepts: one full caption per concept the generator never trained on;
 * - keyword-only: keywords alone, no name, group or subgroup, for training concepts with at
 *   least two keywords: the prompt names the thing only indirectly.
 */
export function buildPromptSet(data: EmojiT2I, name: PromptSetName): Prompt[] {
  if (name === 'curated-val') return curatedValPrompts(data, PROMPT_SET_SIZE);
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

/** One JSON line per prompt. */
export function formatPromptSet(prompts: readonly Prompt[]): string {
  return prompts.map((p) => JSON.stringify({ id: p.id, concept: p.concept, prompt: p.prompt })).join('\n') + '\n';
}

/** Write every prompt set into `dir` (data/prompts by default); refuses to replace a different file without `force`. */
export function writePromptSets(data: EmojiT2I, dir = PROMPTS_DIR, force = false): string[] {
  return PROMPT_SETS.map((name) => {
    const path = join(dir, `${name}.jsonl`);
    const text = formatPromptSet(buildPromptSet(data, name));
    if (existsSync(path) && readFileSync(path, 'utf8') !== text && !force) throw new Error(`${path} exists with other prompts; pass --force to replace it`);
    writeFileAtomic(path, text);
    return path;
  });
}

/** Read a committed prompt set; errors name the file and line. */
export function readPromptSet(name: string, dir = PROMPTS_DIR): Prompt[] {
  const path = join(dir, `${name}.jsonl`);
  if (!existsSync(path)) throw new Error(`${path} not found (prompt sets: ${PROMPT_SETS.join(', ')}; \`npm run data -- --prompts\` writes them)`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l, k) => [l.trim(), k + 1] as const)
    .filter(([l]) => l !== '')
    .map(([l, line]) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`${path}:${line}: not valid JSON: ${(err as Error).message}`);
      }
      for (const key of ['id', 'concept', 'prompt']) if (typeof o[key] !== 'string' || o[key] === '') throw new Error(`${path}:${line}: "${key}" must be a non-empty string`);
      return { id: o['id'] as string, concept: o['concept'] as string, prompt: o['prompt'] as string };
    });
}
