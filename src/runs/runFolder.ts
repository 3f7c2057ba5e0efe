import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { savedStep } from '../optim/trainState.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { RUN_LOCK } from './runLock.js';

/** One command that worked on a run: which, from which step, on what. */
export interface Invocation {
  command: string | null;
  fromStep: number;
  workers: number;
  backend: string;
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
    const record = readJsonFile(configPath, 'run config') as Record<string, unknown> & { config: C; invocations?: Invocation[] };
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
  return { command: command ?? null, fromStep, ...more, workers, backend: tf.getBackend(), started: new Date().toISOString() };
}

/** Write config.json (atomically): `record` plus every earlier invocation and this one. */
export function writeRunConfig(runDir: string, record: Record<string, unknown>, earlier: readonly Invocation[], now: Invocation): void {
  writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify({ ...record, invocations: [...earlier, now] }, null, 1)}\n`);
}
