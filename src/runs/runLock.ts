import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { processAlive } from '../util/processAlive.js';
import { parseJsonIfWhole } from '../util/jsonFile.js';

/** The lock file inside a run folder: the pid and host of the process working in it. */
export const RUN_LOCK = '.lock';

/**
 * Take `dir`'s lock, or throw naming the process that holds it: two processes training into one
 * folder would interleave their logs and race on the state. A lock left by a process that is
 * gone (killed) is taken over. Returns the release, which also removes the folder when this
 * call created it and the run left it empty.
 */
export function lockRunFolder(dir: string): () => void {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RUN_LOCK);
  const me = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      return () => {
        rmSync(path, { force: true });
        // A run that failed before writing anything (a missing --init-from, say) leaves no empty folder behind.
        if (created && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // An empty or cut lock file (its writer died while writing it) holds no one.
    const holder = (parseJsonIfWhole(readFileSync(path, 'utf8')) ?? {}) as { pid?: unknown; host?: unknown };
    const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
    if (pid !== undefined && holder.host !== me.host) throw new Error(`${dir} is locked by process ${pid} on ${String(holder.host)} (${path}); if that run is gone, delete the lock file`);
    if (pid !== undefined && processAlive(pid)) throw new Error(`${dir} is in use by process ${pid} (${path}); wait for it to finish or stop it, or choose another --out`);
    // Said aloud: a takeover means the last run there was killed, which its owner may want to know.
    console.error(pid !== undefined ? `${path}: process ${pid}, which held this lock, is gone (killed?); taking it over` : `${path}: a lock cut while being written; taking it over`);
    rmSync(path, { force: true });
  }
  throw new Error(`${path}: could not take the lock`);
}

/** Run `work` holding `dir`'s lock, released however it ends. */
export async function withRunLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const release = lockRunFolder(dir);
  try {
    return await work();
  } finally {
    release();
  }
}

/**
 * Run `work` holding the locks of every folder in `dirs` (a tuning sweep's runs and its report),
 * taken in order and released however it ends; a folder named twice is locked once. A refusal
 * releases the locks already taken, so nothing is left behind.
 */
export async function withRunLocks<T>(dirs: readonly string[], work: () => Promise<T>): Promise<T> {
  const unique = [...new Map(dirs.map((d) => [resolve(d), d])).values()];
  const releases: Array<() => void> = [];
  try {
    for (const dir of unique) releases.push(lockRunFolder(dir));
    return await work();
  } finally {
    for (const release of releases.reverse()) release();
  }
}
