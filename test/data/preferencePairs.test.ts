import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { loadModel } from '../../src/model/modelFile.js';
import { postTrain } from '../../src/train/postTrain.js';
import sharp from 'sharp';
import { formatPairRecords, loadPreferencePairs, parsePairRecords, PAIRS_FILE } from '../../src/data/preferencePairs.js';
import { Rng } from '../../src/util/rng.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
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

test('a pairs.jsonl set reads back losslessly from its file or its folder, and DPO trains on it with the file\'s losers', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const base = await smokeBase();
  const out = mkdtempSync(join(tmpdir(), 'pairs-'));
  // Winners and losers: flat squares of two colours, written as PNG beside the file, as any user's set.
  const images = fakeImageTextSet(6);
  const png = (rgb: Uint8Array): Promise<Buffer> => sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
  const records = [0, 1, 2].map((i) => ({ prompt: images.caption(2 * i, new Rng(0)), winner: `w${i}.png`, loser: `l${i}.png`, concept: String(i) }));
  for (const [i, r] of records.entries()) {
    writeFileSync(join(out, r.winner), await png(images.pixels(2 * i)));
    writeFileSync(join(out, r.loser), await png(images.pixels(2 * i + 1)));
  }
  writeFileSync(join(out, PAIRS_FILE), formatPairRecords(records));
  const pairs = await loadPreferencePairs(join(out, PAIRS_FILE), 32);
  assert.deepEqual(pairs.records, records);
  // The pair set's folder reads as its pairs.jsonl, not as Parquet shards.
  assert.deepEqual((await loadPreferencePairs(out, 32)).records, pairs.records);
  records.forEach((_, i) => {
    assert.deepEqual(pairs.winners.pixels(i), images.pixels(2 * i), 'PNG round trip is lossless');
    assert.deepEqual(pairs.loser(i), images.pixels(2 * i + 1));
  });
  // A path that is not there names itself and what makes preference data.
  await assert.rejects(loadPreferencePairs(join(out, 'nowhere'), 32), /nowhere: not found: no preference pairs there \(npm run pick -- --out \S+nowhere builds Emoji-Pick there/);

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
