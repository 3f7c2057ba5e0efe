import { BACKEND_NAMES } from '../backend.js';
import { DEFAULT_SAMPLING, isSamplerName, SAMPLERS, type GenerateOptions } from '../model/generate.js';
import { defaultWorkerCount } from '../parallel/modelPool.js';
import { numberFlag, UsageError, type Flag, type ParsedArgs } from '../util/args.js';

/**
 * Flags several commands share, defined once so that a name means one thing everywhere
 * (docs/DESIGN.md, the CLI): `--steps` counts training steps, `--sample-steps` sampler steps;
 * `--prompts` names a prompt set, `--prompt-file` a file of prompts.
 */

export const FORCE = { name: 'force', help: 'replace what an earlier run wrote (nothing is overwritten without it)' } as const satisfies Flag;
export const WORKERS = { name: 'workers', value: 'N', help: 'threads to split the work over (default: one per core on wasm/cpu; tfjs-node takes only 1)' } as const satisfies Flag;
export const BACKEND = { name: 'backend', value: 'NAME', help: `${BACKEND_NAMES.join('|')}|auto (default: the fastest that loads; or $SELFDPO_BACKEND)` } as const satisfies Flag;
export const SEED = { name: 'seed', value: 'N', help: 'the seed every random draw follows' } as const satisfies Flag;
export const JUDGES = { name: 'judges', value: 'DIR', default: 'data/judges', help: 'the judges folder' } as const satisfies Flag;
export const MODEL = { name: 'model', value: 'DIR', help: 'a model folder (model.json + weights)' } as const satisfies Flag;
export const BASE = { name: 'base', value: 'DIR', help: 'the base model folder (default: data/base-s); data/base-l for base-L' } as const satisfies Flag;
export const QUEUE = { name: 'queue', value: 'URL', help: 'redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS; or $SELFDPO_REDIS_* settings)' } as const satisfies Flag;
const CACHE = { name: 'cache', value: 'DIR', default: 'runs/eval-cache', help: 'where drawn images are kept for reuse' } as const satisfies Flag;

/** The flags of every command that reads Emoji-T2I. */
export const EMOJI_FLAGS = [
  { name: 'data-root', value: 'DIR', help: 'the folder that holds emoji-t2i/ (default: data, or $SELFDPO_DATA_ROOT)' },
  { name: 'data-config', value: 'FILE', help: 'a data config (JSON) over the default; the build must exist or is made' },
] as const satisfies readonly Flag[];

/** The flags of every command that draws images. */
export const SAMPLING_FLAGS = [
  { name: 'sampler', value: 'NAME', default: DEFAULT_SAMPLING.sampler, help: SAMPLERS.join('|') },
  { name: 'sample-steps', value: 'N', default: String(DEFAULT_SAMPLING.steps), help: "the sampler's denoising steps" },
  { name: 'guidance', value: 'X', default: String(DEFAULT_SAMPLING.guidance), help: 'classifier-free guidance scale' },
  { name: 'eta', value: 'X', default: '0', help: "DDIM's noise (0: deterministic; DDIM only)" },
] as const satisfies readonly Flag[];

/** The flags of every command that draws images and scores them with the judges (eval, compare, pick). */
export const EVALUATION_FLAGS = [JUDGES, CACHE, ...SAMPLING_FLAGS, FORCE, WORKERS, BACKEND, ...EMOJI_FLAGS] as const satisfies readonly Flag[];

/** The sampling flags' values, checked. */
export function generateOptions(args: ParsedArgs<(typeof SAMPLING_FLAGS)[number]['name']>): GenerateOptions {
  const sampler = (args.flags['sampler'] as string | undefined) ?? DEFAULT_SAMPLING.sampler;
  if (!isSamplerName(sampler)) throw new UsageError(`--sampler: expected ${SAMPLERS.join(', ')}, got "${sampler}"`);
  const steps = numberFlag(args, 'sample-steps', DEFAULT_SAMPLING.steps);
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= 1000)) throw new UsageError(`--sample-steps: expected an integer in [1, 1000], got ${steps}`);
  const guidance = numberFlag(args, 'guidance', DEFAULT_SAMPLING.guidance);
  if (guidance < 0) throw new UsageError(`--guidance: expected >= 0, got ${guidance}`);
  return { sampler, steps, guidance, eta: numberFlag(args, 'eta', 0) };
}

/**
 * --workers: threads to split work over (default: one per core on the CPU backends). tfjs-node
 * runs its own thread pool, and loading it in several worker threads is a known failure, so
 * more than one worker there is refused.
 */
export function workersFlag(args: ParsedArgs<'workers'>, tfBackend: string): number {
  const workers = numberFlag(args, 'workers', defaultWorkerCount(tfBackend));
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new UsageError(`--workers: expected an integer in [1, 64], got ${workers}`);
  if (workers > 1 && tfBackend.startsWith('tensorflow'))
    throw new UsageError(`--workers ${workers}: the ${tfBackend} backend (tfjs-node) runs one worker, with its own threads; give --workers 1 or --backend wasm`);
  return workers;
}
