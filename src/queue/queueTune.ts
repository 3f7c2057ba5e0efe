import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { readModelFile } from '../model/modelFile.js';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { sha256 } from '../util/sha256.js';
import { awaitJobs } from './awaitJobs.js';
import { codeVersion } from './codeVersion.js';
import type { QueueConnection } from './queueConnection.js';
import { QUEUE_NAME, tuneJobId, writeRecordFiles, type JobRecords, type QueueJob, type TuneRunJob } from './queueJobs.js';

/** One setting of a sweep: its run's name, its resolved config, the command that reruns it alone. */
export interface TuneSetting {
  name: string;
  config: PostTrainConfig;
  command: string;
}

/**
 * A tuning sweep with each setting a queue job: enqueue them (id = the setting's identity, so a
 * second enqueue adds nothing), and write each run's records (config.json, metrics.jsonl,
 * heldout.jsonl) into `results/runs/<name>/` as it lands, as a local sweep keeps them.
 */
export async function tuneOnQueue(
  settings: readonly TuneSetting[],
  data: EmojiT2I,
  opts: { results: string; connection: QueueConnection; attempts: number; log: (line: string) => void; pollMs?: number },
): Promise<void> {
  const code = codeVersion();
  const dataSha256 = sha256(JSON.stringify(data.manifest));
  const queue = new Queue<QueueJob, JobRecords>(QUEUE_NAME, { connection: opts.connection.options });
  try {
    const ids = new Map<string, string>();
    let added = 0;
    for (const s of settings) {
      const job: TuneRunJob = {
        kind: 'tune-run',
        name: s.name,
        config: s.config,
        baseSha256: readModelFile(s.config.base).file.weightsManifest.sha256,
        dataSha256,
        codeSha256: code,
        command: s.command,
      };
      const id = tuneJobId(job);
      ids.set(s.name, id);
      if (await queue.getJob(id)) continue;
      await queue.add('tune-run', job, { jobId: id, attempts: opts.attempts, backoff: { type: 'fixed', delay: 10_000 }, removeOnComplete: false, removeOnFail: false });
      added += 1;
    }
    opts.log(`tuning: ${added} setting(s) enqueued on ${opts.connection.shown}, ${settings.length - added} already there; workers take them (npm run worker -- --queue ${opts.connection.shown})`);
    await awaitJobs(
      queue,
      ids,
      (name, { records }) => {
        writeRecordFiles(join(opts.results, 'runs', name), records.files);
        opts.log(`${name} done by ${records.worker} in ${records.seconds.toFixed(1)} s`);
      },
      opts.log,
      { pollMs: opts.pollMs ?? 2000, retryCommand: `npm run queue -- retry --queue ${opts.connection.shown}` },
    );
  } finally {
    await queue.close();
  }
}
