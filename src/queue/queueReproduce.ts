import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { openReproduction, type ReproduceOptions } from '../repro/reproduce.js';
import { baseDirs, type ReproPreset } from '../repro/reproPresets.js';
import { writeReproReport } from '../repro/reproReport.js';
import { presetUnitNames, type UnitDone } from '../repro/reproUnits.js';
import { JsonLines } from '../runs/progress.js';
import { withRunLock } from '../runs/runLock.js';
import { awaitJobs } from './awaitJobs.js';
import { codeVersion } from './codeVersion.js';
import type { QueueConnection } from './queueConnection.js';
import { QUEUE_NAME, reproJobId, writeRecordFiles, type JobRecords, type QueueJob, type ReproUnitJob } from './queueJobs.js';

export interface QueueReproduceOptions extends Omit<ReproduceOptions, 'force' | 'baseGrid' | 'workers'> {
  connection: QueueConnection;
  /** Attempts per unit before it is marked failed with its error. */
  attempts: number;
  /** How often the coordinator looks at its jobs. */
  pollMs?: number;
}

/**
 * The reproduction with its units run by queue workers (`npm run worker`) anywhere: enqueue every
 * unit not finished here (job id = the unit's identity, so enqueueing again adds nothing), write
 * each unit's records into `out/runs/<unit>/` as it lands, exactly as a local run leaves them,
 * then the report. Holds the work folder's lock, as a local run does: one coordinator per reproduction.
 */
export function reproduceOnQueue(preset: ReproPreset, data: EmojiT2I, opts: QueueReproduceOptions): Promise<string[]> {
  return withRunLock(opts.work, () => coordinate(preset, data, opts));
}

async function coordinate(preset: ReproPreset, data: EmojiT2I, opts: QueueReproduceOptions): Promise<string[]> {
  const log = opts.log ?? ((line: string): void => console.error(line));
  const command = opts.command ?? `npm run reproduce -- --preset ${preset.name} --queue ${opts.connection.shown}`;
  const identity = openReproduction(preset, data, opts, { command, started: new Date().toISOString(), threads: 0, queue: opts.connection.shown });
  const code = codeVersion();
  const isDone = (unit: string): boolean => existsSync(join(opts.out, 'runs', unit, 'done.json'));
  const all = presetUnitNames(preset);
  const units = all.filter((u) => !isDone(u));
  const ids = new Map(units.map((u) => [u, reproJobId(identity, u)]));
  const events = new JsonLines(join(opts.work, 'reproduce.jsonl'));
  const queue = new Queue<QueueJob, JobRecords>(QUEUE_NAME, { connection: opts.connection.options });
  try {
    let added = 0;
    for (const unit of units) {
      const id = ids.get(unit) as string;
      const existing = await queue.getJob(id);
      if (existing) {
        if ((existing.data as ReproUnitJob).codeSha256 !== code) log(`${unit}: its job ${id} was enqueued from other code; only workers on that code take it`);
        continue;
      }
      const job: ReproUnitJob = { kind: 'repro-unit', unit, preset, bases: baseDirs(preset, opts.bases), judges: opts.judges, identity, codeSha256: code, command };
      // Finished jobs stay, with their records: they are the proof that a unit ran, and what a rerun collects.
      await queue.add('repro-unit', job, { jobId: id, attempts: opts.attempts, backoff: { type: 'fixed', delay: 10_000 }, removeOnComplete: false, removeOnFail: false });
      added += 1;
    }
    log(
      `${preset.name}: ${added} unit(s) enqueued on ${opts.connection.shown}, ${units.length - added} already there, ${all.length - units.length} done here; ` +
        `workers take them (npm run worker -- --queue ${opts.connection.shown}); progress: npm run queue -- status --queue ${opts.connection.shown}`,
    );
    let landed = all.length - units.length;
    await awaitJobs(
      queue,
      ids,
      (unit, { job, records }) => {
        const dir = join(opts.out, 'runs', unit);
        // A unit lands once: a second landing (a rerun of this command) finds done.json and leaves it.
        if (isDone(unit)) return;
        const doneFile = records.files['done.json'];
        if (!doneFile || !('text' in doneFile) || (JSON.parse(doneFile.text) as UnitDone).unit !== unit) throw new Error(`job ${job.id}: its records hold no done.json for unit ${unit}`);
        writeRecordFiles(dir, records.files, 'done.json');
        const done = JSON.parse(doneFile.text) as UnitDone;
        const landedAt = Date.now();
        events.append({
          ...done,
          job: job.id,
          worker: records.worker,
          workerSeconds: records.seconds,
          // Added to taken, taken to finished on the worker, finished to written here.
          waitedSeconds: ((job.processedOn ?? job.timestamp) - job.timestamp) / 1000,
          landedAfterSeconds: (landedAt - (job.finishedOn ?? landedAt)) / 1000,
          attemptsStarted: job.attemptsStarted,
          stalled: job.stalledCounter,
        });
        landed += 1;
        log(`[${landed}/${all.length}] ${unit} done by ${records.worker} in ${records.seconds.toFixed(1)} s (train ${done.trainSeconds.toFixed(1)} s, eval ${done.evalSeconds.toFixed(1)} s)`);
      },
      log,
      { pollMs: opts.pollMs ?? 2000, retryCommand: `npm run queue -- retry --queue ${opts.connection.shown}` },
    );
  } finally {
    await queue.close();
  }
  log(`every unit is done; writing the tables and figures into ${opts.out}`);
  return writeReproReport(opts.out);
}
