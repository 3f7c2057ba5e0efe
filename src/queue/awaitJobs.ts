import type { Job, Queue } from 'bullmq';
import type { UnitProgress } from '../repro/reproUnit.js';
import { describeProgress } from './queueWorker.js';
import type { JobRecords, QueueJob } from './queueJobs.js';

/** A job that finished on a worker, as the coordinator sees it. */
interface LandedJob {
  job: Job<QueueJob, JobRecords>;
  records: JobRecords;
}

/**
 * Wait until every job of `ids` (name -> job id) has completed or failed for good, calling
 * `land` once for each completed one as it comes (the coordinator writes its records there),
 * and print what changes: who runs what, how far. Throws, after the others have landed, naming
 * the units that failed with their errors and the command that requeues them.
 */
export async function awaitJobs(
  queue: Queue<QueueJob, JobRecords>,
  ids: ReadonlyMap<string, string>,
  land: (name: string, landed: LandedJob) => void,
  log: (line: string) => void,
  opts: { pollMs: number; retryCommand: string },
): Promise<void> {
  const pending = new Set(ids.keys());
  const failed = new Map<string, string>();
  const said = new Map<string, string>();
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const id = ids.get(name) as string;
      // The state first, then the job: a job read first may complete before its state is asked, and lack its records.
      const state = await queue.getJobState(id);
      const job = (await queue.getJob(id)) as Job<QueueJob, JobRecords> | undefined;
      if (!job || state === 'unknown') throw new Error(`job ${id} (${name}) is gone from the queue; rerun this command to enqueue it again`);
      if (state === 'completed') {
        land(name, { job, records: job.returnvalue });
        pending.delete(name);
      } else if (state === 'failed') {
        failed.set(name, job.failedReason);
        log(`${name} failed after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
        pending.delete(name);
      } else {
        const progress = job.progress as unknown as UnitProgress | number;
        const line = state === 'active' && typeof progress === 'object' ? `${describeProgress(progress)} (${job.processedBy ?? 'a worker'})` : `${name}: ${state}`;
        if (said.get(name) !== line) log(line);
        said.set(name, line);
      }
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, opts.pollMs));
  }
  if (failed.size > 0) {
    const list = [...failed].map(([name, why]) => `${name}: ${why}`).join('; ');
    throw new Error(`${failed.size} job(s) failed on the queue (${list}); requeue them with \`${opts.retryCommand}\`, then rerun this command to collect them`);
  }
}
