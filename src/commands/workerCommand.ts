import { backendFromEnvAndArgs } from '../backend.js';
import { queueConnection } from '../queue/queueConnection.js';
import { runQueueWorker } from '../queue/queueWorker.js';
import { numberFlag, stringFlag, UsageError } from '../util/args.js';
import { defineCommand } from './command.js';
import { BACKEND, BASE, EMOJI_FLAGS, JUDGES, QUEUE, WORKERS } from './commonFlags.js';

/**
 * `npm run worker -- --queue redis://HOST:PORT`: take reproduction units and tuning runs from the
 * queue one at a time, on any machine with a checkout (`npm ci`), until Ctrl-C.
 */
export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'take reproduction units and tuning runs from a Redis queue one at a time, until Ctrl-C (run it on any machine with a checkout)',
  flags: [
    QUEUE,
    { name: 'work', value: 'DIR', default: 'runs/worker', help: "the units' run folders on this machine" },
    {
      ...BASE,
      help: "base-S's folder in this checkout, checked against each job's (default: the job's); a tuning run's base whatever it is; another base of a reproduction is read at the job's path",
    },
    { ...JUDGES, default: undefined, help: "the judges folder, checked against each job's (default: the job's)" },
    { ...WORKERS, help: 'threads per unit (default: one per core)' },
    { name: 'stalled-seconds', value: 'N', default: '30', help: 'a unit whose worker is silent this long is taken over by another' },
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    const url = stringFlag(args, 'queue');
    if (url === undefined) throw new UsageError('--queue redis://HOST:PORT is needed: the Redis the coordinator enqueued on');
    const stalledSeconds = numberFlag(args, 'stalled-seconds', 30);
    if (!(stalledSeconds >= 1)) throw new UsageError(`--stalled-seconds: expected at least 1, got ${stalledSeconds}`);
    const workers = args.flags['workers'] !== undefined ? numberFlag(args, 'workers', 1) : undefined;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new UsageError(`--workers: expected an integer in [1, 64], got ${workers}`);
    const backend = backendFromEnvAndArgs(argv, process.env);
    await runQueueWorker({
      connection: queueConnection(url),
      work: stringFlag(args, 'work') as string,
      ...(typeof args.flags['base'] === 'string' ? { base: args.flags['base'] } : {}),
      ...(typeof args.flags['judges'] === 'string' ? { judges: args.flags['judges'] } : {}),
      ...(backend !== undefined ? { backend } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(typeof args.flags['data-root'] === 'string' ? { dataRoot: args.flags['data-root'] } : {}),
      ...(typeof args.flags['data-config'] === 'string' ? { dataConfig: args.flags['data-config'] } : {}),
      stalledSeconds,
      log: (line) => console.error(line),
    });
  },
});
