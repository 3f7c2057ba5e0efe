import type { GenerateOptions } from '../model/generate.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { ModelPool } from '../parallel/modelPool.js';
import { SAMPLE_CHUNK, sampleBytes } from '../parallel/sampleBytes.js';
import { renderImageSheet } from './imageSheet.js';

export interface SampleGridOptions extends Omit<GenerateOptions, 'onStep'> {
  title?: string;
  /** Images per generation batch (memory bound, not a result: images depend only on their seed). */
  chunk?: number;
  /** Split the images over this pool's threads (a pool started for the same model). */
  pool?: ModelPool;
  /** Called as images are finished, with images done and total. */
  onImages?: (done: number, total: number) => void;
}

/** Images for every (prompt, seed): result[p][s] is prompt p drawn from seeds[s], RGB bytes. */
export async function sampleImages(model: TextToImageModel, schedule: NoiseSchedule, prompts: readonly string[], seeds: readonly number[], opts: SampleGridOptions = {}): Promise<Uint8Array[][]> {
  const captions = prompts.flatMap((p) => seeds.map(() => p));
  const allSeeds = prompts.flatMap(() => [...seeds]);
  const { title: _title, chunk = SAMPLE_CHUNK, pool, onImages, ...options } = opts;
  const flat = pool
    ? await pool.sample(model, schedule, captions, allSeeds, options, chunk, onImages)
    : await sampleBytes(model, schedule, { kind: 'sample', captions, seeds: allSeeds, options, chunk }, (d) => onImages?.(d, captions.length));
  return prompts.map((_, p) => flat.slice(p * seeds.length, (p + 1) * seeds.length));
}

/** A PNG grid: one row per prompt (its text beside the row), one column per seed. */
export async function renderSampleGrid(model: TextToImageModel, schedule: NoiseSchedule, prompts: readonly string[], seeds: readonly number[], opts: SampleGridOptions = {}): Promise<Buffer> {
  const cells = await sampleImages(model, schedule, prompts, seeds, opts);
  return renderImageSheet({
    resolution: model.config.resolution,
    title: opts.title,
    rowLabels: prompts,
    columnLabels: seeds.map((s) => `seed ${s}`),
    cells,
    labelWidth: 330,
  });
}
