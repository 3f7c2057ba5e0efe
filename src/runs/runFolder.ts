import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nativeKernelsStatus } from '../kernels/index.js';
import { savedStep } from '../optim/trainState.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { JsonLines } from './progress.js';
import { RUN_LOCK } from './runLock.js';

/** One command that worked on a run: which, from which step, on what. */
export interface Invocation {
  command: string | null;
  fromStep: number;
  workers: number;
  backend: string;
  /** The kernels under the backend ("native kernels: OpenBLAS 0.3.21, core Haswell"): OPENBLAS_CORETYPE changes the numbers' last bits. */
  kernels: string;
  started: string;
  [more: string]: unknown;
}

/** What a run folder's config.json held when the run was opened (undefined for a new run). */
export interface SavedRun<C> {
  config: C;
  invocations: Invocation[];
  record: Record<string, unknown>;
}

/**
 * Open `runDir` for a training run (docs/DESIGN.md convention 7), under its lock
 * (`withRunLock`): `force` empties it first; a
 * config.json that exists must describe the same run (`sameRun`), else the error says to pass
 * --force or choose another --out; a training state without a config.json is refused. Returns
 * what config.json held, so the caller can check more and append its invocation.
 */
export function openRunFolder<C>(runDir: string, config: C, opts: { force?: boolean; sameRun: (saved: C, now: C) => boolean }): SavedRun<C> | undefined {
  const configPath = join(runDir, 'config.json');
  // --force empties the folder but keeps its lock (taken by the caller, withRunLock).
  if (existsSync(runDir) && opts.force) for (const entry of readdirSync(runDir)) if (entry !== RUN_LOCK) rmSync(join(runDir, entry), { recursive: true, force: true });
  let saved: SavedRun<C> | undefined;
  if (existsSync(configPath)) {
    let record: Record<string, unknown> & { config: C; invocations?: Invocation[] };
    try {
      record = readJsonFile(configPath, 'run config') as typeof record;
    } catch (err) {
      // Without it the run cannot be checked against this config: resuming blind could mix two runs.
      throw new Error(`${(err as Error).message}; the run's config cannot be read, so it cannot be resumed: pass --force to start it over, or choose another --out`);
    }
    if (typeof record !== 'object' || record === null || typeof record.config !== 'object') throw new Error(`${configPath}: not a run's config (no "config" key); pass --force to start the run over, or choose another --out`);
    if (!opts.sameRun(record.config, config)) throw new Error(`${configPath}: this run was made with a different config; pass --force to start it over, or choose another --out`);
    saved = { config: record.config, invocations: record.invocations ?? [], record };
  } else if (existsSync(runDir) && savedStep(join(runDir, 'state')) !== undefined) {
    throw new Error(`${runDir} holds a training state but no config.json; pass --force to start over`);
  }
  mkdirSync(runDir, { recursive: true });
  return saved;
}

/** This process's invocation record, from `fromStep` (the backend is the one active now). */
export function invocation(command: string | undefined, fromStep: number, workers: number, more: Record<string, unknown> = {}): Invocation {
  return { command: command ?? null, fromStep, ...more, workers, backend: tf.getBackend(), kernels: nativeKernelsStatus(), started: new Date().toISOString() };
}

/** Write config.json (atomically): `record` plus every earlier invocation and this one. */
export function writeRunConfig(runDir: string, record: Record<string, unknown>, earlier: readonly Invocation[], now: Invocation): void {
  writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify({ ...record, invocations: [...earlier, now] }, null, 1)}\n`);
}

/**
 * A run's logs (metrics.jsonl, heldout.jsonl) brought to the step it restarts from. Without a
 * loaded state the run starts afresh and they are emptied (a killed first attempt leaves lines
 * that would be written twice); after a resume, lines past the checkpoint are dropped and
 * metrics.jsonl must hold every step from `firstStep` to `step`, else the error names the
 * missing steps (a cut log would leave a hole for good).
 */
export function resumeLogs(runDir: string, fromState: boolean, step: number, firstStep: number): { metrics: JsonLines; heldout: JsonLines } {
  const metrics = new JsonLines(join(runDir, 'metrics.jsonl'));
  const heldout = new JsonLines(join(runDir, 'heldout.jsonl'));
  const keep = fromState ? step : -Infinity;
  metrics.truncateAfter(keep);
  heldout.truncateAfter(keep);
  if (fromState) {
    const steps = metrics.read().map((r) => r['step']);
    const missing: number[] = [];
    for (let s = firstStep, k = 0; s <= step; s++) {
      if (steps[k] === s) k++;
      else missing.push(s);
    }
    if (missing.length > 0 || steps.length !== step - firstStep + 1) {
      const range = missing.length > 0 ? `steps ${missing[0]}-${missing[missing.length - 1]} (${missing.length} in all) are missing` : 'its steps are out of order';
      throw new Error(`${metrics.path}: ${range}, though the state is at step ${step}; the log was cut or edited. Pass --force to start the run over`);
    }
  }
  return { metrics, heldout };
}

/**
 * Check that a resumed run's log holds one record at each step of `expected` (the steps at which
 * the run wrote it, up to its state's step) and nothing else: a cut or edited held-out log would
 * otherwise keep a hole, or a record twice, for good. The error names the file and the steps.
 */
export function checkLoggedSteps(log: JsonLines, expected: readonly number[], stateStep: number): void {
  const steps = log.read().map((r) => r['step']);
  if (JSON.stringify(steps) === JSON.stringify(expected)) return;
  const missing = expected.filter((s) => !steps.includes(s));
  const twice = steps.filter((s, i) => steps.indexOf(s) !== i);
  const extra = steps.filter((s) => !expected.includes(s as number));
  const what = [
    missing.length > 0 ? `no record at step${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : '',
    twice.length > 0 ? `step${twice.length > 1 ? 's' : ''} ${twice.join(', ')} recorded twice` : '',
    extra.length > 0 ? `records at unexpected step${extra.length > 1 ? 's' : ''} ${extra.join(', ')}` : '',
  ].filter((x) => x !== '');
  throw new Error(`${log.path}: ${what.length > 0 ? what.join('; ') : 'its records are out of order'}, though the state is at step ${stateStep}; the log was cut or edited. Pass --force to start the run over`);
}
