import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { extname, join } from 'node:path';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { BackendName } from '../backend.js';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { readModelFile } from '../model/modelFile.js';
import { identityDifferences, reproIdentity } from '../repro/reproIdentity.js';
import type { UnitProgress } from '../repro/reproUnit.js';
import { BASE_S_NAME, parseUnitName, type ReproIdentity } from '../repro/reproUnits.js';
import { lockRunFolder } from '../runs/runLock.js';
import { sha256 } from '../util/sha256.js';
import { codeVersion } from './codeVersion.js';
import type { QueueConnection } from './queueConnection.js';
import { QUEUE_NAME, readRecordFiles, reproIdentityKey, type JobRecords, type QueueJob, type ReproUnitJob, type TuneRunJob } from './queueJobs.js';
import { openData, type DataPlace, type UnitMessage, type UnitTask } from './unitProcess.js';

export interface QueueWorkerOptions extends DataPlace {
  connection: QueueConnection;
  /** This worker's own folder: each job's bulky state (models, image cache), kept so that a restarted worker resumes a unit. Locked while the worker runs. */
  work: string;
  /** Base-S's folder (a tuning run's base) and the judges to use instead of the job's paths (read in this checkout). */
  base?: string;
  judges?: string;
  backend?: BackendName;
  /** Threads per unit (default: the machine's cores, as a local run). */
  workers?: number;
  /** A job whose worker has not renewed its lock for this long is stalled: another worker reruns it. */
  stalledSeconds: number;
  log: (line: string) => void;
}

/** How long a refused job waits before any worker may take it again: it lets the others reach it first. */
const REFUSED_DELAY_MS = 5000;

/** How often a stalled job may be taken back before it fails (a worker that dies at every attempt means the unit kills it). */
const MAX_STALLS = 2;

