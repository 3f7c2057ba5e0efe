import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { evaluate, promptSeed, type EvalContext } from '../../src/eval/evaluate.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { loadModel } from '../../src/model/modelFile.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
import { smokeBase } from '../train/trainHelpers.js';

test('evaluating the same checkpoint twice gives identical numbers, from the cache and from scratch', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const { model, schedule, file } = loadModel(await smokeBase());
  const colours = ['red', 'green', 'blue', 'yellow'];
  const tokenizer = Tokenizer.fromCaptions(['red green blue yellow square, shape, colour'], { maxLength: 8 });
  const set = fakeImageTextSet(16);
  const context: EvalContext = {
    contrastive: ContrastiveJudge.create({ resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 }, tokenizer, 1),
    realism: RealismJudge.create({ resolution: 32, image: { channels: [8], groups: 4, width: 8 } }, 2),
    conceptKeys: colours,
    conceptCaptions: colours.map((c) => `${c} square, shape, colour`),
    realImages: (c) => Array.from({ length: 4 }, (_, k) => set.pixels(colours.indexOf(c) + 4 * k)),
  };
  const prompts = colours.map((c, i) => ({ id: `toy/${i}`, concept: c, prompt: `${c} square, shape, colour` }));
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
  assert.deepEqual(first.perPrompt.map((p) => p.seed), prompts.map((p) => promptSeed(p.id)));
  assert.ok(first.perPrompt.every((p) => p.real > 0 && p.real < 100 && p.rank >= 1 && p.rank <= 4));
  model.params.dispose();
});
