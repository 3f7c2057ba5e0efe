import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { loadModel } from '../../src/model/modelFile.js';
import { buildPreferencePairs } from '../../src/train/pairBuilder.js';
import { postTrain } from '../../src/train/postTrain.js';
import { loadPreferencePairs, parsePairRecords, PAIRS_FILE } from '../../src/data/preferencePairs.js';
import { smokeBase, smokeTrainConfig, smokeTrainData } from '../train/trainHelpers.js';

test('parsePairRecords names the file and line of every kind of bad record', () => {
  const ok = '{"prompt":"a cat","winner":"w.png","loser":"l.png"}';
  assert.equal(parsePairRecords(`${ok}\n\n${ok}\n`, 'p.jsonl').length, 2);
  assert.throws(() => parsePairRecords(`${ok}\n{oops`, 'p.jsonl'), /p\.jsonl:2: not valid JSON/);
  assert.throws(() => parsePairRecords('{"prompt":"","winner":"w.png","loser":"l.png"}', 'p.jsonl'), /p\.jsonl:1: "prompt" must be a non-empty string/);
  assert.throws(() => parsePairRecords('{"prompt":"x","winner":"w.png"}', 'p.jsonl'), /p\.jsonl:1: "loser" must be a non-empty string/);
  assert.throws(() => parsePairRecords('{"prompt":"x","winner":"w.png","loser":"w.png"}', 'p.jsonl'), /p\.jsonl:1: winner and loser are the same file/);
  assert.throws(() => parsePairRecords('{"prompt":"x","winner":"a","loser":"b","winnerScore":"high"}', 'p.jsonl'), /p\.jsonl:1: "winnerScore" must be a finite number/);
  assert.throws(() => parsePairRecords('[1]', 'p.jsonl'), /p\.jsonl:1: expected an object/);
  assert.throws(() => parsePairRecords('\n', 'p.jsonl'), /p\.jsonl: no preference pairs/);
});

test('loadPreferencePairs names the line of a missing image', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pairs-bad-'));
  writeFileSync(join(dir, PAIRS_FILE), '{"prompt":"x","winner":"w.png","loser":"l.png"}\n');
  await assert.rejects(loadPreferencePairs(join(dir, PAIRS_FILE), 32), /pairs\.jsonl:1: image .*w\.png/);
});

test('the pair builder draws two images per prompt, lets the scorer pick, skips ties, records its cost, and DPO trains on the result', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const { model, schedule } = loadModel(base);
  const out = join(mkdtempSync(join(tmpdir(), 'pairs-')), 'pairs');
  const prompts = ['red square, shape, colour', 'blue square, shape, colour', 'green square, shape, colour', 'yellow square, shape, colour'].map((prompt, i) => ({ prompt, concept: String(i) }));
  // A toy scorer: brighter is better, except that prompt 2's two images tie.
  const brightness = (rgb: Uint8Array): number => rgb.reduce((s, v) => s + v, 0) / rgb.length;
  const scorer = (images: readonly Uint8Array[]): number[] => images.map((im, k) => (Math.floor(k / 2) === 2 ? 1 : brightness(im)));
  const sampling = { sampler: 'ddim' as const, steps: 2, guidance: 1 };
  const report = await buildPreferencePairs(model, schedule, prompts, scorer, out, { seed: 3, sampling, scorerName: 'brightness' });
  assert.equal(report.prompts, 4);
  assert.equal(report.ties, 1);
  assert.equal(report.pairs, 3);
  assert.ok(report.seconds.sampling > 0 && report.seconds.total >= report.seconds.sampling + report.seconds.scoring - 1e-9);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')).pairs, 3);
  const pairs = await loadPreferencePairs(join(out, PAIRS_FILE), 32);
  assert.deepEqual(pairs.records.map((r) => r.concept), ['0', '1', '3']);
  // The pair set's folder reads as its pairs.jsonl, not as Parquet shards.
  assert.deepEqual((await loadPreferencePairs(out, 32)).records, pairs.records);
  pairs.records.forEach((r, i) => {
    assert.ok((r.winnerScore as number) > (r.loserScore as number));
    assert.notEqual(r.winnerSeed, r.loserSeed);
    // PNG round trip is lossless: the stored winner is the brighter image.
    assert.ok(Math.abs(brightness(pairs.winners.pixels(i)) - (r.winnerScore as number)) < 1e-9);
    assert.ok(Math.abs(brightness(pairs.loser(i)) - (r.loserScore as number)) < 1e-9);
  });
  await assert.rejects(buildPreferencePairs(model, schedule, prompts, scorer, out, { seed: 3, sampling, scorerName: 'brightness' }), /exists; pass --force/);
  model.params.dispose();

  // Diffusion-DPO on those pairs: the losers come from the file, not from a downgrade.
  const runDir = join(mkdtempSync(join(tmpdir(), 'dpo-')), 'run');
  const config = smokeTrainConfig(base, { method: 'dpo', downgrade: '', data: { pairs: join(out, PAIRS_FILE) } }, { batchSize: 2, microBatch: 1, steps: 2 });
  const data = { ...smokeTrainData(pairs.winners), conceptOfId: (id: string) => id, pairs };
  await postTrain(config, data, runDir, { quiet: true });
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => Number.isFinite(r['implicit_acc']) && Number.isFinite(r['ref_l'])));
  assert.ok(existsSync(join(runDir, 'model', 'weights.bin')));
});

test('SFT trains the UNet alone on the winners: the text encoder stays the base\'s', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const runDir = join(mkdtempSync(join(tmpdir(), 'sft-')), 'run');
  await postTrain(smokeTrainConfig(base, { method: 'sft', downgrade: '' }, { steps: 3 }), smokeTrainData(), runDir, { quiet: true });
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(rows.length, 3);
  assert.equal(rows[0]?.['loss'], rows[0]?.['mse_w']);
  assert.equal(rows[0]?.['implicit_acc'], undefined);
  const a = loadModel(base).model;
  const b = loadModel(join(runDir, 'model')).model;
  const changed = (name: string): boolean => Array.from(a.params.variable(name).dataSync()).some((x, i) => x !== b.params.variable(name).dataSync()[i]);
  const text = a.params.names.filter((n) => n.startsWith('text/'));
  const unet = a.params.names.filter((n) => n.startsWith('unet/'));
  assert.deepEqual(text.filter(changed), [], 'the text encoder is frozen');
  // Three steps: zero-initialised output convolutions (the UNet's and each residual branch's, in series) pass no gradient upstream until they have moved.
  assert.deepEqual(unet.filter((n) => !changed(n)), [], 'every UNet tensor trained');
  a.params.dispose();
  b.params.dispose();
});