/**
 * Take jobs from the queue one at a time until SIGINT or SIGTERM: check that this checkout is the
 * one the job was made for (refusing it otherwise, so that nothing mixes), run it in a child
 * process with all of the machine's cores, report its progress to the job and return its small
 * records to the coordinator.
 */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  const release = lockRunFolder(opts.work);
  const me = `${hostname()}:${process.pid}`;
  const code = codeVersion();
  const log = (line: string): void => opts.log(`worker ${me}: ${line}`);
  // Per (preset, base, judges): this checkout's identity, worked out once (it reads the judges' and data's manifests).
  const identities = new Map<string, ReproIdentity>();
  const dataAt = new Map<number, EmojiT2I>();
  const refused = new Set<string>();
  let child: ChildProcess | undefined;

  const data = async (resolution: number): Promise<EmojiT2I> => {
    const have = dataAt.get(resolution);
    if (have) return have;
    const opened = await openData(opts, resolution, log);
    dataAt.set(resolution, opened);
    return opened;
  };

  /** Put the job back for another worker, saying why (once per job in this worker's log; each time in the job's log). */
  const refuse = async (job: Job<QueueJob, JobRecords>, token: string | undefined, why: string): Promise<never> => {
    const message = `refused job ${job.id} (${what(job.data)}): ${why}; left on the queue for another worker`;
    if (!refused.has(job.id as string)) log(message);
    refused.add(job.id as string);
    await job.log(`${me}: ${message}`);
    await job.moveToDelayed(Date.now() + REFUSED_DELAY_MS, token);
    throw new DelayedError();
  };

  const runChild = (task: UnitTask, job: Job<QueueJob, JobRecords>): Promise<void> =>
    new Promise((resolve, reject) => {
      // The same runtime flags as this process (--no-liftoff; tsx under the tests).
      child = fork(join(__dirname, `unitProcess${extname(__filename)}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let finished = false;
      let error: string | undefined;
      child.on('message', (m: UnitMessage) => {
        if (m.type === 'done') finished = true;
        else if (m.type === 'error') error = m.message;
        else if (m.type === 'log') log(m.line);
        else {
          if (shouldLog(m.progress)) log(describeProgress(m.progress));
          job.updateProgress(m.progress as unknown as object).catch(() => undefined);
        }
      });
      child.on('error', reject);
      child.on('exit', (exitCode, signal) => {
        child = undefined;
        if (finished) resolve();
        else reject(new Error(error ?? `the job's process ended with ${signal ?? `exit code ${exitCode}`} before finishing`));
      });
      child.send(task);
    });

  const processRepro = async (job: Job<QueueJob, JobRecords>, token: string | undefined, unitJob: ReproUnitJob): Promise<JobRecords> => {
    // --base names base-S's folder here; the other bases are read where the job says.
    const bases: Record<string, string> = { ...unitJob.bases, ...(opts.base !== undefined ? { [BASE_S_NAME]: opts.base } : {}) };
    const base = bases[parseUnitName(unitJob.unit).base] ?? Object.values(bases)[0] ?? '';
    const judges = opts.judges ?? unitJob.judges;
    const key = JSON.stringify([unitJob.preset, bases, judges]);
    let mine = identities.get(key);
    if (!mine) {
      try {
        mine = reproIdentity(unitJob.preset, await data(readModelFile(base).file.model.resolution), { bases, judges });
      } catch (err) {
        return refuse(job, token, `this checkout cannot read what the job needs: ${(err as Error).message}`);
      }
      identities.set(key, mine);
    }
    const differs = identityDifferences(unitJob.identity, mine).map((d) => detail(d, unitJob.identity, mine as ReproIdentity));
    if (unitJob.codeSha256 !== code) differs.push(`code version (${code.slice(0, 12)} here, ${unitJob.codeSha256.slice(0, 12)} in the job: check out the same commit and configs, then npm ci)`);
    if (differs.length > 0) return refuse(job, token, `this checkout's ${differs.join('; ')} differ from the job's`);
    // One folder per reproduction on this worker: its image cache serves every unit of it.
    const work = join(opts.work, 'reproduce', `${unitJob.preset.name}-${reproIdentityKey(unitJob.identity)}`);
    const out = join(work, 'results');
    const started = Date.now();
    log(`took ${job.id} (${what(unitJob)})`);
    await runChild({ kind: 'repro-unit', preset: unitJob.preset, unit: unitJob.unit, bases, judges, out, work, command: unitJob.command, ...taskFlags(opts) }, job);
    const records: JobRecords = {
      files: readRecordFiles(join(out, 'runs', unitJob.unit)),
      worker: me,
      seconds: (Date.now() - started) / 1000,
    };
    log(`finished ${job.id} in ${records.seconds.toFixed(1)} s`);
    return records;
  };

  const processTune = async (job: Job<QueueJob, JobRecords>, token: string | undefined, tuneJob: TuneRunJob): Promise<JobRecords> => {
    const base = opts.base ?? tuneJob.config.base;
    const differs: string[] = [];
    try {
      const model = readModelFile(base).file;
      const baseSha256 = model.weightsManifest.sha256;
      if (baseSha256 !== tuneJob.baseSha256) differs.push(`base weights (${base}: ${baseSha256.slice(0, 12)} here, ${tuneJob.baseSha256.slice(0, 12)} in the job)`);
      const dataSha256 = sha256(JSON.stringify((await data(model.model.resolution)).manifest));
      if (dataSha256 !== tuneJob.dataSha256) differs.push(`data build (${dataSha256.slice(0, 12)} here, ${tuneJob.dataSha256.slice(0, 12)} in the job)`);
    } catch (err) {
      return refuse(job, token, `this checkout cannot read what the job needs: ${(err as Error).message}`);
    }
    if (tuneJob.codeSha256 !== code) differs.push(`code version (${code.slice(0, 12)} here, ${tuneJob.codeSha256.slice(0, 12)} in the job)`);
    if (differs.length > 0) return refuse(job, token, `this checkout's ${differs.join('; ')} differ from the job's`);
    const runDir = join(opts.work, 'tune', job.id as string);
    const started = Date.now();
    log(`took ${job.id} (${what(tuneJob)})`);
    await runChild({ kind: 'tune-run', name: tuneJob.name, config: { ...tuneJob.config, base }, runDir, command: tuneJob.command, ...taskFlags(opts) }, job);
    return { files: readRecordFiles(runDir, ['config.json', 'metrics.jsonl', 'heldout.jsonl']), worker: me, seconds: (Date.now() - started) / 1000 };
  };

  const worker = new Worker<QueueJob, JobRecords>(QUEUE_NAME, async (job, token) => (job.data.kind === 'repro-unit' ? processRepro(job, token, job.data) : processTune(job, token, job.data)), {
    connection: opts.connection.options,
    name: me,
    concurrency: 1,
    lockDuration: opts.stalledSeconds * 1000,
    stalledInterval: opts.stalledSeconds * 1000,
    maxStalledCount: MAX_STALLS,
  });
  worker.on('failed', (job, err) => {
    if (job) log(`${job.id} failed (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}): ${err.message}`);
  });
  worker.on('error', (err) => log(`queue error: ${err.message}`));
  log(`waiting for jobs on ${opts.connection.shown} (work folder ${opts.work}; a unit stalls after ${opts.stalledSeconds} s without this worker)`);
  try {
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log(`${signal}: stopping; a unit in progress returns to the queue within ${opts.stalledSeconds} s, and resumes from its state if this worker takes it again`);
        child?.kill('SIGKILL');
        worker.close(true).finally(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  } finally {
    release();
  }
}

