import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { curatedValPrompts } from '../data/evalPrompts.js';
import { loadEvalContext } from '../eval/evalContext.js';
import { evaluate, type EvalContext, type EvalResult } from '../eval/evaluate.js';
import { loadContrastiveJudge, readJudgeFile } from '../eval/judgeFile.js';
import { readPromptSet } from '../eval/promptSets.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { loadModel, readModelFile } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { CURATED_VAL_GRID_TEXT, renderCuratedValGrid } from '../report/curatedValGrid.js';
import { sampleImages } from '../report/sampleGrid.js';
import { alignScorer, annotatorPairPrompts } from '../eval/annotatorPairs.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { buildPreferencePairs, type PairBuildReport } from '../train/pairBuilder.js';
import { postTrain } from '../train/postTrain.js';
import { PAIRS_FILE } from '../data/preferencePairs.js';
import { JsonLines, Progress } from '../runs/progress.js';
import { methodConfig, type PostTrainConfig } from '../train/postTrainConfig.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { sha256 } from '../util/sha256.js';
import type { ReproPreset } from './reproPresets.js';
import { writeReproReport } from './reproReport.js';
import { BASE_UNIT, presetUnitNames, type GridRecord, type ReproIdentity, type UnitDone } from './reproUnits.js';
import { getMethod } from '../methods/registry.js';
import { RUN_LOCK, withRunLock } from '../runs/runLock.js';
import { metricCells } from '../eval/metrics/metric.js';
import { metrics } from '../eval/metrics/registry.js';

export interface ReproduceOptions {
  /** Where the committed results go (results/<preset>): tables, charts, grids, and each unit's small records. */
  out: string;
  /** Where the bulky state goes (runs/reproduce/<preset>): pairs, trained models, the eval image cache. */
  work: string;
  /** The base model every method starts from (data/base-s). */
  base: string;
  /** The judges' directory (data/judges: eval, annotator, realism). */
  judges: string;
  workers?: number;
  /** Start over: delete `out` and `work` first. */
  force?: boolean;
  command?: string;
  log?: (line: string) => void;
  /**
   * Before any unit, the base's curated-val grid (as results/base-s/samples.png) into this
   * PNG, unless it is there: `npm start` shows the model within its first minutes.
   */
  baseGrid?: string;
}

/** What must match for a reproduction to resume (the preset's prose may change). */
const IDENTITY_KEYS = ['preset', 'baseSha256', 'judges', 'configsSha256', 'dataSha256'] as const;

/**
 * The whole protocol (docs/PROTOCOL.md): Diffusion-DPO's annotator pairs, every method on every
 * seed from the same base, every model (the base included) evaluated on the three prompt sets
 * with shared per-prompt seeds, then Tables 1-5, Figure 5 and the sample grids.
 *
 * Work is done in units (the base's evaluation, then one unit per method and seed: train,
 * evaluate, draw its grid); a finished unit leaves its small records in `out/runs/<unit>/`
 * with done.json, and a rerun skips it. An unfinished unit resumes its training from the last
 * checkpoint and skips the prompt sets already scored. A run made from other base weights,
 * judges or preset is refused unless `force`.
 */
export function reproduce(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions): Promise<string[]> {
  // One process per reproduction: the lock lives in the work folder, which is never committed.
  return withRunLock(opts.work, () => reproduceLocked(preset, data, opts));
}

