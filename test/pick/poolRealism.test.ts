import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { judgesCommand } from '../../src/commands/judgesCommand.js';
import { ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';
import { writePickShard, type PickRow } from '../../src/data/pickapic.js';
import { encodePickJpeg, throughPickJpeg } from '../../src/data/pickJpeg.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { saveJudge } from '../../src/eval/judgeFile.js';
import { realismInputs } from '../../src/eval/judgeMetrics.js';
import { conceptCaptions } from '../../src/eval/judgeValidity.js';
import { RealismJudge } from '../../src/eval/realismJudge.js';
import { buildEmojiPick, type PickBuildRecord } from '../../src/pick/buildEmojiPick.js';
import { resolveEmojiPickConfig } from '../../src/pick/pickConfig.js';
import { openPickPool } from '../../src/pick/pickPool.js';
import { evenDraw, preparePoolRealism, trainPoolRealismJudge } from '../../src/pick/poolRealism.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { parseArgs, UsageError } from '../../src/util/args.js';
import { sha256 } from '../../src/util/sha256.js';
import { smokeBase } from '../train/trainHelpers.js';

const GENERATORS = ['weak', 'base-S', 'base-L'];
const TINY_REALISM = { resolution: 32, image: { channels: [8], groups: 4, width: 8 } };

let root = '';
let pool = '';
let judgeStyle: ImageTextSet;
let generatorStyle: Uint8Array[] = [];

/** A copy of the pool build, changed by `edit(record)` (build.json) when given. */
function poolCopy(name: string, edit?: (record: PickBuildRecord) => void): string {
  const dir = join(root, name);
  cpSync(pool, dir, { recursive: true });
  if (edit) {
    const record = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as PickBuildRecord;
    edit(record);
    writeFileSync(join(dir, 'build.json'), JSON.stringify(record));
  }
  return dir;
}

// One small Emoji-T2I and one small pool build, as npm run pick writes it: 3 generators (smoke
// bases; the images' content does not matter here), 12 training and 6 validation pairs.
before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  root = mkdtempSync(join(tmpdir(), 'pool-realism-'));
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({ maxConcepts: 12, shardSize: 32 }), { dataRoot: join(root, 'data') });
  const data = EmojiT2I.open(dir);
  judgeStyle = data.view('judge');
  const curated = data.view('curated');
  generatorStyle = Array.from({ length: 8 }, (_, i) => curated.pixels(i));
  const annotator = join(root, 'annotator');
  const tokenizer = Tokenizer.fromCaptions(conceptCaptions(data).captions, { maxLength: 8 });
  await saveJudge(annotator, ContrastiveJudge.create({ resolution: 32, maxWords: 8, image: { channels: [8], groups: 4, width: 8 }, text: { width: 8, layers: 1, heads: 2 }, embed: 8 }, tokenizer, 2), {
    test: true,
  });
  const base = await smokeBase();
  const config = resolveEmojiPickConfig({
    pairs: { train: 12, validation: 6 },
    generators: GENERATORS.map((name) => ({ name, model: base })),
    settings: { steps: [2], guidance: [2] },
    annotator,
    shardPairs: 8,
  });
  pool = join(root, 'pool');
  await buildEmojiPick(data, config, pool, { workers: 1, backend: 'wasm', quiet: true });
});

after(() => rmSync(root, { recursive: true, force: true }));

/** Images per generator in a split, as build.json records them. */
function recorded(dir: string, split: 'train' | 'validation'): Record<string, number> {
  const record = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as PickBuildRecord;
  const counts: Record<string, number> = {};
  for (const s of record.shards.filter((s) => s.split === split)) for (const [g, c] of Object.entries(s.byGenerator)) counts[g] = (counts[g] ?? 0) + c.images;
  return counts;
}

