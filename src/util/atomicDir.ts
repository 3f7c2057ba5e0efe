import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { removeOrphanTemps } from './orphanTemps.js';

/**
 * Write a whole directory atomically: `fill` writes into a sibling temp directory, which
 * then replaces `dir` by renames. A crash leaves either the old directory or the new one
 * (at worst as `<dir>.old`, which `resolveAtomicDir` finds), never a half-written one.
 */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => void | Promise<void>): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  removeOrphanTemps(parent, `.${basename(dir)}.`);
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  const old = `${dir}.old`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** `dir` if it exists, else the `.old` copy a crash between the two renames left, else undefined. */
export function resolveAtomicDir(dir: string): string | undefined {
  if (existsSync(dir)) return dir;
  if (existsSync(`${dir}.old`)) return `${dir}.old`;
  return undefined;
}