/** `reproduce` with its work folder's lock held. */
async function reproduceLocked(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions): Promise<string[]> {
  const log = opts.log ?? ((line: string): void => console.error(line));
  const identity = reproIdentity(preset, data, opts);
  if (opts.force) startOver(opts);
  checkIdentity(join(opts.out, 'preset.json'), identity);
  mkdirSync(join(opts.out, 'runs'), { recursive: true });
  const events = new JsonLines(join(opts.work, 'reproduce.jsonl'));
  mkdirSync(opts.work, { recursive: true });
  const invocation = { command: opts.command ?? null, started: new Date().toISOString(), threads: opts.workers ?? 1 };
  const saved = existsSync(join(opts.out, 'preset.json')) ? (readJsonFile(join(opts.out, 'preset.json'), 'preset.json') as { invocations?: unknown[] }) : {};
  writeFileAtomic(join(opts.out, 'preset.json'), `${JSON.stringify({ ...identity, invocations: [...(saved.invocations ?? []), invocation] }, null, 1)}\n`);

  const { context, hashes } = loadEvalContext(data, opts.judges);
  const prompts = Object.fromEntries(PROMPT_SETS.map((s) => [s, readPromptSet(s).slice(0, preset.eval.prompts[s])])) as Record<PromptSetName, ReturnType<typeof readPromptSet>>;
  const gridPrompts = curatedValPrompts(data)
    .slice(0, preset.grid.prompts)
    .map((p) => p.prompt);
  const units = presetUnitNames(preset);
  const isDone = (unit: string): boolean => existsSync(join(opts.out, 'runs', unit, 'done.json'));
  if (opts.baseGrid !== undefined && !existsSync(opts.baseGrid)) await drawBaseGrid(data, opts.baseGrid, opts, log);
  const dpoUnits = units.filter((u) => u !== BASE_UNIT && getMethod(unitConfig(preset, ...splitUnit(u), opts).method).data === 'pairs');
  if (dpoUnits.some((u) => !isDone(u))) await ensurePairs(preset, data, opts, log);
  // The time left is paced by the units run here alone (the pairs and the base grid come once).
  const started = Date.now();
  let done = 0;
  let ranHere = 0;
  const eta = (): string => {
    const left = units.length - done;
    if (ranHere === 0 || left === 0) return '';
    return `, about ${Math.round((((Date.now() - started) / 1000 / ranHere) * left) / 60)} min left`;
  };

  for (const unit of units) {
    const dir = join(opts.out, 'runs', unit);
    if (isDone(unit)) {
      done += 1;
      continue;
    }
    mkdirSync(dir, { recursive: true });
    log(`[${done + 1}/${units.length}] ${unit}${eta()}`);
    let modelDir = opts.base;
    let trainSeconds = 0;
    if (unit !== BASE_UNIT) {
      const [method, seed] = splitUnit(unit);
      const config = unitConfig(preset, method, seed, opts);
      const runDir = join(opts.work, 'train', method, `seed${seed}`);
      await postTrain(config, await emojiTrainData(data, config, data.resolution), runDir, { workers: opts.workers, command: opts.command });
      modelDir = join(runDir, 'model');
      const trainedTo = readModelFile(modelDir).file.about['step'];
      if (trainedTo !== config.train.steps) throw new Error(`${modelDir}: the model is from step ${String(trainedTo)}, not the run's last step ${config.train.steps}; rerun to finish the run`);
      for (const f of ['config.json', 'metrics.jsonl', 'heldout.jsonl']) copyFileSync(join(runDir, f), join(dir, f));
      // Every attempt's steps: the training time of a run resumed across sessions.
      trainSeconds = (new JsonLines(join(runDir, 'metrics.jsonl')).read() as Array<{ sec?: number }>).reduce((a, m) => a + (m.sec ?? 0), 0);
    }
    const t1 = Date.now();
    await evaluateUnit(preset, modelDir, dir, prompts, { context, hashes }, opts, gridPrompts, unit === BASE_UNIT || splitUnit(unit)[1] === preset.seeds[0], log);
    const record: UnitDone = { unit, trainSeconds, evalSeconds: (Date.now() - t1) / 1000, finished: new Date().toISOString() };
    writeFileAtomic(join(dir, 'done.json'), `${JSON.stringify(record)}\n`);
    events.append({ ...record });
    ranHere += 1;
    // The optimiser state only served to resume the training (which a rerun skips from now on);
    // the model stays, for notebooks and new grids.
    if (unit !== BASE_UNIT) for (const d of ['state', 'state.old']) rmSync(join(dirname(modelDir), d), { recursive: true, force: true });
    done += 1;
  }
  log(`every unit is done; writing the tables and figures into ${opts.out}`);
  return [...(opts.baseGrid !== undefined ? [opts.baseGrid] : []), ...(await writeReproReport(opts.out))];
}

