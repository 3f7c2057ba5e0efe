import type { ImageTextSet } from '../../src/data/imageTextSet.js';
import { Rng } from '../../src/util/rng.js';

/** A small seeded dataset of flat-coloured squares with captions naming the colour, for training tests. */
export function fakeImageTextSet(size: number, resolution = 32, seed = 1): ImageTextSet {
  const colours: Array<[string, [number, number, number]]> = [
    ['red', [220, 30, 30]],
    ['green', [30, 200, 60]],
    ['blue', [30, 60, 220]],
    ['yellow', [240, 220, 40]],
  ];
  const rng = new Rng(seed);
  const items = Array.from({ length: size }, (_, i) => {
    const [name, rgb] = colours[i % colours.length] as [string, [number, number, number]];
    const px = new Uint8Array(resolution * resolution * 3).fill(255);
    const x0 = rng.int(resolution / 2);
    const y0 = rng.int(resolution / 2);
    for (let y = y0; y < y0 + resolution / 2; y++) {
      for (let x = x0; x < x0 + resolution / 2; x++) px.set(rgb, (y * resolution + x) * 3);
    }
    return { px, caption: `${name} square, shape, colour` };
  });
  return {
    resolution,
    size,
    pixels: (i) => (items[i] as { px: Uint8Array }).px,
    caption: (i) => (items[i] as { caption: string }).caption,
    id: (i) => `fake/${i}`,
  };
}
