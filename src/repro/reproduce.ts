import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { CURATED_VAL_GRID_TEXT, renderCuratedValGrid } from '../report/curatedValGrid.js';
import { JsonLines } from '../runs/progress.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { baseDirs, type ReproPreset } from './reproPresets.js';
import { writeReproReport } from './reproReport.js';
import { PICK_BUILD_RECORD, presetUnitNames, type ReproIdentity, type ReproRecord, type UnitDone } from './reproUnits.js';
import { RUN_LOCK, withRunLock } from '../runs/runLock.js';
import { checkIdentity, reproIdentity } from './reproIdentity.js';
import { runReproUnit, unitContext } from './reproUnit.js';
import { describeTimeLeft, unitTimeLeft } from './unitTimeLeft.js';

export interface ReproduceOptions {
  /** Where the committed results go (results/<preset>): tables, charts, grids, and each unit's small records. */
  out: string;
  /** Where the bulky state goes (runs/reproduce/<preset>): trained models, the eval image cache. */
  work: string;
  /** Each base's folder by name where it is not the preset's (`--base` for base-S, `--base-l` for base-L). */
  bases?: Record<string, string>;
  /** The judges' directory (data/judges: eval, annotator, realism). */
  judges: string;
  workers?: number;
  /** Start over: delete `out` and `work` first. */
  force?: boolean;
  command?: string;
  log?: (line: string) => void;
  /**
   * Before any unit, the first base's curated-val grid (as results/base-s/samples.png) into this
   * PNG, unless it is there: `npm start` shows the model within its first minutes.
   */
  baseGrid?: string;
}

/**
 * The whole protocol (docs/PROTOCOL.md): every method on every seed from the same base (the
 * paper's on the preset's Emoji-Pick build, Table 5's on the web set, the extra regime on the
 * curated set), every model (the base included) evaluated on the three prompt sets with shared
 * per-prompt seeds, then Tables 1-5, the curated-set table, Figure 5 and the sample grids.
 *
 * Work is done in units (the base's evaluation, then one unit per method and seed: train,
 * evaluate, draw its grid); a finished unit leaves its small records in `out/runs/<unit>/`
 * with done.json, and a rerun skips it. An unfinished unit resumes its training from the last
 * checkpoint and skips the prompt sets already scored. A missing or unfinished Emoji-Pick build
 * is an error before anything runs. A run made from other base weights, judges, preset or
 * Emoji-Pick build is refused unless `force`.
 */
export function reproduce(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions): Promise<string[]> {
  // One process per reproduction: the lock lives in the work folder, which is never committed.
  return withRunLock(opts.work, () => reproduceLocked(preset, data, opts));
}

/** `reproduce` with its work folder's lock held. */
async function reproduceLocked(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions): Promise<string[]> {
  const log = opts.log ?? ((line: string): void => console.error(line));
  openReproduction(preset, data, opts, { command: opts.command ?? null, started: new Date().toISOString(), threads: opts.workers ?? 1 });
  const events = new JsonLines(join(opts.work, 'reproduce.jsonl'));
  const ctx = unitContext(preset, data, opts, log);
  const units = presetUnitNames(preset);
  const isDone = (unit: string): boolean => existsSync(join(opts.out, 'runs', unit, 'done.json'));
  if (opts.baseGrid !== undefined && !existsSync(opts.baseGrid)) await drawBaseGrid(data, opts.baseGrid, baseDirs(preset, opts.bases)[preset.bases[0]?.name ?? ''] as string, opts, log);
  // The time left is paced by the units run here (their wall time; the base grid comes once),
  // and until they have run by those finished before (an earlier session's, another machine's):
  // their recorded training and evaluation time, about a tenth under their wall time.
  const seconds = new Map(
    units.filter(isDone).map((unit) => {
      const done = readJsonFile(join(opts.out, 'runs', unit, 'done.json'), 'done.json') as UnitDone;
      return [unit, done.trainSeconds + done.evalSeconds];
    }),
  );
  for (const unit of units) {
    if (isDone(unit)) continue;
    const left = units.filter((u) => !isDone(u));
    const timeLeft = unitTimeLeft(left, seconds);
    log(`[${units.length - left.length + 1}/${units.length}] ${unit}${timeLeft ? `, ${describeTimeLeft(timeLeft)}` : ''}`);
    const started = Date.now();
    const record = await runReproUnit(ctx, unit);
    events.append({ ...record });
    seconds.set(unit, (Date.now() - started) / 1000);
  }
  log(`every unit is done; writing the tables and figures into ${opts.out}`);
  return [...(opts.baseGrid !== undefined ? [opts.baseGrid] : []), ...(await writeReproReport(opts.out))];
}

/**
 * Open a reproduction's folders for one more command: start over on --force, refuse another
 * identity, add the command to preset.json's invocations, and keep the Emoji-Pick build's record
 * beside it (its cost is Table 1's price of preference data). The caller holds the work folder's lock.
 */
export function openReproduction(preset: ReproPreset, data: EmojiT2I, opts: ReproduceOptions, invocation: ReproRecord['invocations'][number]): ReproIdentity {
  const identity = reproIdentity(preset, data, opts);
  if (opts.force) startOver(opts);
  checkIdentity(join(opts.out, 'preset.json'), identity);
  mkdirSync(join(opts.out, 'runs'), { recursive: true });
  mkdirSync(opts.work, { recursive: true });
  const saved = existsSync(join(opts.out, 'preset.json')) ? (readJsonFile(join(opts.out, 'preset.json'), 'preset.json') as { invocations?: unknown[] }) : {};
  writeFileAtomic(join(opts.out, 'preset.json'), `${JSON.stringify({ ...identity, invocations: [...(saved.invocations ?? []), invocation] }, null, 1)}\n`);
  writeFileAtomic(join(opts.out, PICK_BUILD_RECORD), readFileSync(join(preset.pick, 'build.json')));
  return identity;
}

/** --force: delete the results and work folders, but only ones that hold a reproduction (or nothing). */
function startOver(opts: ReproduceOptions): void {
  for (const [dir, mark] of [
    [opts.out, 'preset.json'],
    [opts.work, 'reproduce.jsonl'],
  ] as const) {
    if (!existsSync(dir)) continue;
    // The work folder's lock is this process's own: it stays. A work folder inside the results
    // folder (npm start's) is emptied in its own turn: the lock made it before preset.json existed.
    const workInside = resolve(dirname(opts.work)) === resolve(dir) ? basename(opts.work) : undefined;
    const entries = readdirSync(dir).filter((e) => e !== RUN_LOCK && e !== workInside);
    if (!existsSync(join(dir, mark)) && entries.length > 0) throw new Error(`--force: ${dir} is not a reproduction's folder (it has no ${mark}); not deleting it`);
    for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/** The base's curated-val grid into `file` (npm start's first output). */
async function drawBaseGrid(data: EmojiT2I, file: string, base: string, opts: ReproduceOptions, log: (line: string) => void): Promise<void> {
  const { model, schedule } = loadModel(base);
  const pool = await startPool(model, schedule, opts.workers ?? 1);
  try {
    const png = await renderCuratedValGrid(model, schedule, data, { title: `${base}: ${CURATED_VAL_GRID_TEXT}`, pool });
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, png);
    log(`wrote ${file}: the base model's samples (${CURATED_VAL_GRID_TEXT})`);
  } finally {
    await pool?.stop();
    model.params.dispose();
  }
}
