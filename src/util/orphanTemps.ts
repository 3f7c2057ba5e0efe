import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './processAlive.js';

/**
 * Remove the temp files or folders `<prefix><pid>.tmp` in `dir` left by processes that are gone
 * (killed while writing, before their rename): nothing cleaned them, and a state's is 40 MB.
 * A live process's temp is its own business.
 */
export function removeOrphanTemps(dir: string, prefix: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const pid = Number(entry.slice(prefix.length, -'.tmp'.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      console.error(`removing ${join(dir, entry)}: left by process ${pid}, which is gone (killed while writing)`);
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}
