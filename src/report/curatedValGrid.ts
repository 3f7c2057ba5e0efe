import type { EmojiT2I } from '../data/emojiDataset.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import { curatedValPrompts } from '../data/evalPrompts.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { ModelPool } from '../parallel/modelPool.js';
import { renderSampleGrid } from './sampleGrid.js';

/** A model's look at a glance: the first 8 curated-val prompts x seeds 0-3, DDIM 25 steps, guidance 3. */
const CURATED_VAL_GRID = { prompts: 8, seeds: [0, 1, 2, 3], steps: 25, guidance: 3 } as const;

/** What the grid shows, for titles and READMEs. */
export const CURATED_VAL_GRID_TEXT = `${CURATED_VAL_GRID.prompts} curated-val prompts x ${CURATED_VAL_GRID.seeds.length} seeds, DDIM ${CURATED_VAL_GRID.steps} steps, guidance ${CURATED_VAL_GRID.guidance}`;

/**
 * The curated-val sample grid (PNG) of `results/base-s/samples.png`, drawn by `npm run ship`
 * and first thing by `npm start`; the same weights give the same images in both.
 */
export async function renderCuratedValGrid(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  data: EmojiT2I,
  opts: { title: string; pool?: ModelPool; onImages?: (done: number, total: number) => void },
): Promise<Buffer> {
  const prompts = curatedValPrompts(data)
    .slice(0, CURATED_VAL_GRID.prompts)
    .map((p) => p.prompt);
  return renderSampleGrid(model, schedule, prompts, CURATED_VAL_GRID.seeds, { steps: CURATED_VAL_GRID.steps, guidance: CURATED_VAL_GRID.guidance, ...opts });
}
