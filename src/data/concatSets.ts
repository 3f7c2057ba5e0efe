import type { ImageTextSet } from './imageTextSet.js';

/** Several sets of one resolution as one: set 0's examples first, then set 1's, and so on. */
export function concatSets(sets: readonly ImageTextSet[]): ImageTextSet {
  if (sets.length === 0) throw new Error('concatSets: no sets');
  const resolution = (sets[0] as ImageTextSet).resolution;
  const bad = sets.find((s) => s.resolution !== resolution);
  if (bad) throw new Error(`concatSets: resolutions differ (${resolution} and ${bad.resolution})`);
  const starts: number[] = [];
  let size = 0;
  for (const s of sets) {
    starts.push(size);
    size += s.size;
  }
  const locate = (i: number): [ImageTextSet, number] => {
    if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new RangeError(`index ${i} out of range (0..${size - 1})`);
    let k = starts.length - 1;
    while ((starts[k] as number) > i) k--;
    return [sets[k] as ImageTextSet, i - (starts[k] as number)];
  };
  return {
    resolution,
    size,
    pixels: (i) => {
      const [s, j] = locate(i);
      return s.pixels(j);
    },
    caption: (i, rng) => {
      const [s, j] = locate(i);
      return s.caption(j, rng);
    },
    id: (i) => {
      const [s, j] = locate(i);
      return s.id(j);
    },
  };
}
