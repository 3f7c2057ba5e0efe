import { queueConnection } from '../queue/queueConnection.js';
import { queueStatus, retryFailed } from '../queue/queueStatus.js';
import { parseArgs, UsageError } from '../util/args.js';

/** `npm run queue -- status|retry --queue redis://HOST:PORT`: what the queue holds, or requeue its failed jobs. */
export async function queueCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { string: ['queue'], positional: true });
  const [action, ...rest] = args.positional;
  if (rest.length > 0 || (action !== 'status' && action !== 'retry')) throw new UsageError(`expected \`queue status\` or \`queue retry\`, got "${args.positional.join(' ')}"`);
  const url = args.flags['queue'] as string | undefined;
  if (url === undefined) throw new UsageError('--queue redis://HOST:PORT is needed');
  const connection = queueConnection(url);
  if (action === 'status') {
    console.log(await queueStatus(connection));
    return;
  }
  const retried = await retryFailed(connection);
  console.log(retried.length === 0 ? 'no failed jobs' : `requeued ${retried.length} failed job(s):\n${retried.map((r) => `  ${r}`).join('\n')}`);
}
