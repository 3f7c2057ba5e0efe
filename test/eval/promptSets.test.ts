import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { formatPromptSet, readPromptSet } from '../../src/eval/promptSets.js';
import { buildPromptSet, PROMPT_SETS } from '../../src/data/evalPrompts.js';

test('the committed prompt sets are what the default Emoji-T2I build gives, and they are what docs/PROTOCOL.md asks for', async () => {
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const data = EmojiT2I.open(dir);
  for (const name of PROMPT_SETS) {
    assert.equal(readFileSync(join('data', 'prompts', `${name}.jsonl`), 'utf8'), formatPromptSet(buildPromptSet(data, name)), `data/prompts/${name}.jsonl is stale`);
  }
  const split = new Map(data.manifest.concepts.map((c) => [c.key, c]));
  const curated = readPromptSet('curated-val');
  assert.equal(curated.length, 500);
  assert.ok(
    curated.every((p) => split.get(p.concept)?.split === 'seen'),
    'curated-val: training concepts',
  );
  const unseen = readPromptSet('unseen-concepts');
  assert.equal(unseen.length, data.manifest.concepts.filter((c) => c.split === 'unseen').length);
  assert.ok(unseen.every((p) => split.get(p.concept)?.split === 'unseen'));
  const keywords = readPromptSet('keyword-only');
  assert.equal(keywords.length, 500);
  for (const p of keywords) {
    const c = split.get(p.concept);
    assert.ok(c && c.split === 'seen');
    assert.ok(!p.prompt.split(', ').includes(c.name), `keyword-only prompt "${p.prompt}" names ${c.name}`);
    assert.ok(p.prompt.split(', ').every((w) => c.keywords.includes(w)));
  }
  for (const set of [curated, unseen, keywords]) assert.equal(new Set(set.map((p) => p.concept)).size, set.length, 'one prompt per concept');
});

test('readPromptSet names the file and line of a bad record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
  writeFileSync(join(dir, 'mine.jsonl'), '{"id":"a","concept":"x","prompt":"cat"}\n{"id":"b","concept":"y"}\n');
  assert.throws(() => readPromptSet('mine', dir), /mine\.jsonl:2: "prompt" must be a non-empty string/);
  assert.throws(() => readPromptSet('nope', dir), /nope\.jsonl not found/);
});
