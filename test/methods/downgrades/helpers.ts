import type { ImageTextSet } from '../../../src/data/imageTextSet.js';
import { Rng } from '../../../src/util/rng.js';

/**
 * A tiny Emoji-T2I-like set: `concepts.length` concepts x `styles` styles, ids
 * `<style>/<concept>`, every image random bytes from `seed` (so any two images differ).
 */
export function styledSet(concepts: readonly string[], styles: readonly string[], resolution = 8, seed = 1): ImageTextSet {
  const rng = new Rng(seed);
  const items = concepts.flatMap((c) => styles.map((s) => ({ id: `${s}/${c}`, px: Uint8Array.from({ length: resolution * resolution * 3 }, () => rng.int(256)) })));
  return {
    resolution,
    size: items.length,
    pixels: (i) => (items[i] as { px: Uint8Array }).px,
    caption: (i) => (items[i] as { id: string }).id,
    id: (i) => (items[i] as { id: string }).id,
  };
}

/** Random values in [-1, 1). */
export function randomImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}
