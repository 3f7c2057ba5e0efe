import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { writePickShard, type PickRow } from '../data/pickapic.js';
import type { PickBuildFile, PickBuildShard, PickSplit } from '../data/pickBuild.js';
import { encodePickJpeg } from '../data/pickJpeg.js';
import { loadModel, type LoadedModel } from '../model/modelFile.js';
import type { SamplerName } from '../model/generate.js';
import { ModelPool } from '../parallel/modelPool.js';
import type { BackendName } from '../backend.js';
import { alignScorer } from '../eval/alignScorer.js';
import { loadContrastiveJudge } from '../eval/judgeFile.js';
import { Progress } from '../runs/progress.js';
import { RUN_LOCK, withRunLock } from '../runs/runLock.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { groupBy } from '../util/groupBy.js';
import { sha256 } from '../util/sha256.js';
import type { EmojiPickConfig, PickGenerator } from './pickConfig.js';
import { planPairs, type PlannedPair } from './pickPlan.js';

/** build.json: the config, what it was built from, and every finished shard with its cost (readers see it as `PickBuildFile`). */
export interface PickBuildRecord extends PickBuildFile {
  config: EmojiPickConfig;
  /** Weight hashes of the generators and the annotator: a rebuild from other weights is another dataset. */
  inputs: { generators: Record<string, string>; annotator: string; emojiT2I: string };
  shards: PickShardRecord[];
}

export interface PickShardRecord extends PickBuildShard {
  /** Pairs whose image 0 won (the rest of the untied ones: image 1). */
  zeroWins: number;
  /** Images drawn by each generator, and how many of its images won, lost or tied. */
  byGenerator: Record<string, { images: number; won: number; lost: number; tied: number }>;
}

interface PickBuildOptions {
  workers: number;
  backend: BackendName;
  /** Start over (deletes `outDir`) instead of resuming or refusing a different config. */
  force?: boolean;
  command?: string;
  /** Stop after this many new shards (tests simulate a kill with it). */
  stopAfterShards?: number;
  quiet?: boolean;
}

/** A split's shard files, Pick-a-Pic's naming: `<split>/<split>-00003-of-00012.parquet`. */
export function shardFiles(split: PickSplit, pairs: number, shardPairs: number): string[] {
  const n = Math.ceil(pairs / shardPairs);
  const pad = (k: number): string => String(k).padStart(5, '0');
  return Array.from({ length: n }, (_, k) => join(split, `${split}-${pad(k)}-of-${pad(n)}.parquet`));
}

/**
 * Build Emoji-Pick into `outDir` (docs/PROTOCOL.md "Emoji-Pick"): for every planned pair draw its
 * two images with their generators and settings, let the annotator judge's Align rank them
 * (a tie within `tieMargin`), and write the pairs as Parquet shards in Pick-a-Pic v2's schema.
 * Resumable: each shard is written atomically and recorded in build.json, and a rerun with the
 * same config and inputs continues after the last one; the bytes depend only on the config and
 * the weights, so a rebuild is byte-identical.
 */
export function buildEmojiPick(data: EmojiT2I, config: EmojiPickConfig, outDir: string, opts: PickBuildOptions): Promise<PickBuildRecord> {
  mkdirSync(outDir, { recursive: true });
  return withRunLock(outDir, () => {
    // Under the lock, so a --force never deletes a build another process is writing.
    if (opts.force) for (const name of readdirSync(outDir)) if (name !== RUN_LOCK) rmSync(join(outDir, name), { recursive: true, force: true });
    return buildLocked(data, config, outDir, opts);
  });
}

