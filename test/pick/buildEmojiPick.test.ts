import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import { defaultDataRoot, ensureEmojiT2I } from '../../src/data/emojiBuilder.js';
import { resolveEmojiDataConfig } from '../../src/data/emojiConfig.js';
import { EmojiT2I } from '../../src/data/emojiDataset.js';
import { readPickPairs, readPickShardRows } from '../../src/data/pickapic.js';
import { ContrastiveJudge } from '../../src/eval/contrastiveJudge.js';
import { saveJudge } from '../../src/eval/judgeFile.js';
import { conceptCaptions } from '../../src/eval/judgeValidity.js';
import { buildEmojiPick, shardFiles } from '../../src/pick/buildEmojiPick.js';
import { writeEmojiPickCard } from '../../src/pick/pickCard.js';
import { resolveEmojiPickConfig } from '../../src/pick/pickConfig.js';
import { planPairs } from '../../src/pick/pickPlan.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { smokeBase } from '../train/trainHelpers.js';

async function setup(): Promise<{ data: EmojiT2I; root: string; annotator: string; base: string }> {
  await initBackend({ backend: 'wasm', quiet: true });
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const data = EmojiT2I.open(dir);
  const root = mkdtempSync(join(tmpdir(), 'pick-build-'));
  // An untrained toy annotator: the pipeline, not the preferences, is under test.
  const tokenizer = Tokenizer.fromCaptions(conceptCaptions(data).captions, { maxLength: 8 });
  const annotator = join(root, 'annotator');
  await saveJudge(
    annotator,
    ContrastiveJudge.create({ resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 }, tokenizer, 2),
    { test: true },
  );
  return { data, root, annotator, base: await smokeBase() };
}

test('the plan draws distinct training captions, never an evaluation prompt, and no prompt is in both splits', async () => {
  const { dir } = await ensureEmojiT2I(resolveEmojiDataConfig({}), { dataRoot: defaultDataRoot() });
  const data = EmojiT2I.open(dir);
  const config = resolveEmojiPickConfig({ pairs: { train: 3000, validation: 150 } });
  const plan = planPairs(data, config);
  const all = [...plan.train, ...plan.validation];
  assert.equal(plan.train.length, 3000);
  assert.equal(plan.validation.length, 150);
  assert.equal(new Set(all.map((p) => p.caption)).size, all.length, 'every prompt string once');
  assert.deepEqual(
    all.filter((p) => data.reservedCaptions.has(p.caption)),
    [],
  );
  // Every image's setting comes from the config; both generators are drawn about equally.
  const draws = all.flatMap((p) => p.draws);
  assert.ok(draws.every((d) => config.settings.steps.includes(d.steps) && config.settings.guidance.includes(d.guidance)));
  const shares = config.generators.map((_, g) => draws.filter((d) => d.generator === g).length / draws.length);
  assert.ok(
    shares.every((s) => Math.abs(s - 1 / 3) < 0.03),
    `generator shares ${shares}`,
  );
  // The same seed plans the same pairs.
  assert.deepEqual(planPairs(data, config).validation, plan.validation);
});

