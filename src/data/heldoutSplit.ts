import { stableHash32 } from '../util/rng.js';
import type { ImageTextSet } from './imageTextSet.js';

/**
 * A set split in two by a stable hash of each example's id: about 1 in `every` held out (at
 * least two, the fewest a probe of random-image pairs can pair up), the rest for training. A
 * user's folder has no held-out design of its own; this is its held-out probe, and the same
 * folder always splits the same way.
 */
export function splitHeldout(set: ImageTextSet, every = 20): { train: ImageTextSet; heldout: ImageTextSet } {
  const all = Array.from({ length: set.size }, (_, i) => i);
  const hash = all.map((i) => stableHash32(`heldout|${set.id(i)}`));
  const share = all.filter((i) => (hash[i] as number) % every === 0);
  const held = new Set(share.length >= 2 ? share : [...all].sort((a, b) => (hash[a] as number) - (hash[b] as number)).slice(0, 2));
  const heldout = all.filter((i) => held.has(i));
  const train = all.filter((i) => !held.has(i));
  if (train.length === 0) throw new Error(`a set of ${set.size} image(s) leaves nothing to train on after holding two out`);
  const subset = (indices: readonly number[]): ImageTextSet => ({
    resolution: set.resolution,
    size: indices.length,
    pixels: (k) => set.pixels(indices[k] as number),
    caption: (k, rng) => set.caption(indices[k] as number, rng),
    id: (k) => set.id(indices[k] as number),
  });
  return { train: subset(train), heldout: subset(heldout) };
}
