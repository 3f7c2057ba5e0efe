import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { GenerateOptions } from '../model/generate.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { ModelPool } from '../parallel/modelPool.js';
import { SAMPLE_CHUNK, sampleBytes } from '../parallel/sampleBytes.js';
import { writeDirAtomic } from '../util/atomicDir.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { deriveSeed } from '../util/rng.js';
import { formatPairRecords, PAIRS_FILE, type PreferencePairRecord } from '../data/preferencePairs.js';

/**
 * Scores images for their prompts, higher = preferred: the annotator judge of the evaluation
 * code, or any function (a test's, a user's). images[i] is RGB bytes at `resolution` for prompts[i].
 */
export type ImageScorer = (images: readonly Uint8Array[], prompts: readonly string[], resolution: number) => Promise<number[]> | number[];

export interface PairPrompt {
  prompt: string;
  concept?: string;
}

export interface PairBuildOptions {
  /** Seeds of prompt i's two images derive from (seed, i). */
  seed: number;
  /** How the base model draws (DDIM steps, guidance...). */
  sampling: Omit<GenerateOptions, 'onStep'>;
  /** The scorer's name, recorded in build.json. */
  scorerName: string;
  /** Split the drawing over this pool's threads (started for the same model). */
  pool?: ModelPool;
  /** Replace an existing pair directory. */
  force?: boolean;
  command?: string;
  onProgress?: (done: number, total: number) => void;
}

/** build.json: what the pairs cost to make (the paper's Table 1 "extra cost" of DPO). */
export interface PairBuildReport {
  prompts: number;
  pairs: number;
  /** Prompts whose two images scored the same: no preference, so no pair. */
  ties: number;
  seconds: { sampling: number; scoring: number; total: number };
  imagesPerSecond: number;
  scorer: string;
  seed: number;
  sampling: Omit<GenerateOptions, 'onStep'>;
  threads: number;
  machine: { cpus: number; model: string };
  command: string | null;
}

/**
 * Diffusion-DPO's preference data as docs/PROTOCOL.md maps Pick-a-Pic: for every prompt the base
 * model draws two images from different seeds, the scorer ranks them, and the higher-scored
 * one is the winner. Writes `outDir/pairs.jsonl`, the PNGs under `outDir/images/` and
 * `outDir/build.json` with the wall time of each phase, atomically (a crash leaves no
 * half-built set). This is the cost Self-DPO does without.
 */
export async function buildPreferencePairs(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  prompts: readonly PairPrompt[],
  scorer: ImageScorer,
  outDir: string,
  opts: PairBuildOptions,
): Promise<PairBuildReport> {
  if (prompts.length === 0) throw new Error('buildPreferencePairs: no prompts');
  if (existsSync(outDir) && !opts.force) throw new Error(`${outDir} exists; pass --force to rebuild the pairs`);
  const R = model.config.resolution;
  const started = Date.now();
  const captions = prompts.flatMap((p) => [p.prompt, p.prompt]);
  const seeds = prompts.flatMap((_, i) => [deriveSeed(opts.seed, 'pair', i, 0), deriveSeed(opts.seed, 'pair', i, 1)]);
  const images = opts.pool
    ? await opts.pool.sample(model, schedule, captions, seeds, opts.sampling, SAMPLE_CHUNK, opts.onProgress)
    : await sampleBytes(model, schedule, { kind: 'sample', captions, seeds, options: opts.sampling, chunk: SAMPLE_CHUNK }, (d) => opts.onProgress?.(d, captions.length));
  const sampled = Date.now();
  const scores = await scorer(images, captions, R);
  if (scores.length !== images.length || scores.some((s) => !Number.isFinite(s))) {
    throw new Error(`scorer ${opts.scorerName}: expected ${images.length} finite scores, got ${scores.length}`);
  }
  const scored = Date.now();

  const records: PreferencePairRecord[] = [];
  const files: Array<[string, Uint8Array]> = [];
  let ties = 0;
  prompts.forEach((p, i) => {
    const a = scores[2 * i] as number;
    const b = scores[2 * i + 1] as number;
    if (a === b) {
      ties += 1;
      return;
    }
    const [w, l] = a > b ? [2 * i, 2 * i + 1] : [2 * i + 1, 2 * i];
    const name = (k: number): string => `images/${String(i).padStart(5, '0')}-${k === 2 * i ? 'a' : 'b'}.png`;
    files.push([name(w), images[w] as Uint8Array], [name(l), images[l] as Uint8Array]);
    records.push({
      prompt: p.prompt,
      winner: name(w),
      loser: name(l),
      ...(p.concept !== undefined ? { concept: p.concept } : {}),
      winnerSeed: seeds[w] as number,
      loserSeed: seeds[l] as number,
      winnerScore: scores[w] as number,
      loserScore: scores[l] as number,
    });
  });
  if (records.length === 0) throw new Error(`scorer ${opts.scorerName}: every pair tied; no preference pairs`);
  const report: PairBuildReport = {
    prompts: prompts.length,
    pairs: records.length,
    ties,
    seconds: { sampling: (sampled - started) / 1000, scoring: (scored - sampled) / 1000, total: (scored - started) / 1000 },
    imagesPerSecond: images.length / ((sampled - started) / 1000),
    scorer: opts.scorerName,
    seed: opts.seed,
    sampling: opts.sampling,
    threads: opts.pool?.size ?? 1,
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown' },
    command: opts.command ?? null,
  };
  await writeDirAtomic(outDir, async (tmp) => {
    mkdirSync(join(tmp, 'images'));
    for (const [name, rgb] of files) {
      writeFileAtomic(
        join(tmp, name),
        await sharp(rgb, { raw: { width: R, height: R, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
    writeFileAtomic(join(tmp, PAIRS_FILE), formatPairRecords(records));
    writeFileAtomic(join(tmp, 'build.json'), `${JSON.stringify(report, null, 1)}\n`);
  });
  return report;
}