function reproIdentity(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions): ReproIdentity {
  const judges = Object.fromEntries(['eval', 'annotator', 'realism'].map((name) => [name, readJudgeFile(join(opts.judges, name)).file.weightsManifest.sha256]));
  // Paths left out: the same reproduction may resume from another checkout.
  const configs = preset.methods.map((m) => unitConfig(preset, m, 0, { base: 'BASE', work: 'WORK' }));
  return {
    preset,
    base: opts.base,
    baseSha256: readModelFile(opts.base).file.weightsManifest.sha256,
    judges,
    configsSha256: sha256(JSON.stringify(configs)),
    dataSha256: sha256(JSON.stringify(data.manifest)),
  };
}

function checkIdentity(file: string, identity: ReproIdentity): void {
  if (!existsSync(file)) return;
  const saved = readJsonFile(file, 'preset.json') as ReproIdentity;
  const { purpose: _a, ...savedPreset } = saved.preset;
  const { purpose: _b, ...preset } = identity.preset;
  const same = (k: (typeof IDENTITY_KEYS)[number]): boolean => (k === 'preset' ? JSON.stringify(savedPreset) === JSON.stringify(preset) : JSON.stringify(saved[k]) === JSON.stringify(identity[k]));
  const differs = IDENTITY_KEYS.filter((k) => !same(k));
  if (differs.length > 0) throw new Error(`${file}: this reproduction was started with a different ${differs.join(', ')}; pass --force to start it over`);
}

