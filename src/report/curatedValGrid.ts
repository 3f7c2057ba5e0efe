import type { EmojiT2I } from '../data/emojiDataset.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { curatedValPrompts } from '../data/evalPrompts.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { ModelPool } from '../parallel/modelPool.js';
import { renderImageSheet } from './imageSheet.js';
import { sampleImages } from './sampleGrid.js';

/** A model's look at a glance: the first 8 curated-val prompts x seeds 0-3, DDIM 25 steps, guidance 3. */
const CURATED_VAL_GRID = { prompts: 8, seeds: [0, 1, 2, 3], steps: 25, guidance: 3 } as const;

/** What the grid shows, for titles and READMEs. */
export const CURATED_VAL_GRID_TEXT = `${CURATED_VAL_GRID.prompts} curated-val prompts x ${CURATED_VAL_GRID.seeds.length} seeds, DDIM ${CURATED_VAL_GRID.steps} steps, guidance ${CURATED_VAL_GRID.guidance}`;

/** The grid's images: images[p][s] is prompts[p] drawn from seed s. */
interface CuratedValGridImages {
  prompts: string[];
  images: Uint8Array[][];
}

type GridOptions = { pool?: ModelPool; onImages?: (done: number, total: number) => void };

/** Draws the curated-val grid; every model given the same data draws the same prompts from the same seeds. */
export async function drawCuratedValGrid(model: TextToImageModel, schedule: NoiseSchedule, data: EmojiT2I, opts: GridOptions = {}): Promise<CuratedValGridImages> {
  const prompts = curatedValPrompts(data)
    .slice(0, CURATED_VAL_GRID.prompts)
    .map((p) => p.prompt);
  const images = await sampleImages(model, schedule, prompts, CURATED_VAL_GRID.seeds, { steps: CURATED_VAL_GRID.steps, guidance: CURATED_VAL_GRID.guidance, ...opts });
  return { prompts, images };
}

/**
 * One sheet of drawn grids side by side, each model's seeds in adjacent columns under its label
 * (one model: the columns are just the seeds).
 */
export function curatedValSheet(grids: ReadonlyArray<{ label: string; grid: CuratedValGridImages }>, resolution: number, title: string): Promise<Buffer> {
  const first = grids[0];
  if (!first) throw new Error('curatedValSheet: no grids');
  const seedLabel = (label: string, s: number): string => (grids.length === 1 ? `seed ${s}` : `${label} s${s}`);
  return renderImageSheet({
    resolution,
    title,
    rowLabels: first.grid.prompts,
    columnLabels: grids.flatMap((g) => CURATED_VAL_GRID.seeds.map((s) => seedLabel(g.label, s))),
    cells: first.grid.prompts.map((_, p) => grids.flatMap((g) => g.grid.images[p] as Uint8Array[])),
    labelWidth: 330,
  });
}

/**
 * The curated-val sample grid (PNG) of `results/base-s/samples.png`, drawn by `npm run ship`
 * and first thing by `npm start`; the same weights give the same images in both.
 */
export async function renderCuratedValGrid(model: TextToImageModel, schedule: NoiseSchedule, data: EmojiT2I, opts: GridOptions & { title: string }): Promise<Buffer> {
  const grid = await drawCuratedValGrid(model, schedule, data, opts);
  return curatedValSheet([{ label: '', grid }], model.config.resolution, opts.title);
}
