import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { evaluate, promptSeed } from '../../src/eval/evaluate.js';
import { tinyEvaluation } from './evalFixture.js';

test('evaluating the same checkpoint twice gives identical numbers, from the cache and from scratch', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const { loaded, context, prompts } = await tinyEvaluation();
  const { model, schedule, file } = loaded;
  const cacheDir = mkdtempSync(join(tmpdir(), 'eval-cache-'));
  const opts = { sampling: { steps: 2, guidance: 2 }, cacheDir };
  const info = { dir: 'smoke', sha256: file.weightsManifest.sha256 };
  const hashes = { contrastive: 'c', realism: 'r' };
  const first = await evaluate(model, schedule, info, 'toy', prompts, context, hashes, opts);
  const second = await evaluate(model, schedule, info, 'toy', prompts, context, hashes, opts);
  assert.equal(first.cached, false);
  assert.equal(second.cached, true);
  assert.deepEqual({ ...second, cached: false }, first);
  rmSync(cacheDir, { recursive: true, force: true });
  const third = await evaluate(model, schedule, info, 'toy', prompts, context, hashes, opts);
  assert.deepEqual(third, first);
  assert.ok(Number.isFinite(first.fid) && first.fid >= 0);
  assert.ok(first.r5 === 1, 'with 4 concepts every image is in the top 5');
  assert.deepEqual(
    first.perPrompt.map((p) => p.seed),
    prompts.map((p) => promptSeed(p.id)),
  );
  assert.ok(first.perPrompt.every((p) => p.real > 0 && p.real < 100 && p.rank >= 1 && p.rank <= 4));
  model.params.dispose();
});
