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
import { baseDirs, tunedFor, type PresetBase, type ReproPreset } from './reproPresets.js';
import { BASE_S_NAME, BASE_UNIT, parseUnitName, type GridRecord, type UnitDone, type UnitKey } from './reproUnits.js';

/** Where a unit runs and with what: the folders and models of a reproduction (ReproduceOptions' part a unit needs). */
export interface UnitOptions {
  /** The unit's small records go to `out/runs/<unit>/`. */
  out: string;
  /** The bulky state: trained models, the eval image cache. */
  work: string;
  /** Each base's folder by name where it is not the preset's (`baseDirs`). */
  bases?: Record<string, string>;
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
  /** Each base's folder by name. */
  baseDirs: Record<string, string>;
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
  return { preset, data, opts, judges: { context, hashes }, baseDirs: baseDirs(preset, opts.bases), prompts, gridPrompts, log, ...(onProgress ? { onProgress } : {}) };
}

/** The preset's base named `name`, or an error naming the preset's bases. */
export function presetBase(preset: Pick<ReproPreset, 'name' | 'bases'>, name: string): PresetBase {
  const b = preset.bases.find((x) => x.name === name);
  if (!b) throw new Error(`the ${preset.name} preset has no base ${name} (its bases: ${preset.bases.map((x) => x.name).join(', ')})`);
  return b;
}

/**
 * A method's config with its base's budget, the seed, the lr and beta tuned for it on that base
 * (`PresetBase.tuned`, `tunedFor`) and the base's folder. A config that reads preference pairs
 * (Diffusion-DPO's, or SFT's and Self-DPO's winners) reads the preset's Emoji-Pick build,
 * whatever pair file configs/ names: the reproduction's preference data is that build.
 */
export function unitConfig(preset: Pick<ReproPreset, 'pick'>, base: PresetBase, method: string, seed: number, baseDir: string): PostTrainConfig {
  const tuned = tunedFor(base, method);
  const config = methodConfig(method, {
    base: baseDir,
    train: { ...base.train, seed, ...(tuned?.lr !== undefined ? { lr: tuned.lr } : {}) },
    log: base.log,
    ...(tuned?.beta !== undefined ? { loss: { beta: tuned.beta } } : {}),
  });
  const readsPairs = getMethod(config.method).data === 'pairs' || config.data.view === 'pairs';
  return readsPairs ? { ...config, data: { ...config.data, pairs: preset.pick } } : config;
}

/** Where a unit's training run lives in the work folder: base-S's where single-base reproductions kept it (a half-run unit resumes), another base's under its name. */
function unitRunDir(work: string, key: UnitKey): string {
  const run = join('train', key.method, `seed${key.seed}`);
  return key.base === BASE_S_NAME ? join(work, run) : join(work, key.base, run);
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
  const key = parseUnitName(unit);
  const base = presetBase(preset, key.base);
  const baseDir = ctx.baseDirs[base.name] as string;
  mkdirSync(dir, { recursive: true });
  let modelDir = baseDir;
  let trainSeconds = 0;
  if (key.method !== BASE_UNIT) {
    const config = unitConfig(preset, base, key.method, key.seed, baseDir);
    const runDir = unitRunDir(opts.work, key);
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
  await evaluateUnit(ctx, unit, modelDir, dir, key.method === BASE_UNIT || key.seed === preset.seeds[0]);
  const record: UnitDone = {
    unit,
    base: base.name,
    baseSha256: readModelFile(baseDir).file.weightsManifest.sha256,
    trainSeconds,
    evalSeconds: (Date.now() - t1) / 1000,
    finished: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, 'done.json'), `${JSON.stringify(record)}\n`);
  // The optimiser state only served to resume the training (which a rerun skips from now on);
  // the model stays, for notebooks and new grids.
  if (key.method !== BASE_UNIT) for (const d of ['state', 'state.old']) rmSync(join(dirname(modelDir), d), { recursive: true, force: true });
  return record;
}

/** Score a model on each prompt set (skipping sets already scored) and, when asked, draw its grid. */
async function evaluateUnit(ctx: UnitContext, unit: string, modelDir: string, dir: string, withGrid: boolean): Promise<void> {
  const { preset, opts, judges, log } = ctx;
  const { model, schedule, file } = loadModel(modelDir);
  const draws = preset.eval.draws ?? 1;
  const pool = await startPool(model, schedule, opts.workers ?? 1);
  try {
    for (const [k, set] of PROMPT_SETS.entries()) {
      const out = join(dir, `eval-${set}.json`);
      // A set scored before a crash counts only if it scored these very weights with the preset's draws.
      if (existsSync(out) && scoredAs(out, file.weightsManifest.sha256, draws)) continue;
      ctx.onProgress?.({ unit, phase: 'eval', set, done: k, of: PROMPT_SETS.length });
      const result: EvalResult = await evaluate(model, schedule, { dir: modelDir, sha256: file.weightsManifest.sha256 }, set, ctx.prompts[set], judges.context, judges.hashes, {
        sampling: preset.eval.sampling,
        cacheDir: join(opts.work, 'eval-cache'),
        draws,
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

/**
 * Whether an evaluation file scored these weights with `draws` draws per prompt (one that did
 * not is redone; its draw 0 comes from the image cache). A damaged one is named with the way out
 * (it is only a cache of work).
 */
function scoredAs(file: string, sha256: string, draws: number): boolean {
  let result: EvalResult;
  try {
    result = readJsonFile(file, 'evaluation') as EvalResult;
  } catch (err) {
    throw new Error(`${(err as Error).message}; delete it and run again to score that prompt set again`);
  }
  return result.modelSha256 === sha256 && (result.draws ?? 1) === draws;
}
