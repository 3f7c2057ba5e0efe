import { existsSync, readFileSync } from 'node:fs';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { samplingLabel } from '../model/generate.js';
import { withModel } from '../parallel/withModel.js';
import { renderSampleGrid } from '../report/sampleGrid.js';
import { numberFlag, stringFlag, UsageError } from '../util/args.js';
import { defineCommand } from './command.js';
import { BACKEND, BASE, FORCE, generateOptions, MODEL, SAMPLING_FLAGS, SEED, WORKERS, workersFlag } from './commonFlags.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { modelDirFlag } from './modelFlag.js';

/** Where the shipped base-S checkpoint lives. */
export const SHIPPED_BASE_S = 'data/base-s';

/** Prompts from --prompt (one) or --prompt-file FILE (one per line; blank lines and # comments skipped). */
function readPrompts(prompt: string | undefined, file: string | undefined): string[] {
  if (prompt !== undefined && file !== undefined) throw new UsageError('give --prompt or --prompt-file, not both');
  if (prompt !== undefined) return [prompt];
  if (file === undefined) throw new UsageError('give --prompt "text" or --prompt-file FILE');
  if (!existsSync(file)) throw new Error(`${file}: not found`);
  const prompts = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (prompts.length === 0) throw new Error(`${file}: no prompts in it`);
  return prompts;
}

export const sampleCommand = defineCommand({
  name: 'sample',
  summary: 'draw a grid of samples from a model: prompts in rows, seeds in columns',
  details: 'example: npx selfdpo sample --base data/base-s --prompt "red heart" --seeds 4 --out heart.png',
  flags: [
    { name: 'prompt', value: 'TEXT', help: 'one prompt' },
    { name: 'prompt-file', value: 'FILE', help: 'prompts, one per line (blank lines and # comments skipped)' },
    MODEL,
    BASE,
    { ...SEED, default: '0', help: 'the first seed' },
    { name: 'seeds', value: 'COUNT', default: '1', help: 'seeds per prompt (columns), from --seed on' },
    ...SAMPLING_FLAGS,
    { name: 'out', value: 'PNG', default: 'samples.png', help: 'the grid' },
    FORCE,
    WORKERS,
    BACKEND,
  ],
  async run(args, argv) {
    const prompts = readPrompts(stringFlag(args, 'prompt'), stringFlag(args, 'prompt-file'));
    const first = numberFlag(args, 'seed', 0);
    const count = numberFlag(args, 'seeds', 1);
    if (!(Number.isInteger(first) && first >= 0)) throw new UsageError(`--seed: expected a non-negative integer, got ${first}`);
    if (!(Number.isInteger(count) && count >= 1 && count <= 64)) throw new UsageError(`--seeds: expected an integer in [1, 64], got ${count}`);
    const opts = generateOptions(args);
    const out = stringFlag(args, 'out') as string;
    if (existsSync(out) && args.flags['force'] !== true) throw new Error(`${out} exists; pass --force to replace it, or --out another file`);
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const workers = workersFlag(args, backend.tfBackend);
    const seeds = Array.from({ length: count }, (_, i) => first + i);
    const started = Date.now();
    // withModel stops the pool and frees the weights even when drawing fails.
    const png = await withModel(modelDirFlag(args, SHIPPED_BASE_S) as string, workers, ({ model, schedule, dir }, pool) =>
      renderSampleGrid(model, schedule, prompts, seeds, {
        ...opts,
        title: `${dir}: ${samplingLabel(opts)}`,
        pool,
        onImages: (done, total) => process.stderr.write(`sampled ${done}/${total} images\n`),
      }),
    );
    writeFileAtomic(out, png);
    console.log(`wrote ${out} (${prompts.length} prompt(s) x ${count} seed(s), ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  },
});
