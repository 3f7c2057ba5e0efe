import { readFileSync } from 'node:fs';

/** How to reach the queue's Redis: ioredis options for BullMQ, and the address to print (never the password). */
export interface QueueConnection {
  options: {
    host: string;
    port: number;
    db: number;
    username?: string;
    password?: string;
    tls?: { ca?: Buffer };
    /** BullMQ's workers block on Redis and must not give up on a slow reply (BullMQ asks for null). */
    maxRetriesPerRequest: null;
  };
  /** redis://host:port/db, or rediss:// with TLS. */
  shown: string;
}

/**
 * The queue's connection from `--queue redis://[user:password@]host:port[/db]` (rediss:// for
 * TLS) and the environment: SELFDPO_REDIS_USERNAME and SELFDPO_REDIS_PASSWORD when the URL has
 * none, SELFDPO_REDIS_TLS=1 for TLS on a redis:// URL, SELFDPO_REDIS_CA=FILE for a private CA.
 * Secrets come from there only, never from a file in the repository, so no command records them.
 */
export function queueConnection(url: string, env: NodeJS.ProcessEnv = process.env): QueueConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--queue: expected redis://host:port (or rediss:// for TLS), got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`--queue: expected a redis:// or rediss:// URL, got "${parsed.protocol}//..."`);
  if (parsed.hostname === '') throw new Error(`--queue: "${url}" names no host`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue: the database after the port must be a number, got "${dbText}"`);
  const username = parsed.username !== '' ? decodeURIComponent(parsed.username) : env['SELFDPO_REDIS_USERNAME'];
  const password = parsed.password !== '' ? decodeURIComponent(parsed.password) : env['SELFDPO_REDIS_PASSWORD'];
  const tlsFlag = env['SELFDPO_REDIS_TLS'];
  if (tlsFlag !== undefined && !['0', '1'].includes(tlsFlag)) throw new Error(`SELFDPO_REDIS_TLS: expected 0 or 1, got "${tlsFlag}"`);
  const tls = parsed.protocol === 'rediss:' || tlsFlag === '1';
  const caFile = env['SELFDPO_REDIS_CA'];
  let ca: Buffer | undefined;
  if (caFile !== undefined && caFile !== '') {
    try {
      ca = readFileSync(caFile);
    } catch (err) {
      throw new Error(`SELFDPO_REDIS_CA: cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    options: {
      host,
      port,
      db,
      ...(username !== undefined && username !== '' ? { username } : {}),
      ...(password !== undefined && password !== '' ? { password } : {}),
      ...(tls ? { tls: ca ? { ca } : {} } : {}),
      maxRetriesPerRequest: null,
    },
    shown: `${tls ? 'rediss' : 'redis'}://${parsed.host}/${db}`,
  };
}
