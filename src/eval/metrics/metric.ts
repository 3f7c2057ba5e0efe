import type { Prompt } from '../../data/evalPrompts.js';
import type { EvalContext, EvalResult, PromptScore } from '../evaluate.js';

/** What a metric that computes its own scores is given: one model's images of one prompt set. */
export interface MetricInputs {
  /** RGB bytes, one array per image, and `prompts[i]` the prompt of image i (each prompt once per draw, draw-major). */
  readonly images: readonly Uint8Array[];
  readonly prompts: readonly Prompt[];
  readonly context: EvalContext;
  /** The evaluation judge's unit image embeddings, [N, embed] row-major (computed once for all metrics). */
  readonly imageEmbeddings: Float32Array;
}

/**
 * A metric of the evaluation (docs/PROTOCOL.md, "The paper's systems and ours"): how it is read
 * from an evaluation, which way is better, how it prints. `evaluate()`, the evaluation index, the
 * tables, the claims check and the CLI iterate over the registry; a new metric is one file and
 * one line in `registry.ts` (or `registerMetric` from a notebook).
 */
export interface Metric {
  /** Its name in claims and in an evaluation's `extra` scores. */
  readonly name: string;
  /** Its column in tables, with its unit ("R@1 %"). */
  readonly column: string;
  /** Its column in units.csv and the evaluation records ("align", "r1"). */
  readonly record: string;
  readonly description: string;
  readonly higherIsBetter: boolean;
  /** Digits printed after the point. */
  readonly digits: number;
  /** Its value per prompt, in table units, whose mean is `value`; absent for a metric of the whole set (FID). */
  readonly perPrompt?: (p: PromptScore) => number;
  /** Its value for one evaluation, in table units, as the evaluation stored it. */
  readonly value: (r: EvalResult) => number;
  /** Its value in the evaluation record (units.csv), which may differ in units from the table's. */
  readonly recordValue: (r: EvalResult) => number;
  /** Win rates against the base: the per-prompt score compared (higher wins), and its columns. */
  readonly win?: { readonly column: string; readonly record: string; readonly score: (p: PromptScore) => number };
  /** Whether the check of the paper's claims compares models on it. */
  readonly inClaims: boolean;
  /** For a metric the evaluation does not compute itself: its per-prompt scores, stored in `extra[name]`. */
  readonly score?: (inputs: MetricInputs) => number[];
}

/** The stored scores of a metric that computes its own (`score`): per prompt, and the evaluation's mean. */
export function extraScore(name: string): { perPrompt: (p: PromptScore) => number; value: (r: EvalResult) => number } {
  const missing = (where: string): Error => new Error(`${where} has no ${name} score (evaluated before the metric was registered?)`);
  return {
    perPrompt: (p) => {
      const v = p.extra?.[name];
      if (typeof v !== 'number') throw missing(`prompt ${p.id}`);
      return v;
    },
    value: (r) => {
      const v = r.extra?.[name];
      if (typeof v !== 'number') throw missing(`the evaluation of ${r.model} on ${r.promptSet}`);
      return v;
    },
  };
}

/** Every registered metric's value of one evaluation, formatted with its digits, in registry order. */
export function metricCells(r: EvalResult, registered: readonly Metric[]): string[] {
  return registered.map((m) => m.value(r).toFixed(m.digits));
}
