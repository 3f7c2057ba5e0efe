import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sha256 } from '../util/sha256.js';

/** The checkout this file belongs to (src/queue or dist/queue, two levels down). */
const CHECKOUT = join(__dirname, '..', '..');

/** Every file under `dir` whose name passes `keep`, as paths relative to the checkout, sorted. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(keep)
    .map((f) => relative(CHECKOUT, join(dir, f)))
    .sort();
}

/**
 * The code a worker computes with: sha256 over the kit's sources (src/), the native kernels'
 * C sources and package-lock.json (the versions of tfjs and the rest), path and content each.
 * Two checkouts with equal hashes train and evaluate alike; a worker whose hash differs from a
 * job's refuses it. configs/ is not here: each job's identity holds its configs' hash.
 */
export function codeVersion(): string {
  const files = [...filesUnder(join(CHECKOUT, 'src'), (f) => f.endsWith('.ts')), ...filesUnder(join(CHECKOUT, 'native'), (f) => /^[^/]+\.(c|h)$/.test(f)), 'package-lock.json'];
  const parts = files.map((f) => `${f}\n${sha256(readFileSync(join(CHECKOUT, f)))}\n`);
  return sha256(parts.join(''));
}
