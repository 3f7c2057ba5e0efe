import type { ParsedArgs } from '../util/args.js';

/**
 * The model directory a command reads: `--model DIR`, or `--base DIR` (the same flag under the
 * name post-training uses for a base checkpoint: `--base data/base-l`); both at once is an error.
 */
export function modelDirFlag(args: ParsedArgs<'model' | 'base'>, fallback?: string): string | undefined {
  const model = args.flags['model'];
  const base = args.flags['base'];
  if (typeof model === 'string' && typeof base === 'string') throw new Error('give --model or --base, not both (they name the same thing)');
  return (typeof model === 'string' ? model : typeof base === 'string' ? base : undefined) ?? fallback;
}
