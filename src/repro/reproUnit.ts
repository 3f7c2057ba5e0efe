import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { curatedValPrompts, PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { loadEvalContext } from '../eval/evalContext.js';
import { evaluate, type EvalContext, type EvalResult } from '../eval/evaluate.js';
import { metricCells } from '../eval/metrics/metric.js';
import { metrics } from '../eval/metrics/registry.js';
import { readPromptSet } from '../eval/promptSets.js';
import { getMethod } from '../methods/registry.js';
import { loadModel, readModelFile } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { sampleImages } from '../report/sampleGrid.js';
import { JsonLines } from '../runs/progress.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { postTrain } from '../train/postTrain.js';
import { methodConfig, type PostTrainConfig } from '../train/postTrainConfig.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import type { ReproPreset } from './reproPresets.js';
import { BASE_UNIT, type GridRecord, type UnitDone } from './reproUnits.js';

/** Where a unit runs and with what: the folders and models of a reproduction (ReproduceOptions' part a unit needs). */
export interface UnitOptions {
  /** The unit's small records go to `out/runs/<unit>/`. */
  out: string;
  /** The bulky state: trained models, the eval image cache. */
  work: string;
  base: string;
  judges: string;
  workers?: number;
  command?: string;
}

/** Where a unit is: a phase and, when the phase counts, how far (a queue worker reports it to its job). */
export interface UnitProgress {
  unit: string;
  phase: 'train' | 'eval' | 'grid';
  done?: number;
  of?: number;
  /** eval: the prompt set. */
  set?: PromptSetName;
}

/** What every unit of one reproduction shares, loaded once: the judges, the prompts, the grid's prompts. */
export interface UnitContext {
  preset: ReproPreset;
  data: EmojiT2I;
  opts: UnitOptions;
  judges: { context: EvalContext; hashes: { contrastive: string; realism: string } };
  prompts: Record<PromptSetName, ReturnType<typeof readPromptSet>>;
  gridPrompts: string[];
  log: (line: string) => void;
  onProgress?: (progress: UnitProgress) => void;
}

/** Load what the units of `preset` share (the judges take a few seconds). */
export function unitContext(preset: ReproPreset, data: EmojiT2I, opts: UnitOptions, log: (line: string) => void, onProgress?: (progress: UnitProgress) => void): UnitContext {
  const { context, hashes } = loadEvalContext(data, opts.judges);
  const prompts = Object.fromEntries(PROMPT_SETS.map((s) => [s, readPromptSet(s).slice(0, preset.eval.prompts[s])])) as UnitContext['prompts'];
  const gridPrompts = curatedValPrompts(data)
    .slice(0, preset.grid.prompts)
    .map((p) => p.prompt);
  return { preset, data, opts, judges: { context, hashes }, prompts, gridPrompts, log, ...(onProgress ? { onProgress } : {}) };
}

/** `self-dpo-s2` -> ['self-dpo', 2]. */
export function splitUnit(unit: string): [string, number] {
  const m = /^(.+)-s(\d+)$/.exec(unit);
  if (!m) throw new Error(`not a unit name: ${unit}`);
  return [m[1] as string, Number(m[2])];
}

/**
 * A method's config with the preset's budget, seed and base. A config that reads preference
 * pairs (Diffusion-DPO's, or SFT's and Self-DPO's winners) reads the preset's Emoji-Pick build,
 * whatever pair file configs/ names: the reproduction's preference data is that build.
 */
export function unitConfig(preset: ReproPreset, method: string, seed: number, opts: Pick<UnitOptions, 'base'>): PostTrainConfig {
  const config = methodConfig(method, { base: opts.base, train: { ...preset.train, seed }, log: preset.log });
  const readsPairs = getMethod(config.method).data === 'pairs' || config.data.view === 'pairs';
  return readsPairs ? { ...config, data: { ...config.data, pairs: preset.pick } } : config;
}

/**
 * One unit, into `out/runs/<unit>/`: train (a method's unit; resumed from its last checkpoint),
 * evaluate on each prompt set not yet scored, draw the grid for the first seed, then done.json.
 * A unit with done.json is not run again: its record is returned.
 */
export async function runReproUnit(ctx: UnitContext, unit: string): Promise<UnitDone> {
  const { preset, data, opts } = ctx;
  const dir = join(opts.out, 'runs', unit);
  if (existsSync(join(dir, 'done.json'))) return readJsonFile(join(dir, 'done.json'), 'done.json') as UnitDone;
  mkdirSync(dir, { recursive: true });
  let modelDir = opts.base;
  let trainSeconds = 0;
  if (unit !== BASE_UNIT) {
    const [method, seed] = splitUnit(unit);
    const config = unitConfig(preset, method, seed, opts);
    const runDir = join(opts.work, 'train', method, `seed${seed}`);
    await postTrain(config, await emojiTrainData(data, config, data.resolution), runDir, {
      workers: opts.workers,
      command: opts.command,
      onStep: (r) => ctx.onProgress?.({ unit, phase: 'train', done: r.step, of: config.train.steps }),
    });
    modelDir = join(runDir, 'model');
    const trainedTo = readModelFile(modelDir).file.about['step'];
    if (trainedTo !== config.train.steps) throw new Error(`${modelDir}: the model is from step ${String(trainedTo)}, not the run's last step ${config.train.steps}; rerun to finish the run`);
    for (const f of ['config.json', 'metrics.jsonl', 'heldout.jsonl']) copyFileSync(join(runDir, f), join(dir, f));
    // Every attempt's steps: the training time of a run resumed across sessions.
    trainSeconds = (new JsonLines(join(runDir, 'metrics.jsonl')).read() as Array<{ sec?: number }>).reduce((a, m) => a + (m.sec ?? 0), 0);
  }
  const t1 = Date.now();
  await evaluateUnit(ctx, unit, modelDir, dir, unit === BASE_UNIT || splitUnit(unit)[1] === preset.seeds[0]);
  const record: UnitDone = { unit, trainSeconds, evalSeconds: (Date.now() - t1) / 1000, finished: new Date().toISOString() };
  writeFileAtomic(join(dir, 'done.json'), `${JSON.stringify(record)}\n`);
  // The optimiser state only served to resume the training (which a rerun skips from now on);
  // the model stays, for notebooks and new grids.
  if (unit !== BASE_UNIT) for (const d of ['state', 'state.old']) rmSync(join(dirname(modelDir), d), { recursive: true, force: true });
  return record;
}

/** Score a model on each prompt set (skipping sets already scored) and, when asked, draw its grid. */
async function evaluateUnit(ctx: UnitContext, unit: string, modelDir: string, dir: string, withGrid: boolean): Promise<void> {
  const { preset, opts, judges, log } = ctx;
  const { model, schedule, file } = loadModel(modelDir);
  const pool = await startPool(model, schedule, opts.workers ?? 1);
  try {
    for (const [k, set] of PROMPT_SETS.entries()) {
      const out = join(dir, `eval-${set}.json`);
      // A set scored before a crash counts only if it scored these very weights.
      if (existsSync(out) && scoredSha256(out) === file.weightsManifest.sha256) continue;
      ctx.onProgress?.({ unit, phase: 'eval', set, done: k, of: PROMPT_SETS.length });
      const result: EvalResult = await evaluate(model, schedule, { dir: modelDir, sha256: file.weightsManifest.sha256 }, set, ctx.prompts[set], judges.context, judges.hashes, {
        sampling: preset.eval.sampling,
        cacheDir: join(opts.work, 'eval-cache'),
        pool,
      });
      writeFileAtomic(out, `${JSON.stringify(result)}\n`);
      const cells = metricCells(result, metrics());
      log(
        `  ${set}: ${metrics()
          .map((m, i) => `${m.name} ${cells[i]}${m.column.endsWith('%') ? '%' : ''}`)
          .join('  ')}`,
      );
    }
    if (withGrid && !existsSync(join(dir, 'grid.json'))) {
      ctx.onProgress?.({ unit, phase: 'grid' });
      const images = await sampleImages(model, schedule, ctx.gridPrompts, preset.grid.seeds, { ...preset.eval.sampling, pool });
      const record: GridRecord = { prompts: [...ctx.gridPrompts], seeds: preset.grid.seeds, resolution: model.config.resolution, sampling: preset.eval.sampling };
      writeFileAtomic(join(dir, 'grid.rgb'), Buffer.concat(images.flat()));
      writeFileAtomic(join(dir, 'grid.json'), `${JSON.stringify(record)}\n`);
    }
  } finally {
    await pool?.stop();
    model.params.dispose();
  }
}

/** The weights an evaluation file scored; a damaged one is named with the way out (it is only a cache of work). */
function scoredSha256(file: string): unknown {
  try {
    return (readJsonFile(file, 'evaluation') as EvalResult).modelSha256;
  } catch (err) {
    throw new Error(`${(err as Error).message}; delete it and run again to score that prompt set again`);
  }
}