async function buildLocked(data: EmojiT2I, config: EmojiPickConfig, outDir: string, opts: PickBuildOptions): Promise<PickBuildRecord> {
  const log = (m: string): void => {
    if (!opts.quiet) process.stderr.write(`${m}\n`);
  };
  const generators: Array<PickGenerator & { loaded: LoadedModel }> = [];
  const pools: Array<ModelPool | undefined> = config.generators.map(() => undefined);
  let annotator: ReturnType<typeof loadContrastiveJudge> | undefined;
  try {
    for (const g of config.generators) {
      try {
        generators.push({ ...g, loaded: loadModel(g.model) });
      } catch (err) {
        throw new Error(
          `generator ${g.name}: ${(err as Error).message}. The default pool needs data/weak (npm run pretrain -- --preset weak, then npm run ship) and data/base-l; --generators names another pool`,
        );
      }
    }
    annotator = loadContrastiveJudge(config.annotator);
    const inputs = {
      generators: Object.fromEntries(generators.map((g) => [g.name, g.loaded.file.weightsManifest.sha256])),
      annotator: annotator.file.weightsManifest.sha256,
      // The whole manifest: its concepts and captions decide the plan, its shards the pixels.
      emojiT2I: sha256(JSON.stringify(data.manifest)),
    };
    const record = openBuild(outDir, config, inputs, opts.command);
    if (record.complete) {
      log(`emoji-pick: ${outDir} is complete`);
      return record;
    }
    const resolution = data.resolution;
    for (const g of generators) {
      if (g.loaded.model.config.resolution !== resolution) throw new Error(`${g.model}: draws ${g.loaded.model.config.resolution}px, Emoji-T2I is ${resolution}px`);
    }
    const plan = planPairs(data, config);
    const score = alignScorer(annotator.judge);
    const jobs = (['train', 'validation'] as const).flatMap((split) => shardFiles(split, plan[split].length, config.shardPairs).map((file, k) => ({ split, file, k })));
    const done = new Set(record.shards.map((s) => s.file));
    const progress = new Progress('emoji-pick', jobs.length, done.size);
    let made = 0;
    for (const { split, file, k } of jobs) {
      if (done.has(file)) continue;
      if (opts.stopAfterShards !== undefined && made >= opts.stopAfterShards) break;
      const pairs = plan[split].slice(k * config.shardPairs, (k + 1) * config.shardPairs);
      const firstIndex = k * config.shardPairs;
      const t0 = Date.now();
      const images = await drawImages(pairs, config.settings.sampler, generators, pools, opts);
      const t1 = Date.now();
      const captions = pairs.flatMap((p) => [p.caption, p.caption]);
      const scores = await score(images, captions, resolution);
      const t2 = Date.now();
      const rows = await pickRows(pairs, images, scores, firstIndex, config, resolution);
      mkdirSync(join(outDir, split), { recursive: true });
      writePickShard(join(outDir, file), rows);
      const shard: PickShardRecord = { split, file, ...labelCounts(rows, config), seconds: { sampling: (t1 - t0) / 1000, scoring: (t2 - t1) / 1000, writing: (Date.now() - t2) / 1000 } };
      record.shards.push(shard);
      writeBuildRecord(outDir, record);
      made += 1;
      progress.report(record.shards.length, {
        shard: file,
        pairs: String(shard.pairs),
        ties: `${((100 * shard.ties) / shard.pairs).toFixed(1)}%`,
        sec: (shard.seconds.sampling + shard.seconds.scoring + shard.seconds.writing).toFixed(0),
      });
    }
    progress.end();
    record.complete = record.shards.length === jobs.length;
    writeBuildRecord(outDir, record);
    return record;
  } finally {
    for (const pool of pools) await pool?.stop();
    for (const g of generators) g.loaded.model.params.dispose();
    annotator?.judge.params.dispose();
  }
}

/** build.json of a new build, or of the build to resume: the same config and inputs, else an error asking for --force. */
function openBuild(outDir: string, config: EmojiPickConfig, inputs: PickBuildRecord['inputs'], command: string | undefined): PickBuildRecord {
  const file = join(outDir, 'build.json');
  const commands = command ? [command] : [];
  if (!existsSync(file)) {
    const record: PickBuildRecord = { format: 'emoji-pick/1', config, inputs, shards: [], complete: false, commands };
    writeBuildRecord(outDir, record);
    return record;
  }
  const saved = readJsonFile(file, 'Emoji-Pick build record') as PickBuildRecord;
  if (JSON.stringify(saved.config) !== JSON.stringify(config)) throw new Error(`${file}: built with a different config; pass --force to start over`);
  if (JSON.stringify(saved.inputs) !== JSON.stringify(inputs)) {
    throw new Error(`${file}: built from other generator, annotator or Emoji-T2I bytes (${JSON.stringify(saved.inputs)}, now ${JSON.stringify(inputs)}); pass --force to start over`);
  }
  // A shard the record names but the disk lacks is redrawn.
  const shards = saved.shards.filter((s) => existsSync(join(outDir, s.file)));
  return { ...saved, shards, complete: saved.complete && shards.length === saved.shards.length, commands: [...saved.commands, ...commands] };
}

function writeBuildRecord(outDir: string, record: PickBuildRecord): void {
  writeFileAtomic(join(outDir, 'build.json'), `${JSON.stringify(record, null, 1)}\n`);
}

/**
 * The shard's images, two per pair in order: grouped by (generator, steps, guidance) so each
 * group is one batched call on that generator's pool. An image depends only on its caption,
 * seed and setting, so grouping changes nothing but speed.
 */
