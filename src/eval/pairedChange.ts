import type { EvalResult } from './evaluate.js';
import { pixelDifference } from './pixelDifference.js';
import { bootstrapMean, type Interval } from './winRate.js';

/** What post-training changed against the base on the same prompts and seeds. */
interface PairedChange {
  /** Mean |pixel difference| from the base's image of the same prompt and seed, in byte levels (of 255). */
  pixelChange: number;
  /** Mean per-prompt Align difference (model - base) with its 95% bootstrap interval over prompts. */
  alignDiff: Interval;
  /** Mean per-prompt R@5 hit difference (percentage points), with its interval. */
  r5Diff: Interval;
  /** Mean per-prompt Real difference, with its interval. */
  realDiff: Interval;
}

/**
 * A model's evaluation against the base's on the same prompt set, prompt by prompt: both must
 * hold the same prompts in the same order (the images drawn from the same per-prompt seeds).
 */
export function pairedChange(base: { result: EvalResult; images: readonly Uint8Array[] }, model: { result: EvalResult; images: readonly Uint8Array[] }): PairedChange {
  const b = base.result.perPrompt;
  const m = model.result.perPrompt;
  if (b.length !== m.length || b.some((p, i) => p.id !== m[i]?.id || p.seed !== m[i]?.seed)) {
    throw new Error(`pairedChange: ${model.result.model} and ${base.result.model} were not evaluated on the same prompts and seeds`);
  }
  const diff = (f: (p: (typeof b)[number]) => number): Interval => bootstrapMean(m.map((p, i) => f(p) - f(b[i] as (typeof b)[number])));
  return {
    pixelChange: pixelDifference(base.images, model.images).mean,
    alignDiff: diff((p) => p.align),
    r5Diff: diff((p) => (p.rank <= 5 ? 100 : 0)),
    realDiff: diff((p) => p.real),
  };
}
