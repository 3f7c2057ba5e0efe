import { generate, toBytes, type Denoiser, type GenerateOptions } from '../diffusion/generate.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { renderImageSheet } from './imageSheet.js';

export interface SampleGridOptions extends GenerateOptions {
  title?: string;
  /** Images per generation batch (memory bound, not a result: images depend only on their seed). */
  chunk?: number;
  /** Called after each generated chunk with images done and total. */
  onImages?: (done: number, total: number) => void;
}

/** Images for every (prompt, seed): result[p][s] is prompt p drawn from seeds[s], RGB bytes. */
export async function sampleImages(model: Denoiser, schedule: NoiseSchedule, prompts: readonly string[], seeds: readonly number[], opts: SampleGridOptions = {}): Promise<Uint8Array[][]> {
  const jobs = prompts.flatMap((prompt, p) => seeds.map((seed, s) => ({ prompt, seed, p, s })));
  const out: Uint8Array[][] = prompts.map(() => new Array<Uint8Array>(seeds.length));
  const chunk = opts.chunk ?? 32;
  for (let start = 0; start < jobs.length; start += chunk) {
    const part = jobs.slice(start, start + chunk);
    const images = generate(
      model,
      schedule,
      part.map((j) => j.prompt),
      part.map((j) => j.seed),
      opts,
    );
    const bytes = await toBytes(images);
    images.dispose();
    part.forEach((j, k) => {
      (out[j.p] as Uint8Array[])[j.s] = bytes[k] as Uint8Array;
    });
    opts.onImages?.(Math.min(start + chunk, jobs.length), jobs.length);
  }
  return out;
}

/** A PNG grid: one row per prompt (its text beside the row), one column per seed. */
export async function renderSampleGrid(model: Denoiser, schedule: NoiseSchedule, prompts: readonly string[], seeds: readonly number[], opts: SampleGridOptions = {}): Promise<Buffer> {
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
