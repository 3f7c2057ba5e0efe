import { join } from 'node:path';
import { backendFromEnvAndArgs } from '../backend.js';
import { queueConnection } from '../queue/queueConnection.js';
import { runQueueWorker } from '../queue/queueWorker.js';
import { numberFlag, parseArgs, UsageError } from '../util/args.js';
import { EMOJI_FLAGS } from './emojiFlags.js';

/**
 * `npm run worker -- --queue redis://HOST:PORT`: take reproduction units and tuning runs from the
 * queue one at a time, on any machine with a checkout (`npm ci`), until Ctrl-C.
 */
export async function workerCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { string: ['queue', 'work', 'base', 'judges', 'workers', 'backend', 'stalled-seconds', ...EMOJI_FLAGS] });
  const url = args.flags['queue'] as string | undefined;
  if (url === undefined) throw new UsageError('--queue redis://HOST:PORT is needed: the Redis the coordinator enqueued on');
  const stalledSeconds = numberFlag(args, 'stalled-seconds', 30);
  if (!(stalledSeconds >= 1)) throw new UsageError(`--stalled-seconds: expected at least 1, got ${stalledSeconds}`);
  const workers = args.flags['workers'] !== undefined ? numberFlag(args, 'workers', 1) : undefined;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new UsageError(`--workers: expected an integer in [1, 64], got ${workers}`);
  const backend = backendFromEnvAndArgs(argv, process.env);
  await runQueueWorker({
    connection: queueConnection(url),
    work: (args.flags['work'] as string | undefined) ?? join('runs', 'worker'),
    ...(typeof args.flags['base'] === 'string' ? { base: args.flags['base'] } : {}),
    ...(typeof args.flags['judges'] === 'string' ? { judges: args.flags['judges'] } : {}),
    ...(backend !== undefined ? { backend } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(typeof args.flags['data-root'] === 'string' ? { dataRoot: args.flags['data-root'] } : {}),
    ...(typeof args.flags['data-config'] === 'string' ? { dataConfig: args.flags['data-config'] } : {}),
    stalledSeconds,
    log: (line) => console.error(line),
  });
}
