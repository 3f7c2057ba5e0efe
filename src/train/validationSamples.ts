import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImageTextSet } from '../data/imageTextSet.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { DEFAULT_SAMPLING } from '../model/generate.js';
import type { TextToImageModel } from '../model/textToImage.js';
import { SAMPLE_CHUNK, sampleBytes } from '../parallel/sampleBytes.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { Rng } from '../util/rng.js';

/**
 * Validation samples during training, as diffusers' training scripts draw them: the same few
 * held-out captions and seeds at every sampled checkpoint, so that a run's pictures can be
 * watched changing (docs/DESIGN.md, convention 7). Drawn on the main thread from the weights
 * being checkpointed, with their own seeds: they never touch the training's random draws.
 */

/** The seeds of every prompt (columns). */
export const VALIDATION_SEEDS = [0, 1] as const;
/** Each image's pixels are drawn this many times larger, so that a 32px sample can be read. */
const SCALE = 3;

/** The folder of a run's samples, and the file of one step's. */
const SAMPLES_DIR = 'samples';
export const samplesFile = (runDir: string, step: number): string => join(runDir, SAMPLES_DIR, `step-${String(step).padStart(6, '0')}.png`);

/** The first `count` distinct captions of the held-out set (image i's caption drawn with Rng(i)): fixed for a run. */
export function validationPrompts(set: ImageTextSet, count = 4): string[] {
  const prompts: string[] = [];
  for (let i = 0; i < set.size && prompts.length < count; i++) {
    const caption = set.caption(i, new Rng(i));
    if (!prompts.includes(caption)) prompts.push(caption);
  }
  return prompts;
}

/**
 * Draw every prompt x seed and write them as one PNG (rows: prompts, in the order of
 * `prompts.json` beside it; columns: seeds), atomically. Returns the PNG's path.
 */
export async function writeValidationSamples(model: TextToImageModel, schedule: NoiseSchedule, prompts: readonly string[], runDir: string, step: number): Promise<string> {
  const seeds = prompts.flatMap(() => [...VALIDATION_SEEDS]);
  const captions = prompts.flatMap((p) => VALIDATION_SEEDS.map(() => p));
  const images = await sampleBytes(model, schedule, { kind: 'sample', captions, seeds, options: DEFAULT_SAMPLING, chunk: SAMPLE_CHUNK });
  const R = model.config.resolution;
  const cols = VALIDATION_SEEDS.length;
  const grid = new Uint8Array(prompts.length * R * cols * R * 3);
  images.forEach((img, k) => {
    const row = Math.floor(k / cols);
    const col = k % cols;
    for (let y = 0; y < R; y++) grid.set(img.subarray(y * R * 3, (y + 1) * R * 3), ((row * R + y) * cols * R + col * R) * 3);
  });
  const png = await sharp(grid, { raw: { width: cols * R, height: prompts.length * R, channels: 3 } })
    .resize(cols * R * SCALE, prompts.length * R * SCALE, { kernel: 'nearest' })
    .png()
    .toBuffer();
  mkdirSync(join(runDir, SAMPLES_DIR), { recursive: true });
  const promptsFile = join(runDir, SAMPLES_DIR, 'prompts.json');
  if (!existsSync(promptsFile)) writeFileAtomic(promptsFile, `${JSON.stringify({ prompts, seeds: VALIDATION_SEEDS, sampling: DEFAULT_SAMPLING, scale: SCALE }, null, 1)}\n`);
  const file = samplesFile(runDir, step);
  writeFileAtomic(file, png);
  return file;
}