/** --force: delete the results and work folders, but only ones that hold a reproduction (or nothing). */
function startOver(opts: ReproduceOptions): void {
  for (const [dir, mark] of [
    [opts.out, 'preset.json'],
    [opts.work, 'reproduce.jsonl'],
  ] as const) {
    if (!existsSync(dir)) continue;
    // The work folder's lock is this process's own: it stays.
    const entries = readdirSync(dir).filter((e) => e !== RUN_LOCK);
    if (!existsSync(join(dir, mark)) && entries.length > 0) throw new Error(`--force: ${dir} is not a reproduction's folder (it has no ${mark}); not deleting it`);
    for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function splitUnit(unit: string): [string, number] {
  const m = /^(.+)-s(\d+)$/.exec(unit);
  if (!m) throw new Error(`not a unit name: ${unit}`);
  return [m[1] as string, Number(m[2])];
}

/** A method's config with the preset's budget, seed, base and (for dpo) the pairs built here. */
export function unitConfig(preset: ReproPreset, method: string, seed: number, opts: Pick<ReproduceOptions, 'base' | 'work'>): PostTrainConfig {
  const config = methodConfig(method, { base: opts.base, train: { ...preset.train, seed }, log: preset.log });
  return getMethod(config.method).data === 'pairs' ? { ...config, data: { ...config.data, pairs: join(opts.work, 'pairs', PAIRS_FILE) } } : config;
}

/** Diffusion-DPO's pairs from the base, ranked by the annotator judge (once; build.json records the cost). */
async function ensurePairs(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions, log: (line: string) => void): Promise<void> {
  const dir = join(opts.work, 'pairs');
  if (existsSync(join(dir, 'build.json'))) {
    const built = readJsonFile(join(dir, 'build.json'), 'build.json') as PairBuildReport;
    const want = { prompts: preset.pairs.prompts, seed: preset.pairs.seed, sampling: preset.eval.sampling };
    const have = { prompts: built.prompts, seed: built.seed, sampling: built.sampling };
    if (JSON.stringify(want) !== JSON.stringify(have))
      throw new Error(`${join(dir, 'build.json')}: pairs built for ${JSON.stringify(have)}, but the preset asks for ${JSON.stringify(want)}; pass --force to start over`);
  } else {
    log(`drawing ${preset.pairs.prompts} preference pairs from the base and ranking them with the annotator judge`);
    const { model, schedule } = loadModel(opts.base);
    const { judge, file } = loadContrastiveJudge(join(opts.judges, 'annotator'));
    const pool = await startPool(model, schedule, opts.workers ?? 1);
    const progress = new Progress('  pairs: images', 2 * preset.pairs.prompts, 0);
    let shown = 0;
    try {
      await buildPreferencePairs(model, schedule, annotatorPairPrompts(data, preset.pairs.prompts, preset.pairs.seed), alignScorer(judge), dir, {
        seed: preset.pairs.seed,
        sampling: preset.eval.sampling,
        scorerName: `annotator judge (${file.weightsManifest.sha256.slice(0, 12)}): Align`,
        pool,
        command: opts.command,
        // About ten lines, each with the time left.
        onProgress: (done, total) => {
          if (done === total || done - shown >= total / 10) progress.report((shown = done), {});
        },
      });
      progress.end();
    } finally {
      await pool?.stop();
      model.params.dispose();
    }
  }
  copyFileSync(join(dir, 'build.json'), join(opts.out, 'pairs-build.json'));
}

/** The base's curated-val grid into `file` (npm start's first output). */
async function drawBaseGrid(data: EmojiT2I, file: string, opts: ReproduceOptions, log: (line: string) => void): Promise<void> {
  const { model, schedule } = loadModel(opts.base);
  const pool = await startPool(model, schedule, opts.workers ?? 1);
  try {
    const png = await renderCuratedValGrid(model, schedule, data, { title: `${opts.base}: ${CURATED_VAL_GRID_TEXT}`, pool });
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, png);
    log(`wrote ${file}: the base model's samples (${CURATED_VAL_GRID_TEXT})`);
  } finally {
    await pool?.stop();
    model.params.dispose();
  }
}

/** Score a model on each prompt set (skipping sets already scored) and, when asked, draw its grid. */
async function evaluateUnit(
  preset: ReproPreset,
  modelDir: string,
  dir: string,
  prompts: Record<PromptSetName, ReturnType<typeof readPromptSet>>,
  judges: { context: EvalContext; hashes: { contrastive: string; realism: string } },
  opts: ReproduceOptions,
  gridPrompts: readonly string[],
  withGrid: boolean,
  log: (line: string) => void,
): Promise<void> {
  const { model, schedule, file } = loadModel(modelDir);
  const pool = await startPool(model, schedule, opts.workers ?? 1);
  try {
    for (const set of PROMPT_SETS) {
      const out = join(dir, `eval-${set}.json`);
      // A set scored before a crash counts only if it scored these very weights.
      if (existsSync(out) && scoredSha256(out) === file.weightsManifest.sha256) continue;
      const result: EvalResult = await evaluate(model, schedule, { dir: modelDir, sha256: file.weightsManifest.sha256 }, set, prompts[set], judges.context, judges.hashes, {
        sampling: preset.eval.sampling,
        cacheDir: join(opts.work, 'eval-cache'),
        pool,
      });
      writeFileAtomic(out, `${JSON.stringify(result)}\n`);
      const cells = metricCells(result, metrics());
      log(
        `  ${set}: ${metrics()
          .map((m, k) => `${m.name} ${cells[k]}${m.column.endsWith('%') ? '%' : ''}`)
          .join('  ')}`,
      );
    }
    if (withGrid && !existsSync(join(dir, 'grid.json'))) {
      const images = await sampleImages(model, schedule, gridPrompts, preset.grid.seeds, { ...preset.eval.sampling, pool });
      const record: GridRecord = { prompts: [...gridPrompts], seeds: preset.grid.seeds, resolution: model.config.resolution, sampling: preset.eval.sampling };
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
