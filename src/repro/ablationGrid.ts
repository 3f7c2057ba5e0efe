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
import { metrics } from '../eval/metrics/registry.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { sha256 } from '../util/sha256.js';

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
  /** Run folders go to out/<base>/<setting>-<config hash>. */
  readonly out: string;
  /** The post-training budget every setting shares (train keys of the config: steps, batch, lr, seed, ...). */
  readonly train: Partial<PostTrainConfig['train']>;
  /**
   * What every setting trains on. Default: the curated set (clean images of the concepts base-S
   * pretrained on; no build needed, the bench's regime). The paper's: `{ view: 'pairs', pairs:
   * '../data/emoji-pick' }`, Emoji-Pick's winners, as the reproduction trains Self-DPO.
   */
  readonly data?: { view: PostTrainConfig['data']['view']; pairs?: string };
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

/**
 * A setting's run folder: its grid values, readable, and a hash of its whole config, so that a run
 * is reused only under the same config, and a change anywhere else (lr, batch, seed, data,
 * cadence) trains a new run beside it instead of meeting the old one's "different config" refusal.
 */
export function settingFolder(s: { downgrade: string; lambda1: number; beta: number }, config: PostTrainConfig): string {
  return `${s.downgrade}-lambda${s.lambda1}-beta${s.beta}-steps${config.train.steps}-${sha256(canonicalJson(config)).slice(0, 8)}`;
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
    const config = methodConfig('self-dpo', {
      downgrade: s.downgrade,
      base: s.base,
      loss: { beta: s.beta, lambda1: s.lambda1 },
      data: { view: opts.data?.view ?? 'curated', pairs: opts.data?.pairs ?? '' },
      train: opts.train,
      ...(opts.cadence ? { log: opts.cadence } : {}),
    });
    const runDir = join(opts.out, basename(s.base), settingFolder(s, config));
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

/**
 * The grid as table rows: each base's own scores, then one row per setting with its changes
 * against its base in %/points and its own scores; every registered metric in its table units and
 * digits (eval/metrics), as the reproduction's tables give them.
 */
export function ablationTableRows(result: AblationResult): Array<Record<string, string | number>> {
  const ci = (x: Interval, scale = 1, digits = 1): string => `${(scale * x.mean).toFixed(digits)} [${(scale * x.low).toFixed(digits)}, ${(scale * x.high).toFixed(digits)}]`;
  const scores = (r: EvalResult): Record<string, number> => Object.fromEntries(metrics().map((m) => [m.column, Number(m.value(r).toFixed(m.digits))]));
  const noChange = { 'Align win % vs base': '-', 'Align diff': '-', 'R@5 diff (pts)': '-', 'Real diff': '-', 'pixel change': '-' };
  const baseRows = [...result.baseResults].map(([base, r]) => ({ base: basename(base), downgrade: '(the base)', lambda1: '-', beta: '-', ...noChange, ...scores(r) }));
  const settingRows = result.rows.map((r) => ({
    base: basename(r.base),
    downgrade: r.downgrade,
    lambda1: r.lambda1,
    beta: r.beta,
    'Align win % vs base': ci(r.alignWin, 100),
    'Align diff': ci(r.alignDiff, 1, 3),
    'R@5 diff (pts)': ci(r.r5Diff),
    'Real diff': ci(r.realDiff),
    'pixel change': Number(r.pixelChange.toFixed(2)),
    ...scores(r.result),
  }));
  return [...baseRows, ...settingRows];
}
