import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVAL_INDEX_MARKER, writeEvalIndex } from '../../src/eval/evalIndex.js';

function saved(promptSet: string, align: number, command: string, cached = false): object {
  return {
    model: 'data/base-s',
    modelSha256: 'a'.repeat(64),
    promptSet,
    prompts: 3,
    concepts: 10,
    sampling: { sampler: 'ddim', steps: 25, guidance: 3, eta: 0 },
    judges: { contrastive: 'c'.repeat(64), realism: 'r'.repeat(64) },
    align,
    r1: 0.0444,
    r5: 0.154,
    real: 28.21,
    fid: 0.0234,
    cached,
    perPrompt: [],
    seconds: 165.6,
    command,
  };
}

test("writeEvalIndex tabulates the folder's evaluations with their commands, and leaves a foreign README alone", () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-index-'));
  try {
    writeFileSync(join(dir, 'unseen.json'), JSON.stringify(saved('unseen-concepts', 32.614, 'npm run eval -- --prompts unseen-concepts', true)));
    writeFileSync(join(dir, 'curated.json'), JSON.stringify(saved('curated-val', 46.049, 'npm run eval -- --prompts curated-val')));
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ not: 'an evaluation' }));
    assert.equal(writeEvalIndex(dir), true);
    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(md.startsWith(EVAL_INDEX_MARKER));
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && l.includes('.json'));
    // By file name; the numbers as the eval command prints them.
    assert.deepEqual(rows, [
      '| curated.json | data/base-s | `aaaaaaaaaaaa` | curated-val | 3 | DDIM 25 steps, guidance 3 | 46.05 | 4.4 | 15.4 | 28.2 | 0.023 | `cccccccccccc`, `rrrrrrrrrrrr` | 166 |',
      '| unseen.json | data/base-s | `aaaaaaaaaaaa` | unseen-concepts | 3 | DDIM 25 steps, guidance 3 | 32.61 | 4.4 | 15.4 | 28.2 | 0.023 | `cccccccccccc`, `rrrrrrrrrrrr` | 166 (images cached) |',
    ]);
    assert.ok(md.includes('```sh\nnpm run eval -- --prompts curated-val\nnpm run eval -- --prompts unseen-concepts\n```'));
    // Its own README is rewritten; anyone else's is not.
    assert.equal(writeEvalIndex(dir), true);
    writeFileSync(join(dir, 'README.md'), '# base-S model card\n');
    assert.equal(writeEvalIndex(dir), false);
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), '# base-S model card\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
