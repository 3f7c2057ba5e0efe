import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { removeOrphanTemps } from './orphanTemps.js';

/**
 * Write a file so that readers see either the old content or the whole new content,
 * never a half-written file: write a sibling temp file, then rename over the target
 * (rename is atomic within one file system).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  removeOrphanTemps(dirname(path), `${basename(path)}.`);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