test("--pool trains against the pool's images: the same number from each generator, reported on each generator's validation images", async () => {
  const opened = openPickPool(pool);
  assert.deepEqual(opened.generators, GENERATORS);
  const train = recorded(pool, 'train');
  const validation = recorded(pool, 'validation');
  const fewest = Math.min(...GENERATORS.map((g) => train[g] as number));
  assert.ok(fewest > 0 && GENERATORS.some((g) => (train[g] as number) > fewest), `an uneven build, so the even draw has something to even out: ${JSON.stringify(train)}`);

  const data = await preparePoolRealism(opened, judgeStyle, { perGenerator: 1000, seed: 3 });
  assert.equal(data.perGenerator, fewest);
  assert.deepEqual(
    [...data.generated].map(([g, images]) => [g, images.length]),
    GENERATORS.map((g) => [g, fewest]),
  );
  assert.deepEqual(
    [...data.validation].map(([g, images]) => [g, images.length]),
    GENERATORS.map((g) => [g, validation[g]]),
    'every validation image of every generator, none of them trained on',
  );
  // A cap below the fewest takes exactly the cap from each.
  assert.equal((await preparePoolRealism(opened, judgeStyle, { perGenerator: 2, seed: 3 })).generated.get('base-L')?.length, 2);

  const heldout = Array.from({ length: 6 }, (_, i) => judgeStyle.pixels(i));
  const { judge, trainedOn, validity } = await trainPoolRealismJudge(
    opened,
    { train: judgeStyle, heldout, generatorStyle },
    TINY_REALISM,
    { seed: 1, steps: 3, batchSize: 8, lr: 1e-3, warmupSteps: 1, weightDecay: 0, log: { every: 10, checkpointEvery: 10 } },
    1000,
    join(root, 'run'),
    { quiet: true },
  );
  assert.equal(judge.config.inputJpegQuality, 95, "the judge records the build's JPEG quality");
  assert.equal(trainedOn['generated'], 3 * fewest);
  assert.deepEqual(Object.keys(validity.byGenerator), GENERATORS, "the report lists exactly the build's generators");
  assert.deepEqual(
    GENERATORS.map((g) => validity.byGenerator[g]?.images),
    GENERATORS.map((g) => validation[g]),
  );
  assert.equal(validity.heldoutReal.images, 6);
  assert.equal(validity.pool.trainImagesPerGenerator, fewest);
  for (const x of [validity.heldoutReal, validity.generatorStyle, validity.generatorStyleBlurred, validity.generatorStyleGridShuffled, ...Object.values(validity.byGenerator)]) {
    assert.ok(0 <= x.low && x.low <= x.mean && x.mean <= x.high && x.high <= 100, JSON.stringify(x));
  }
  tf.dispose(judge.params.variables);
});

test("both classes reach the judge through the same JPEG: a real image and the same picture stored in the pool's shards are the same input", async () => {
  // A pool whose every training image is a real judge-style image, stored as npm run pick stores
  // its draws (encodePickJpeg), the same number for each generator.
  const dir = poolCopy('real-pool');
  const opened = openPickPool(dir);
  const n = 12;
  const real = Array.from({ length: n }, (_, i) => judgeStyle.pixels(i));
  const rows: PickRow[] = [];
  for (let r = 0; r < n / 2; r++) {
    const [a, b] = [2 * r, 2 * r + 1];
    rows.push({
      are_different: true,
      best_image_uid: `${a}`,
      caption: `pair ${r}`,
      created_at: 0n,
      has_label: true,
      image_0_uid: `${a}`,
      image_0_url: '',
      image_1_uid: `${b}`,
      image_1_url: '',
      jpg_0: await encodePickJpeg(real[a] as Uint8Array, 32, opened.jpegQuality),
      jpg_1: await encodePickJpeg(real[b] as Uint8Array, 32, opened.jpegQuality),
      label_0: 1,
      label_1: 0,
      model_0: GENERATORS[a % 3] as string,
      model_1: GENERATORS[b % 3] as string,
      ranking_id: BigInt(r),
      user_id: 0n,
      num_example_per_prompt: 1n,
      __index_level_0__: BigInt(r),
    });
  }
  for (const file of opened.shards.train) writePickShard(file, rows);
  const set: ImageTextSet = { ...judgeStyle, size: n, pixels: (i) => real[i] as Uint8Array };
  const data = await preparePoolRealism(opened, set, { perGenerator: 1000, seed: 1 });
  assert.equal(data.perGenerator, (opened.shards.train.length * n) / 3, 'every stored image is drawn');
  const key = (img: Uint8Array): string => sha256(img);
  const generated = new Set([...data.generated.values()].flat().map(key));
  const realInputs = Array.from({ length: n }, (_, i) => data.real.pixels(i));
  assert.deepEqual(
    realInputs.map((img, i) => (generated.has(key(img)) ? i : -1)),
    [...Array(n).keys()],
    "each real image reaches the judge byte for byte as the pool's stored copy of it does",
  );
  assert.ok(
    real.some((img, i) => key(img) !== key(realInputs[i] as Uint8Array)),
    'the JPEG changes the bytes, so shown raw the real class would differ from the pool copies',
  );
  // Evaluation shows a judge trained this way its images through the same JPEG; a judge without a quality, as drawn.
  const pooled = RealismJudge.create({ ...TINY_REALISM, inputJpegQuality: opened.jpegQuality }, 1);
  const plain = RealismJudge.create(TINY_REALISM, 1);
  assert.deepEqual((await realismInputs(pooled, real)).map(key), realInputs.map(key));
  assert.deepEqual((await realismInputs(plain, real)).map(key), real.map(key));
  assert.deepEqual(await throughPickJpeg(real[0] as Uint8Array, 32, opened.jpegQuality), realInputs[0]);
  tf.dispose([...pooled.params.variables, ...plain.params.variables]);
});

