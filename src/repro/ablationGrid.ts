import { basename, join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import type { Prompt } from '../data/evalPrompts.js';
import { evaluateWithImages, type EvalContext, type EvalResult } from '../eval/evaluate.js';
import { pairedChange } from '../eval/pairedChange.js';
import { winRateInterval, type Interval } from '../eval/winRate.js';
import { DEFAULT_SAMPLING, type GenerateOptions } from '../model/generate.js';
import { withModel } from '../parallel/withModel.js';
import { readTrainRun, type TrainRunRecord } from '../report/trainReport.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { postTrain } from '../train/postTrain.js';
import { methodConfig, type PostTrainConfig } from '../train/postTrainConfig.js';

/**
 * The ablation bench of notebook 02 (docs/PROTOCOL.md, the ablations): every setting of a grid of
 * downgrades x lambda1 x beta x base post-trained with Self-DPO (or reused when its run folder
 * already holds the finished run), then evaluated with the base on the same prompts and seeds,
 * prompt by prompt, so that each setting's change against its base has an interval.
 */
export interface AblationGrid {
  readonly downgrades: readonly string[];
  readonly lambda1: readonly number[];
  readonly beta: readonly number[];
  /** Base model folders. */
  readonly bases: readonly string[];
}

export interface AblationOptions {
  /** Run folders go to out/<base>/<setting>. */
  readonly out: string;
  /** The post-training budget every setting shares (train and log keys of the config). */
  readonly train: Partial<PostTrainConfig['train']>;
  /** The config's log cadence (probe, checkpoints, validation samples). */
  readonly cadence?: Partial<PostTrainConfig['log']>;
  /** The prompts every model draws, each from its own fixed seed. */
  readonly promptSet: string;
  readonly prompts: readonly Prompt[];
  readonly context: EvalContext;
  readonly judgeHashes: { contrastive: string; realism: string };
  readonly cacheDir: string;
  readonly workers: number;
  readonly sampling?: GenerateOptions;
  readonly log?: (line: string) => void;
}

/** One setting's run and its change against its base. */
export interface AblationRow {
  base: string;
  downgrade: string;
  lambda1: number;
  beta: number;
  /** "blur, λ1 0.5, β 5000" (with the base's name when the grid has several). */
  label: string;
  run: TrainRunRecord;
  result: EvalResult;
  /** Share of prompts where the setting's Align beats the base's (ties half), with its interval. */
  alignWin: Interval;
  alignDiff: Interval;
  r5Diff: Interval;
  realDiff: Interval;
  pixelChange: number;
}

export interface AblationResult {
  rows: AblationRow[];
  /** Each base's own evaluation, by folder. */
  baseResults: Map<string, EvalResult>;
}

/** The settings of the grid, bases outermost, in the order the notebook lists them. */
export function gridSettings(grid: AblationGrid): Array<{ base: string; downgrade: string; lambda1: number; beta: number }> {
  return grid.bases.flatMap((base) => grid.downgrades.flatMap((downgrade) => grid.lambda1.flatMap((lambda1) => grid.beta.map((beta) => ({ base, downgrade, lambda1, beta })))));
}

/** Run (or reuse) and evaluate every setting of `grid`. */
export async function runAblationGrid(grid: AblationGrid, data: EmojiT2I, opts: AblationOptions): Promise<AblationResult> {
  const log = opts.log ?? ((line: string): void => console.error(line));
  const sampling = opts.sampling ?? DEFAULT_SAMPLING;
  const evalOpts = { sampling, cacheDir: opts.cacheDir };
  const evaluateDir = (dir: string): Promise<{ result: EvalResult; images: Uint8Array[] }> =>
    withModel(dir, opts.workers, async ({ model, schedule, file }, pool) => {
      const info = { dir, sha256: file.weightsManifest.sha256 };
      const withPool = { ...evalOpts, ...(pool ? { pool } : {}) };
      return evaluateWithImages(model, schedule, info, opts.promptSet, opts.prompts, opts.context, opts.judgeHashes, withPool);
    });
  const baseEvals = new Map<string, { result: EvalResult; images: Uint8Array[] }>();
  for (const base of grid.bases) {
    log(`ablations: evaluating the base ${base}`);
    baseEvals.set(base, await evaluateDir(base));
  }
  const rows: AblationRow[] = [];
  for (const s of gridSettings(grid)) {
    const name = `${s.downgrade}-lambda${s.lambda1}-beta${s.beta}-steps${opts.train.steps ?? 'default'}`;
    const runDir = join(opts.out, basename(s.base), name);
    // On the curated set, as the grid has always run (configs/self-dpo.json trains on Emoji-Pick, which the grid does not need).
    const config = methodConfig('self-dpo', {
      downgrade: s.downgrade,
      base: s.base,
      loss: { beta: s.beta, lambda1: s.lambda1 },
      data: { view: 'curated', pairs: '' },
      train: opts.train,
      ...(opts.cadence ? { log: opts.cadence } : {}),
    });
    log(`ablations: ${runDir}`);
    await postTrain(config, await emojiTrainData(data, config, data.resolution), runDir, { workers: opts.workers, quiet: true });
    const evaluated = await evaluateDir(join(runDir, 'model'));
    const base = baseEvals.get(s.base) as { result: EvalResult; images: Uint8Array[] };
    const change = pairedChange(base, evaluated);
    const label = `${s.downgrade}, λ1 ${s.lambda1}, β ${s.beta}${grid.bases.length > 1 ? ` (${basename(s.base)})` : ''}`;
    rows.push({
      ...s,
      label,
      run: readTrainRun(runDir, label),
      result: evaluated.result,
      alignWin: winRateInterval(
        evaluated.result.perPrompt.map((p) => p.align),
        base.result.perPrompt.map((p) => p.align),
      ),
      alignDiff: change.alignDiff,
      r5Diff: change.r5Diff,
      realDiff: change.realDiff,
      pixelChange: change.pixelChange,
    });
  }
  return { rows, baseResults: new Map([...baseEvals].map(([k, v]) => [k, v.result])) };
}

/** The grid as table rows: one per setting, scores and their changes against the base in %/points. */
export function ablationTableRows(result: AblationResult): Array<Record<string, string | number>> {
  const ci = (x: Interval, scale = 1, digits = 1): string => `${(scale * x.mean).toFixed(digits)} [${(scale * x.low).toFixed(digits)}, ${(scale * x.high).toFixed(digits)}]`;
  return result.rows.map((r) => ({
    base: basename(r.base),
    downgrade: r.downgrade,
    lambda1: r.lambda1,
    beta: r.beta,
    'Align win % vs base': ci(r.alignWin, 100),
    'Align diff': ci(r.alignDiff, 1, 3),
    'R@5 diff (pts)': ci(r.r5Diff),
    'Real diff': ci(r.realDiff),
    'pixel change': Number(r.pixelChange.toFixed(2)),
    Align: Number(r.result.align.toFixed(3)),
    'R@5 %': Number((100 * r.result.r5).toFixed(1)),
    FID: Number(r.result.fid.toFixed(1)),
  }));
}
