import { deriveSeed, Rng } from '../util/rng.js';

/**
 * Standard-normal noise for a batch, each example from its own stream (seed, keys): an
 * image's noise depends only on its own seed, never on the batch it is drawn in or the
 * backend, so "prompt p, seed s" is the same picture everywhere. Returns [B * perExample].
 */
export function seededNormal(seeds: readonly number[], perExample: number, ...keys: Array<string | number>): Float32Array {
  const out = new Float32Array(seeds.length * perExample);
  seeds.forEach((seed, b) => {
    const rng = new Rng(deriveSeed(seed, ...keys));
    for (let i = 0; i < perExample; i++) out[b * perExample + i] = rng.normal();
  });
  return out;
}
