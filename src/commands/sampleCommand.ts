import { existsSync, readFileSync } from 'node:fs';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { DEFAULT_SAMPLING, isSamplerName, SAMPLERS, samplingLabel, type GenerateOptions } from '../model/generate.js';
import { defaultWorkerCount } from '../parallel/modelPool.js';
import { withModel } from '../parallel/withModel.js';
import { renderSampleGrid } from '../report/sampleGrid.js';
import { numberFlag, parseArgs, UsageError } from '../util/args.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { modelDirFlag } from './modelFlag.js';

/** Where the shipped base-S checkpoint lives. */
export const SHIPPED_BASE_S = 'data/base-s';

/** Prompts from --prompt (one) or --prompts FILE (one per line; blank lines and # comments skipped). */
function readPrompts(prompt: string | undefined, file: string | undefined): string[] {
  if (prompt !== undefined && file !== undefined) throw new Error('give --prompt or --prompts, not both');
  if (prompt !== undefined) return [prompt];
  if (file === undefined) throw new Error('give --prompt "text" or --prompts FILE');
  if (!existsSync(file)) throw new Error(`${file}: not found`);
  const prompts = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (prompts.length === 0) throw new Error(`${file}: no prompts in it`);
  return prompts;
}

/** --workers: threads to split work over (default: one per core on the CPU backends). */
export function workersFlag(args: ReturnType<typeof parseArgs>, tfBackend: string): number {
  const workers = numberFlag(args, 'workers', defaultWorkerCount(tfBackend));
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new UsageError(`--workers: expected an integer in [1, 64], got ${workers}`);
  return workers;
}

/** Sampling flags of every command that draws images; unset ones take DEFAULT_SAMPLING's. */
export function generateOptions(args: ReturnType<typeof parseArgs>): GenerateOptions {
  const sampler = (args.flags['sampler'] as string | undefined) ?? DEFAULT_SAMPLING.sampler;
  if (!isSamplerName(sampler)) throw new UsageError(`--sampler: expected ${SAMPLERS.join(', ')}, got "${sampler}"`);
  const steps = numberFlag(args, 'steps', DEFAULT_SAMPLING.steps);
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= 1000)) throw new UsageError(`--steps: expected an integer in [1, 1000], got ${steps}`);
  const guidance = numberFlag(args, 'guidance', DEFAULT_SAMPLING.guidance);
  if (guidance < 0) throw new UsageError(`--guidance: expected >= 0, got ${guidance}`);
  return { sampler, steps, guidance, eta: numberFlag(args, 'eta', 0) };
}

export async function sampleCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, {
    boolean: ['force'],
    string: ['model', 'base', 'prompt', 'prompts', 'seed', 'seeds', 'steps', 'guidance', 'sampler', 'eta', 'out', 'backend', 'workers'],
  });
  const prompts = readPrompts(args.flags['prompt'] as string | undefined, args.flags['prompts'] as string | undefined);
  const first = numberFlag(args, 'seed', 0);
  const count = numberFlag(args, 'seeds', 1);
  if (!(Number.isInteger(first) && first >= 0)) throw new UsageError(`--seed: expected a non-negative integer, got ${first}`);
  if (!(Number.isInteger(count) && count >= 1 && count <= 64)) throw new UsageError(`--seeds: expected an integer in [1, 64], got ${count}`);
  const opts = generateOptions(args);
  const out = (args.flags['out'] as string | undefined) ?? 'samples.png';
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
}
