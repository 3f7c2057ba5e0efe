import { Queue, type Job } from 'bullmq';
import type { UnitProgress } from '../repro/reproUnit.js';
import { formatDuration } from '../runs/progress.js';
import type { QueueConnection } from './queueConnection.js';
import { QUEUE_NAME, type JobRecords, type QueueJob } from './queueJobs.js';
import { describeProgress } from './queueWorker.js';
import { describeTimeLeft, unitTimeLeft, type UnitTimeLeft } from '../repro/unitTimeLeft.js';

export type QueueJobOf = Job<QueueJob, JobRecords>;

/** "quick (reproduction)", "tuning": the group a job is counted in. */
function groupOf(job: QueueJobOf): string {
  return job.data.kind === 'repro-unit' ? `${job.data.preset.name} (reproduction)` : 'tuning';
}

function nameOf(job: QueueJobOf): string {
  return job.data.kind === 'repro-unit' ? job.data.unit : job.data.name;
}

/**
 * The time the jobs `left` will take over `workers` workers, from the `times` of the jobs done: a
 * reproduction's units priced by their base and method (`unitTimeLeft`), tuning runs at their mean.
 */
export function timeLeft(left: readonly QueueJobOf[], times: ReadonlyMap<string, number>, workers: number): string {
  if (left.every((j) => j.data.kind === 'repro-unit')) return describeTimeLeft(unitTimeLeft(left.map(nameOf), times) as UnitTimeLeft, workers);
  const mean = [...times.values()].reduce((a, b) => a + b, 0) / times.size;
  return `about ${formatDuration((mean * left.length) / workers)} left (${formatDuration(mean)} per run)`;
}

/**
 * What the queue holds, per reproduction preset (and tuning): units done, running (where, how
 * far), waiting (with the last refusal, if a worker refused one) and failed (with the error),
 * and the time left (`timeLeft`) over the workers connected.
 */
export async function queueStatus(connection: QueueConnection): Promise<string> {
  const queue = new Queue<QueueJob, JobRecords>(QUEUE_NAME, { connection: connection.options });
  try {
    const states = ['completed', 'active', 'waiting', 'delayed', 'prioritized', 'failed'] as const;
    const byState = await Promise.all(states.map(async (s) => [s, (await queue.getJobs(s, 0, -1)) as unknown as QueueJobOf[]] as const));
    const workers = (await queue.getWorkers()).length;
    const groups = new Map<string, Record<'done' | 'running' | 'waiting' | 'failed', QueueJobOf[]>>();
    for (const [state, jobs] of byState) {
      for (const job of jobs) {
        const g = groups.get(groupOf(job)) ?? { done: [], running: [], waiting: [], failed: [] };
        groups.set(groupOf(job), g);
        (state === 'completed' ? g.done : state === 'active' ? g.running : state === 'failed' ? g.failed : g.waiting).push(job);
      }
    }
    const lines = [`queue ${connection.shown}: ${workers} worker(s) connected`];
    if (groups.size === 0) lines.push('  no jobs');
    for (const [group, g] of groups) {
      const times = new Map(g.done.map((j) => [nameOf(j), ((j.finishedOn ?? 0) - (j.processedOn ?? 0)) / 1000] as const).filter(([, t]) => t > 0));
      const left = [...g.running, ...g.waiting];
      const eta = left.length === 0 ? 'nothing left' : times.size > 0 && workers > 0 ? timeLeft(left, times, workers) : 'time left unknown until a unit finishes with a worker connected';
      lines.push(`${group}: ${g.done.length} done, ${g.running.length} running, ${g.waiting.length} waiting, ${g.failed.length} failed; ${eta}`);
      for (const job of g.running) {
        const p = job.progress as unknown as UnitProgress | number;
        lines.push(`  running  ${typeof p === 'object' ? describeProgress(p) : nameOf(job)}  on ${job.processedBy ?? '?'}, attempt ${job.attemptsStarted}`);
      }
      for (const job of g.waiting) {
        const logs = await queue.getJobLogs(job.id as string, -1, -1);
        lines.push(`  waiting  ${nameOf(job)}${logs.logs[0] ? `  (${logs.logs[0]})` : ''}`);
      }
      for (const job of g.failed) lines.push(`  failed   ${nameOf(job)} after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
    }
    return lines.join('\n');
  } finally {
    await queue.close();
  }
}

/** Requeue every failed job (from its first attempt); returns what was requeued. */
export async function retryFailed(connection: QueueConnection): Promise<string[]> {
  const queue = new Queue<QueueJob, JobRecords>(QUEUE_NAME, { connection: connection.options });
  try {
    const failed = (await queue.getJobs('failed', 0, -1)) as unknown as QueueJobOf[];
    for (const job of failed) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return failed.map((j) => `${groupOf(j)}: ${nameOf(j)} (${j.id})`);
  } finally {
    await queue.close();
  }
}