/** The worker's own flags a unit's process takes. */
function taskFlags(opts: QueueWorkerOptions): Pick<UnitTask, 'backend' | 'workers' | 'dataRoot' | 'dataConfig'> {
  return {
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.dataRoot !== undefined ? { dataRoot: opts.dataRoot } : {}),
    ...(opts.dataConfig !== undefined ? { dataConfig: opts.dataConfig } : {}),
  };
}

/** "unit dpo-s1 of quick", "tuning run self-dpo-lr1e-5-...". */
function what(job: QueueJob): string {
  return job.kind === 'repro-unit' ? `unit ${job.unit} of ${job.preset.name}` : `tuning run ${job.name}`;
}

/** One difference with the two values where they are short enough to say. */
function detail(word: string, job: ReproIdentity, mine: ReproIdentity): string {
  if (word === 'base weights') {
    const names = Object.keys(job.bases).filter((n) => job.bases[n]?.sha256 !== mine.bases[n]?.sha256);
    return `base weights (${names.map((n) => `${mine.bases[n]?.dir ?? n}: ${String(mine.bases[n]?.sha256).slice(0, 12)} here, ${String(job.bases[n]?.sha256).slice(0, 12)} in the job`).join('; ')})`;
  }
  if (word === 'data build') return `data build (${mine.dataSha256.slice(0, 12)} here, ${job.dataSha256.slice(0, 12)} in the job)`;
  if (word === 'Emoji-Pick build') return `Emoji-Pick build (${mine.pick}: ${mine.pickSha256.slice(0, 12)} here, ${String(job.pickSha256).slice(0, 12)} in the job)`;
  if (word === 'judges') {
    const names = Object.keys(job.judges).filter((n) => job.judges[n] !== mine.judges[n]);
    return `judges (${names.join(', ')})`;
  }
  return word;
}

/** "dpo-s1: train step 3/24", "dpo-s1: eval unseen-concepts (2/3)". */
export function describeProgress(p: UnitProgress): string {
  if (p.phase === 'eval') return `${p.unit}: eval ${p.set ?? ''} (${(p.done ?? 0) + 1}/${p.of ?? '?'})`;
  if (p.phase === 'grid') return `${p.unit}: grid`;
  return `${p.unit}: train step ${p.done ?? '?'}/${p.of ?? '?'}`;
}

/** About ten lines per phase: the first step, every tenth and the last. */
function shouldLog(p: UnitProgress): boolean {
  if (p.done === undefined || p.of === undefined || p.phase === 'eval') return true;
  return p.done === 1 || p.done === p.of || p.done % Math.max(1, Math.ceil(p.of / 10)) === 0;
}
