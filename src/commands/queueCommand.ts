import { queueConnection } from '../queue/queueConnection.js';
import { queueStatus, retryFailed } from '../queue/queueStatus.js';
import { stringFlag, UsageError } from '../util/args.js';
import { defineCommand } from './command.js';
import { QUEUE } from './commonFlags.js';

/** `npm run queue -- status|retry --queue redis://HOST:PORT`: what the queue holds, or requeue its failed jobs. */
export const queueCommand = defineCommand({
  name: 'queue',
  summary: "a Redis queue's units: status (done, running, waiting, failed, time left), or retry (requeue the failed)",
  positional: 'status|retry',
  flags: [QUEUE],
  async run(args) {
    const [action, ...rest] = args.positional;
    if (rest.length > 0 || (action !== 'status' && action !== 'retry')) throw new UsageError(`expected \`queue status\` or \`queue retry\`, got "${args.positional.join(' ')}"`);
    const url = stringFlag(args, 'queue');
    if (url === undefined) throw new UsageError('--queue redis://HOST:PORT is needed');
    const connection = queueConnection(url);
    if (action === 'status') {
      console.log(await queueStatus(connection));
      return;
    }
    const retried = await retryFailed(connection);
    console.log(retried.length === 0 ? 'no failed jobs' : `requeued ${retried.length} failed job(s):\n${retried.map((r) => `  ${r}`).join('\n')}`);
  },
});
