import type { SampleGridOptions } from './sampleGrid.js';
import { sampleImages } from './sampleGrid.js';
import { renderImageSheet } from './imageSheet.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';

/** A model to draw from, under its column label. */
export interface GridModel {
  label: string;
  /** Draws `prompts` x `seeds` (result[p][s]); e.g. sampleImages with the model's own pool. */
  draw: (prompts: readonly string[], seeds: readonly number[]) => Promise<Uint8Array[][]>;
}

/** `draw` for a loaded model (optionally over a pool started for it). */
export function drawWith(model: TextToImageModel, schedule: NoiseSchedule, opts: SampleGridOptions): GridModel['draw'] {
  return (prompts, seeds) => sampleImages(model, schedule, prompts, seeds, opts);
}

/**
 * The paper's Figs. 3/4: one row per prompt, one column per (model, seed), every model drawing
 * from the same seeds, so the columns differ only by the weights.
 */
export async function renderMethodGrid(models: readonly GridModel[], prompts: readonly string[], seeds: readonly number[], resolution: number, title: string): Promise<Buffer> {
  const perModel: Uint8Array[][][] = [];
  for (const m of models) perModel.push(await m.draw(prompts, seeds));
  return renderImageSheet({
    resolution,
    title,
    rowLabels: prompts,
    columnLabels: models.flatMap((m) => seeds.map((s) => `${m.label} s${s}`)),
    cells: prompts.map((_, p) => perModel.flatMap((images) => images[p] as Uint8Array[])),
    labelWidth: 330,
  });
}