test('a build stopped after two shards resumes to the bytes of an uninterrupted one, refuses another config, and reads back as pairs', async () => {
  const { data, root, annotator, base } = await setup();
  const config = resolveEmojiPickConfig({
    pairs: { train: 5, validation: 2 },
    generators: [
      { name: 'one', model: base },
      { name: 'two', model: base },
    ],
    settings: { steps: [2, 3], guidance: [1, 2] },
    annotator,
    tieMargin: 0.5,
    shardPairs: 2,
  });
  const opts = { workers: 1, backend: 'wasm' as const, quiet: true };
  const resumed = join(root, 'resumed');
  const partial = await buildEmojiPick(data, config, resumed, { ...opts, stopAfterShards: 2 });
  assert.equal(partial.complete, false);
  assert.equal(partial.shards.length, 2);
  const finished = await buildEmojiPick(data, config, resumed, opts);
  assert.equal(finished.complete, true);
  assert.deepEqual(
    finished.shards.map((s) => s.file),
    [...shardFiles('train', 5, 2), ...shardFiles('validation', 2, 2)],
  );
  assert.equal(finished.shards[0]?.file, join('train', 'train-00000-of-00003.parquet'));
  const straight = join(root, 'straight');
  await buildEmojiPick(data, config, straight, opts);
  for (const file of finished.shards.map((s) => s.file)) assert.ok(readFileSync(join(resumed, file)).equals(readFileSync(join(straight, file))), `${file} is byte-identical`);

  // A shard lost from a finished build is redrawn, the same bytes, and the build is complete again.
  const lost = finished.shards[1]?.file as string;
  const bytes = readFileSync(join(resumed, lost));
  rmSync(join(resumed, lost));
  const redrawn = await buildEmojiPick(data, config, resumed, opts);
  assert.equal(redrawn.complete, true);
  assert.ok(readFileSync(join(resumed, lost)).equals(bytes));

  await assert.rejects(buildEmojiPick(data, { ...config, tieMargin: 2 }, resumed, opts), /build\.json: built with a different config; pass --force/);

  // The rows: labels from the annotator, names and settings of the draws, a tie exactly when recorded.
  const rows = (await Promise.all(finished.shards.filter((s) => s.split === 'train').map((s) => readPickShardRows(join(resumed, s.file), 10)))).flat();
  assert.equal(rows.length, 5);
  const plan = planPairs(data, config).train;
  rows.forEach((r, i) => {
    assert.equal(r.caption, plan[i]?.caption);
    assert.equal(r.label_0 + r.label_1, 1);
    assert.match(r.image_0_url, new RegExp(`^selfdpo://${r.model_0}\\?steps=${plan[i]?.draws[0].steps}&guidance=${plan[i]?.draws[0].guidance}&seed=${plan[i]?.draws[0].seed}$`));
    assert.equal(r.best_image_uid, r.label_0 === 0 ? r.image_1_uid : r.image_0_uid);
  });
  const ties = finished.shards.filter((s) => s.split === 'train').reduce((n, s) => n + s.ties, 0);
  assert.equal(rows.filter((r) => r.label_0 === 0.5).length, ties);
  const read = await readPickPairs(join(resumed, 'train'));
  assert.equal(read.rows, 5);
  assert.equal(read.pairs.length, 5 - ties);

  await writeEmojiPickCard(resumed, finished, { strength: [], judges: { contrastive: 'c'.repeat(64), realism: 'r'.repeat(64) } }, 32);
  const card = readFileSync(join(resumed, 'README.md'), 'utf8');
  assert.match(card, /\| train \| 5 \| 3 \|/);
  assert.match(card, /\| validation \| 2 \| 1 \|/);
  assert.ok(existsSync(join(resumed, 'pairs.png')));
  assert.deepEqual(readdirSync(join(resumed, 'validation')), ['validation-00000-of-00001.parquet']);
});

test('the config names the key it refuses: an unknown sampler, an empty step list, a lone generator', () => {
  assert.equal(resolveEmojiPickConfig({}).settings.sampler, 'dpm++2m');
  assert.throws(() => resolveEmojiPickConfig({ settings: { sampler: 'euler' } }, 'pick.json'), /pick\.json: settings\.sampler: must be one of ddim, ddpm, dpm\+\+2m, not "euler"$/);
  assert.throws(() => resolveEmojiPickConfig({ settings: { steps: [] } }, 'pick.json'), /settings\.steps/);
  assert.throws(() => resolveEmojiPickConfig({ generators: [{ name: 'a', model: 'x' }] }, 'pick.json'), /generators/);
  assert.equal(resolveEmojiPickConfig({ settings: { sampler: 'ddim', steps: [10, 15, 25] } }).settings.sampler, 'ddim');
});
