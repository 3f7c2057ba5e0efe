import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReproPreset } from '../repro/reproPresets.js';
import type { ReproIdentity } from '../repro/reproUnits.js';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { sha256 } from '../util/sha256.js';

/** The one BullMQ queue every reproduction unit and tuning run goes through. */
export const QUEUE_NAME = 'selfdpo';

/** A reproduction's unit: a worker trains and evaluates it and returns its small records. */
export interface ReproUnitJob {
  kind: 'repro-unit';
  unit: string;
  preset: ReproPreset;
  /** The enqueuing checkout's folder of each base (by name) and of the judges; a worker reads the same paths in its own checkout unless told otherwise. */
  bases: Record<string, string>;
  judges: string;
  /** What the unit's results depend on: a worker whose checkout differs refuses the job. */
  identity: ReproIdentity;
  codeSha256: string;
  command: string;
}

/** One setting of a tuning sweep: a worker trains it and returns its records. */
export interface TuneRunJob {
  kind: 'tune-run';
  /** The run's name in results/tuning/runs/. */
  name: string;
  /** The resolved config; its `base` is the enqueuing checkout's path. */
  config: PostTrainConfig;
  baseSha256: string;
  dataSha256: string;
  codeSha256: string;
  command: string;
}

export type QueueJob = ReproUnitJob | TuneRunJob;

/** A file of a unit's records: text as it is, binary (grid.rgb) as base64. */
export type RecordFile = { text: string } | { base64: string };

/** What a worker returns for a job: the records' files by name, and who made them. */
export interface JobRecords {
  files: Record<string, RecordFile>;
  /** host:pid of the worker. */
  worker: string;
  /** Wall time of the job on its worker, seconds. */
  seconds: number;
}

/**
 * The bases' weights as a job id hashes them: a reproduction of base-S alone as `baseSha256`, the
 * key its ids had before base-L joined (its finished jobs stay its own), several bases by name.
 */
function baseWeights(identity: ReproIdentity): { baseSha256: string } | { bases: Record<string, string> } {
  const names = Object.keys(identity.bases);
  if (names.length === 1) return { baseSha256: (identity.bases[names[0] as string] as { sha256: string }).sha256 };
  return { bases: Object.fromEntries(names.map((n) => [n, (identity.bases[n] as { sha256: string }).sha256])) };
}

/** Hash of a JSON value, short: part of a job id. */
function shortHash(value: unknown): string {
  return sha256(JSON.stringify(value)).slice(0, 16);
}

/**
 * A unit's job id: its identity (the preset's settings, the unit's method and seed, the base's
 * and judges' weights, the method configs and the data build), so that enqueueing a preset twice
 * adds nothing and a finished unit is never rerun. BullMQ ids may not hold ':'.
 */
export function reproJobId(identity: ReproIdentity, unit: string): string {
  const { purpose: _purpose, ...preset } = identity.preset;
  const key = { preset, unit, ...baseWeights(identity), judges: identity.judges, configsSha256: identity.configsSha256, dataSha256: identity.dataSha256 };
  return `${identity.preset.name}.${unit}.${shortHash(key)}`;
}

/** A tuning run's job id: its resolved config (base path left out), the base's weights and the data build. */
export function tuneJobId(job: Pick<TuneRunJob, 'name' | 'config' | 'baseSha256' | 'dataSha256'>): string {
  const { base: _base, ...config } = job.config;
  return `tune.${job.name}.${shortHash({ config, baseSha256: job.baseSha256, dataSha256: job.dataSha256 })}`;
}

/** The files of a records folder (not its subfolders, locks or temp files) for a job's return value. */
export function readRecordFiles(dir: string, names?: readonly string[]): Record<string, RecordFile> {
  const files: Record<string, RecordFile> = {};
  const wanted = names ?? readdirSync(dir).filter((f) => !f.startsWith('.') && !f.endsWith('.tmp'));
  for (const name of wanted) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    files[name] = name.endsWith('.rgb') ? { base64: readFileSync(path).toString('base64') } : { text: readFileSync(path, 'utf8') };
  }
  return files;
}

/** Write a job's record files into `dir`, each atomically, `last` (done.json: the mark of a finished unit) after the others. */
export function writeRecordFiles(dir: string, files: Record<string, RecordFile>, last?: string): void {
  const names = Object.keys(files).sort((a, b) => Number(a === last) - Number(b === last));
  for (const name of names) {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`a job's records name a file "${name}" outside its folder; not writing it`);
    const file = files[name] as RecordFile;
    writeFileAtomic(join(dir, name), 'text' in file ? file.text : Buffer.from(file.base64, 'base64'));
  }
}

/** A reproduction's identity, short (a worker's folder for its units): what reproJobId hashes, without the unit. */
export function reproIdentityKey(identity: ReproIdentity): string {
  const { purpose: _purpose, ...preset } = identity.preset;
  return shortHash({ preset, ...baseWeights(identity), judges: identity.judges, configsSha256: identity.configsSha256, dataSha256: identity.dataSha256 });
}
