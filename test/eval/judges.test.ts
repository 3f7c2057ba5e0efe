import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { augmentImage } from '../../src/eval/augment.js';
import { ContrastiveJudge, infoNceLoss, type ContrastiveJudgeConfig } from '../../src/eval/contrastiveJudge.js';
import { loadContrastiveJudge, loadRealismJudge, saveJudge } from '../../src/eval/judgeFile.js';
import { alignScores, conceptRanks, embedImages, embedTexts, realScores, recallAt } from '../../src/eval/judgeMetrics.js';
import { trainContrastiveJudge, trainRealismJudge, type JudgeTrainConfig } from '../../src/eval/judgeTraining.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
import { colourOfId } from '../train/trainHelpers.js';

const close = (a: number, b: number, tol = 1e-5): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

const SMOKE_JUDGE: ContrastiveJudgeConfig = { resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 32 }, text: { width: 16, layers: 1, heads: 2 }, embed: 16 };
const SMOKE_TRAIN: JudgeTrainConfig = { seed: 1, steps: 40, batchSize: 4, lr: 3e-3, warmupSteps: 4, weightDecay: 0, log: { every: 10, checkpointEvery: 20 } };

test('infoNceLoss by hand: symmetric cross-entropy of scale·I·Tᵀ with the diagonal as targets', async () => {
  await initBackend({ backend: 'cpu', quiet: true });
  const I = tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);
  const T = tf.tensor2d([
    [0.6, 0.8],
    [0, 1],
  ]);
  const loss = infoNceLoss(I, T, tf.scalar(2)).dataSync()[0] as number;
  // logits = 2·[[0.6, 0], [0.8, 1]]; rows (image->text): [1.2, 0] target 0, [1.6, 2] target 1; columns (text->image): [1.2, 1.6] target 0, [0, 2] target 1.
  const ce = (z: number[], k: number): number => Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - (z[k] as number);
  const want = ((ce([1.2, 0], 0) + ce([1.6, 2], 1)) / 2 + (ce([1.2, 1.6], 0) + ce([0, 2], 1)) / 2) / 2;
  close(loss, want);
});

test('conceptRanks counts ties against the image; recallAt by hand; alignScores is 100·cosine', () => {
  const E = 2;
  const images = Float32Array.from([1, 0, 0, 1]);
  const concepts = Float32Array.from([1, 0, 0.6, 0.8, 1, 0]); // concept 2 ties concept 0 for image 0
  assert.deepEqual(conceptRanks(images, concepts, [0, 1], E), [2, 1]);
  assert.equal(recallAt([2, 1], 1), 0.5);
  assert.deepEqual(
    alignScores(images, Float32Array.from([0.6, 0.8, 0, 1]), E).map((x) => Math.round(x * 1000) / 1000),
    [60, 100],
  );
});

test('augmentImage shifts with white fill and flips, keeping pixel values', () => {
  const R = 4;
  const src = new Float32Array(R * R * 3).fill(-1);
  src.set([0.5, 0.25, 0], 0); // pixel (x 0, y 0)
  /** An Rng stand-in whose draws are given: int() returns `ints` in turn, next() returns `u`. */
  const draws = (ints: number[], u: number): Rng => ({ int: () => ints.shift() as number, next: () => u }) as unknown as Rng;
  const at = (out: Float32Array, x: number, y: number): number[] => Array.from(out.subarray((y * R + x) * 3, (y * R + x) * 3 + 3));
  const out = new Float32Array(src.length);
  // maxShift 1: int(3) = 2 means +1, 1 means 0. Shift right by one, no flip.
  augmentImage(src, out, R, draws([2, 1], 0.9), 1);
  assert.deepEqual(at(out, 1, 0), [0.5, 0.25, 0]);
  for (let y = 0; y < R; y++) assert.deepEqual(at(out, 0, y), [1, 1, 1], 'the uncovered column is white');
  assert.deepEqual(at(out, 2, 0), [-1, -1, -1]);
  // No shift, flipped: the pixel moves to the other end of its row.
  augmentImage(src, out, R, draws([1, 1], 0.1), 1);
  assert.deepEqual(at(out, R - 1, 0), [0.5, 0.25, 0]);
  assert.deepEqual(at(out, 0, 0), [-1, -1, -1]);
});

