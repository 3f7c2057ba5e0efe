import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { curatedValPrompts } from '../eval/curatedVal.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { renderSampleGrid } from '../report/sampleGrid.js';
import { parseArgs } from '../util/args.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { generateOptions, SHIPPED_BASE_S, workersFlag } from './sampleCommand.js';

/**
 * The main job on the embedded default. At this stage of the kit: pick the backend, build
 * Emoji-T2I when missing, load the shipped base-S and draw 8 curated-val prompts x 4 seeds.
 */
export async function startCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force'], string: ['backend', 'data-root', 'data-config', 'model', 'out', 'steps', 'guidance', 'sampler', 'eta', 'workers'] });
  const out = (args.flags['out'] as string | undefined) ?? join('results', 'start', 'samples.png');
  if (existsSync(out) && args.flags['force'] !== true) throw new Error(`${out} exists from an earlier run; pass --force to replace it (npm start -- --force), or --out another file`);
  const opts = generateOptions(args);
  const started = Date.now();
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const workers = workersFlag(args, backend.tfBackend);
  const data = await openEmojiFromFlags(args);
  console.log(`Emoji-T2I: ${data.manifest.concepts.length} concepts, ${data.view('curated').size} curated images in ${data.dir}`);
  const { model, schedule, file, dir: modelDir } = loadModel((args.flags['model'] as string | undefined) ?? SHIPPED_BASE_S);
  const counts = model.parameterCounts();
  console.log(`model: ${modelDir} (${((counts.unet + counts.text) / 1e6).toFixed(2)}M parameters, trained ${String(file.about['step'] ?? '?')} steps)`);
  const pool = await startPool(model, schedule, workers);
  const prompts = curatedValPrompts(data).slice(0, 8);
  const seeds = [0, 1, 2, 3];
  const png = await renderSampleGrid(
    model,
    schedule,
    prompts.map((p) => p.prompt),
    seeds,
    {
      ...opts,
      title: `${modelDir}: 8 curated-val prompts x 4 seeds, DDIM ${opts.steps} steps, guidance ${opts.guidance}`,
      pool,
      onImages: (done, total) => console.error(`sampled ${done}/${total} images`),
    },
  );
  await pool?.stop();
  writeFileAtomic(out, png);
  model.params.dispose();
  console.log(`wrote ${out} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