test('evenDraw takes min(cap, fewest) from every generator and refuses a generator with none', () => {
  const by = new Map([
    ['a', [1, 2, 3, 4, 5]],
    ['b', [6, 7, 8]],
  ]);
  const { perGenerator, drawn } = evenDraw(by, 10, 1, 'x');
  assert.equal(perGenerator, 3);
  assert.deepEqual(
    [...drawn.values()].map((d) => d.length),
    [3, 3],
  );
  assert.deepEqual([...(drawn.get('b') ?? [])].sort(), [6, 7, 8]);
  assert.equal(evenDraw(by, 2, 1, 'x').drawn.get('a')?.length, 2);
  assert.throws(() => evenDraw(new Map([...by, ['c', []]]), 10, 1, 'pool/train'), /^Error: pool\/train: no image of generator "c"/);
});

test('a folder that is not a pool build is an error naming the file', async () => {
  assert.throws(() => openPickPool(join(pool, 'train')), /train\/build\.json not found: not an Emoji-Pick build/);
  const other = poolCopy('other-format');
  writeFileSync(join(other, 'build.json'), JSON.stringify({ format: 'selfdpo-judge/1' }));
  assert.throws(() => openPickPool(other), /other-format\/build\.json: not an Emoji-Pick build record \(format "selfdpo-judge\/1"/);
  const one = poolCopy('one-generator', (r) => (r.config.generators = r.config.generators.slice(0, 1)));
  assert.throws(() => openPickPool(one), /one-generator\/build\.json: 1 generator \(weak\); a pool needs at least two/);
  const noValidation = poolCopy('no-validation', (r) => (r.shards = r.shards.filter((s) => s.split !== 'validation')));
  assert.throws(() => openPickPool(noValidation), /no-validation\/build\.json: the build has no validation split/);
  const lost = poolCopy('lost-shard');
  rmSync(join(lost, 'validation'), { recursive: true });
  assert.throws(() => openPickPool(lost), /lost-shard\/validation\/validation-00000-of-00001\.parquet: listed in .*build\.json but missing/);
  const unfinished = poolCopy('unfinished', (r) => (r.complete = false));
  assert.throws(() => openPickPool(unfinished), /unfinished\/build\.json: the build is not complete/);
  // A row naming a model the build does not, and a generator that drew nothing for training.
  const renamed = poolCopy('renamed', (r) => ((r.config.generators[0] as { name: string }).name = 'feeble'));
  await assert.rejects(
    preparePoolRealism(openPickPool(renamed), judgeStyle, { perGenerator: 10, seed: 1 }),
    /train-0000\d-of-00002\.parquet: row \d+, column model_[01]: "weak" is not a generator of this build \(feeble, base-S, base-L\)/,
  );
  const idle = poolCopy('idle', (r) => r.config.generators.push({ name: 'idle', model: 'none' }));
  await assert.rejects(preparePoolRealism(openPickPool(idle), judgeStyle, { perGenerator: 10, seed: 1 }), /idle\/train: no image of generator "idle"/);
});

test('judges: --pool with --base is a usage error, and a bad pool fails before any judge trains', async () => {
  const run = (...argv: string[]): Promise<void> => judgesCommand.run(parseArgs(argv, judgesCommand.flags), argv);
  const out = join(root, 'judges');
  await assert.rejects(run('--pool', pool, '--base', 'data/base-s', '--out', out), (err: Error) => err instanceof UsageError && /--pool and --base: give one/.test(err.message));
  await assert.rejects(run('--pool', join(root, 'nowhere'), '--out', out), /nowhere\/build\.json not found: not an Emoji-Pick build/);
});