async function drawImages(
  pairs: readonly PlannedPair[],
  sampler: SamplerName,
  generators: ReadonlyArray<{ name: string; loaded: LoadedModel }>,
  pools: Array<ModelPool | undefined>,
  opts: PickBuildOptions,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array<Uint8Array>(pairs.length * 2);
  const draw = (slot: number): PlannedPair['draws'][0] => (pairs[Math.floor(slot / 2)] as PlannedPair).draws[slot % 2] as PlannedPair['draws'][0];
  const groups = groupBy(
    Array.from({ length: pairs.length * 2 }, (_, slot) => slot),
    (slot) => `${draw(slot).generator}|${draw(slot).steps}|${draw(slot).guidance}`,
  );
  let drawn = 0;
  let told = 0;
  for (const [key, slots] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [g, steps, guidance] = key.split('|').map(Number) as [number, number, number];
    // A shard takes minutes: say how far it is, about every 200 images.
    const tell = (done: number): void => {
      if (opts.quiet || drawn + done < told + 200) return;
      told = drawn + done;
      process.stderr.write(`emoji-pick: drew ${told}/${out.length} images of this shard\n`);
    };
    const { model, schedule } = (generators[g] as { loaded: LoadedModel }).loaded;
    pools[g] ??= await ModelPool.start(model, schedule, model.params.names, opts.workers, opts.backend);
    const images = await (pools[g] as ModelPool).sample(
      model,
      schedule,
      slots.map((s) => (pairs[Math.floor(s / 2)] as PlannedPair).caption),
      slots.map((s) => draw(s).seed),
      { sampler, steps, guidance },
      undefined,
      tell,
    );
    drawn += slots.length;
    slots.forEach((s, i) => (out[s] = images[i] as Uint8Array));
  }
  return out;
}

/** Fixed creation times (2026-01-01 plus one second per pair): a rebuild must not depend on the clock. */
const CREATED_AT_EPOCH_NS = 1_767_225_600n * 1_000_000_000n;

/** The shard's rows: labels from the annotator's scores (a tie within the margin), images as JPEG. */
async function pickRows(pairs: readonly PlannedPair[], images: readonly Uint8Array[], scores: readonly number[], firstIndex: number, config: EmojiPickConfig, R: number): Promise<PickRow[]> {
  const jpeg = (rgb: Uint8Array): Promise<Uint8Array> => encodePickJpeg(rgb, R, config.jpegQuality);
  const rows: PickRow[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i] as PlannedPair;
    const [a, b] = p.draws;
    const diff = (scores[2 * i] as number) - (scores[2 * i + 1] as number);
    if (!Number.isFinite(diff)) throw new Error(`emoji-pick: the annotator scored pair ${firstIndex + i} ("${p.caption}") ${scores[2 * i]} and ${scores[2 * i + 1]}`);
    const label0 = Math.abs(diff) <= config.tieMargin ? 0.5 : diff > 0 ? 1 : 0;
    const url = (d: PlannedPair['draws'][0]): string => `selfdpo://${config.generators[d.generator]?.name}?steps=${d.steps}&guidance=${d.guidance}&seed=${d.seed}`;
    const index = firstIndex + i;
    rows.push({
      are_different: true,
      best_image_uid: label0 === 0 ? b.uid : a.uid,
      caption: p.caption,
      created_at: CREATED_AT_EPOCH_NS + BigInt(index) * 1_000_000_000n,
      has_label: true,
      image_0_uid: a.uid,
      image_0_url: url(a),
      image_1_uid: b.uid,
      image_1_url: url(b),
      jpg_0: await jpeg(images[2 * i] as Uint8Array),
      jpg_1: await jpeg(images[2 * i + 1] as Uint8Array),
      label_0: label0,
      label_1: 1 - label0,
      model_0: config.generators[a.generator]?.name as string,
      model_1: config.generators[b.generator]?.name as string,
      ranking_id: BigInt(index),
      user_id: 0n,
      num_example_per_prompt: 1n,
      __index_level_0__: BigInt(index),
    });
  }
  return rows;
}

/** A shard's label statistics, overall and per generator. */
function labelCounts(rows: readonly PickRow[], config: EmojiPickConfig): Omit<PickShardRecord, 'split' | 'file' | 'seconds'> {
  const byGenerator: PickShardRecord['byGenerator'] = Object.fromEntries(config.generators.map((g) => [g.name, { images: 0, won: 0, lost: 0, tied: 0 }]));
  let ties = 0;
  let zeroWins = 0;
  for (const r of rows) {
    if (r.label_0 === 0.5) ties += 1;
    if (r.label_0 === 1) zeroWins += 1;
    for (const [model, label] of [
      [r.model_0, r.label_0],
      [r.model_1, r.label_1],
    ] as const) {
      const g = byGenerator[model] as PickShardRecord['byGenerator'][string];
      g.images += 1;
      if (label === 0.5) g.tied += 1;
      else if (label === 1) g.won += 1;
      else g.lost += 1;
    }
  }
  return { pairs: rows.length, ties, zeroWins, byGenerator };
}
