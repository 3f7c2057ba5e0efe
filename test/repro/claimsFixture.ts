import type { PromptSetName } from '../../src/data/evalPrompts.js';
import type { EvalResult } from '../../src/eval/evaluate.js';
import type { ProbeRecord } from '../../src/train/postTrain.js';
import type { PostTrainConfig } from '../../src/train/postTrainConfig.js';
import type { UnitRecord } from '../../src/repro/reproUnits.js';

/** Per-prompt scores of one evaluation, given by hand or drawn: Align, the concept's rank, Real. */
export interface Scores {
  align: readonly number[];
  rank: readonly number[];
  real: readonly number[];
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** An evaluation of `set` with these per-prompt scores; prompt i is `p<i>`, drawn from sample seed 100 + i (+ `reseed`). */
export function evalOf(set: PromptSetName, s: Scores, fid: number, reseed = 0): EvalResult {
  return {
    model: 'm',
    modelSha256: 'x',
    promptSet: set,
    prompts: s.align.length,
    concepts: 1653,
    sampling: {},
    judges: { contrastive: 'c', realism: 'r' },
    align: mean(s.align),
    r1: s.rank.filter((r) => r === 1).length / s.rank.length,
    r5: s.rank.filter((r) => r <= 5).length / s.rank.length,
    real: mean(s.real),
    fid,
    cached: false,
    perPrompt: s.align.map((a, i) => ({ id: `p${i}`, concept: `c${i}`, seed: 100 + i + reseed, align: a, rank: s.rank[i] as number, real: s.real[i] as number })),
  };
}

/** A unit of `method` (or the base) with these evaluations, and optionally its base, held-out probe and probe size. */
export function unitOf(
  method: string,
  seed: number,
  evals: Partial<Record<PromptSetName, EvalResult>>,
  more: { base?: string; probe?: Array<{ step: number; acc: number }>; probePairs?: number } = {},
): UnitRecord {
  const probe: ProbeRecord[] = (more.probe ?? []).map((p) => ({ step: p.step, set: 'validation', downgrade: 'randomImage', mse_w: 0, mse_l: 0, ref_w: 0, ref_l: 0, dpo: 0, implicit_acc: p.acc }));
  return {
    unit: method === 'base' ? 'base' : `${method}-s${seed}`,
    method,
    seed,
    evals,
    metrics: [],
    probe,
    ...(more.base !== undefined ? { base: more.base } : {}),
    ...(more.probePairs !== undefined ? { config: { log: { evalPairs: more.probePairs } } as unknown as PostTrainConfig } : {}),
  };
}
