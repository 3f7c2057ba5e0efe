import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { evaluate, promptSeed } from '../../src/eval/evaluate.js';
import { tinyEvaluation } from './evalFixture.js';

/** The tiny model, judges and prompts, a fresh image cache, and the arguments both tests pass to evaluate(). */
async function tinySetup() {
  await initBackend({ backend: 'wasm', quiet: true });
  const { loaded, context, prompts } = await tinyEvaluation();
  const { model, schedule, file } = loaded;
  const cacheDir = mkdtempSync(join(tmpdir(), 'eval-cache-'));
  return {
    model,
    schedule,
    file,
    context,
    prompts,
    cacheDir,
    opts: { sampling: { steps: 2, guidance: 2 }, cacheDir },
    info: { dir: 'smoke', sha256: file.weightsManifest.sha256 },
    hashes: { contrastive: 'c', realism: 'r' },
  };
}

test('evaluating the same checkpoint twice gives identical numbers, from the cache and from scratch', async () => {
  const { model, schedule, context, prompts, cacheDir, opts, info, hashes } = await tinySetup();
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

test('several draws per prompt: draw 0 is the one-draw evaluation (its cache file included), each further draw its own seed', async () => {
  const { model, schedule, file, context, prompts, cacheDir, opts, info, hashes } = await tinySetup();
  const one = await evaluate(model, schedule, info, 'toy', prompts, context, hashes, opts);
  const cacheFiles = (): string[] => readdirSync(join(cacheDir, file.weightsManifest.sha256.slice(0, 16))).sort();
  const before = cacheFiles();
  const two = await evaluate(model, schedule, info, 'toy', prompts, context, hashes, { ...opts, draws: 2 });
  // Draw 0 came from the one-draw evaluation's cache file; draw 1 added a file of its own.
  assert.equal(two.cached, false);
  assert.equal(cacheFiles().length, before.length + 1);
  assert.ok(before.every((f) => cacheFiles().includes(f)));
  assert.equal(two.prompts, prompts.length);
  assert.equal(two.draws, 2);
  assert.equal(one.draws, undefined, 'a one-draw evaluation reads as before');
  assert.equal(two.perPrompt.length, 2 * prompts.length);
  const [draw0, draw1] = [two.perPrompt.slice(0, prompts.length), two.perPrompt.slice(prompts.length)];
  // Draw 0's images are the one-draw evaluation's, so its per-image judge scores are too (to float
  // rounding: the judge embeds the images in batches of another make-up).
  assert.deepEqual(
    draw0.map((p) => [p.id, p.seed, p.rank, p.draw]),
    one.perPrompt.map((p) => [p.id, p.seed, p.rank, undefined]),
  );
  draw0.forEach((p, i) => {
    const o = one.perPrompt[i] as (typeof one.perPrompt)[number];
    assert.ok(Math.abs(p.align - o.align) < 1e-4 && Math.abs(p.real - o.real) < 1e-4, `${p.id}: ${p.align} vs ${o.align}, ${p.real} vs ${o.real}`);
  });
  assert.deepEqual(
    draw1.map((p) => [p.id, p.seed, p.draw]),
    prompts.map((p) => [p.id, promptSeed(p.id, 1), 1]),
  );
  assert.ok(prompts.every((p) => promptSeed(p.id, 1) !== promptSeed(p.id)));
  assert.ok(
    draw1.some((p, i) => p.align !== draw0[i]?.align),
    'another seed draws another image',
  );
  // The means are over every image: prompts x draws.
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(two.align - mean(two.perPrompt.map((p) => p.align))) < 1e-9);
  rmSync(cacheDir, { recursive: true, force: true });
  model.params.dispose();
});
