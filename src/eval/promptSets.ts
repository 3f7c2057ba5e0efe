import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { buildPromptSet, PROMPT_SETS, type Prompt } from '../data/evalPrompts.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { parseJson } from '../util/jsonFile.js';

/** Where the committed prompt sets live (built by `buildPromptSet`). */
export const PROMPTS_DIR = join('data', 'prompts');

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
  if (!existsSync(path)) throw new Error(`${path} not found (prompt sets: ${PROMPT_SETS.join(', ')}; \`npm run data -- --write-prompts\` writes them)`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l, k) => [l.trim(), k + 1] as const)
    .filter(([l]) => l !== '')
    .map(([l, line]) => {
      const o = parseJson(l, `${path}:${line}`) as Record<string, unknown>;
      for (const key of ['id', 'concept', 'prompt']) if (typeof o[key] !== 'string' || o[key] === '') throw new Error(`${path}:${line}: "${key}" must be a non-empty string`);
      return { id: o['id'] as string, concept: o['concept'] as string, prompt: o['prompt'] as string };
    });
}