test("a contrastive judge learns to match the toy set's colours to their names, resumes exactly, and round-trips through its file", async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const set = fakeImageTextSet(16);
  const tokenizer = Tokenizer.fromCaptions(['red green blue yellow square, shape, colour'], { maxLength: 8 });
  const root = mkdtempSync(join(tmpdir(), 'judge-'));
  const judge = ContrastiveJudge.create(SMOKE_JUDGE, tokenizer, 5);
  await trainContrastiveJudge(judge, set, colourOfId, SMOKE_TRAIN, join(root, 'whole'), { quiet: true });
  const losses = readFileSync(join(root, 'whole', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);
  assert.ok(losses.slice(-5).reduce((a, b) => a + b) / 5 < 0.5 * (losses.slice(0, 5).reduce((a, b) => a + b) / 5), `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  const names = ['red', 'green', 'blue', 'yellow'].map((c) => `${c} square, shape, colour`);
  const images = Array.from({ length: 8 }, (_, i) => set.pixels(i));
  const imageEmb = embedImages(judge, images);
  const ranks = conceptRanks(
    imageEmb,
    embedTexts(judge, names),
    images.map((_, i) => i % 4),
    SMOKE_JUDGE.embed,
  );
  assert.equal(recallAt(ranks, 1), 1, `ranks ${ranks}`);

  const killed = ContrastiveJudge.create(SMOKE_JUDGE, tokenizer, 5);
  await trainContrastiveJudge(killed, set, colourOfId, SMOKE_TRAIN, join(root, 'killed'), { quiet: true, stopAfter: 25 });
  const resumed = ContrastiveJudge.create(SMOKE_JUDGE, tokenizer, 5);
  await trainContrastiveJudge(resumed, set, colourOfId, SMOKE_TRAIN, join(root, 'killed'), { quiet: true });
  assert.equal(readFileSync(join(root, 'killed', 'metrics.jsonl'), 'utf8').replace(/"sec":[\d.]+/g, ''), readFileSync(join(root, 'whole', 'metrics.jsonl'), 'utf8').replace(/"sec":[\d.]+/g, ''));
  // The run folder's lifecycle is every trainer's: both invocations recorded, another config refused.
  const record = JSON.parse(readFileSync(join(root, 'killed', 'config.json'), 'utf8')) as { judge: string; invocations: Array<{ fromStep: number }> };
  assert.deepEqual(
    record.invocations.map((i) => i.fromStep),
    [0, 20],
  );
  const other = ContrastiveJudge.create(SMOKE_JUDGE, tokenizer, 5);
  await assert.rejects(
    trainContrastiveJudge(other, set, colourOfId, { ...SMOKE_TRAIN, lr: SMOKE_TRAIN.lr * 2 }, join(root, 'killed'), { quiet: true }),
    /config\.json: this run was made with a different config; pass --force/,
  );
  // --force starts the run over, but under its lock: never while another live process trains in it.
  const { writeFileSync, existsSync } = await import('node:fs');
  const { hostname } = await import('node:os');
  writeFileSync(join(root, 'killed', '.lock'), `${JSON.stringify({ pid: process.ppid, host: hostname() })}\n`);
  await assert.rejects(trainContrastiveJudge(other, set, colourOfId, { ...SMOKE_TRAIN, lr: SMOKE_TRAIN.lr * 2 }, join(root, 'killed'), { quiet: true, force: true }), /is in use by process \d+/);
  assert.ok(existsSync(join(root, 'killed', 'metrics.jsonl')), "the other process's run is left alone");
  const { rmSync } = await import('node:fs');
  rmSync(join(root, 'killed', '.lock'));
  await trainContrastiveJudge(other, set, colourOfId, { ...SMOKE_TRAIN, steps: 2, lr: SMOKE_TRAIN.lr * 2 }, join(root, 'killed'), { quiet: true, force: true });
  const restarted = JSON.parse(readFileSync(join(root, 'killed', 'config.json'), 'utf8')) as { invocations: Array<{ fromStep: number }> };
  assert.deepEqual(
    restarted.invocations.map((i) => i.fromStep),
    [0],
    'forced: a new run from step 0',
  );
  tf.dispose(other.params.variables);

  const file = await saveJudge(join(root, 'saved'), judge, { test: true });
  assert.match(file.weightsManifest.sha256, /^[0-9a-f]{64}$/);
  const loaded = loadContrastiveJudge(join(root, 'saved'));
  assert.deepEqual(embedImages(loaded.judge, images), imageEmb);
  assert.throws(() => loadRealismJudge(join(root, 'saved')), /a contrastive judge, expected the realism judge/);
  tf.dispose([...judge.params.variables, ...killed.params.variables, ...resumed.params.variables, ...loaded.judge.params.variables]);
});

test('the realism judge learns real squares from generated noise', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const real = fakeImageTextSet(16);
  const rng = new Rng(3);
  const generated = Array.from({ length: 16 }, () => Uint8Array.from({ length: 32 * 32 * 3 }, () => rng.int(256)));
  const judge = RealismJudge.create({ resolution: 32, image: { channels: [8, 16], groups: 4, width: 16 } }, 2);
  await trainRealismJudge(judge, real, generated, { ...SMOKE_TRAIN, steps: 30, batchSize: 8 }, mkdtempSync(join(tmpdir(), 'realism-')), { quiet: true });
  const pReal = realScores(judge, [real.pixels(0), real.pixels(1)]);
  const pFake = realScores(judge, generated.slice(0, 2));
  assert.ok(Math.min(...pReal) > 0.8 && Math.max(...pFake) < 0.2, `real ${pReal} generated ${pFake}`);
  tf.dispose(judge.params.variables);
});
