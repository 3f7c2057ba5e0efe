import type { Rng } from '../util/rng.js';

/**
 * Judge-training augmentation of one [R,R,3] image in [-1, 1], in place into `out`: a random
 * shift of up to `maxShift` pixels each way (uncovered pixels white, the emoji background)
 * and a horizontal flip half the time. Judges see few images per concept; these keep them
 * from memorising exact pixel positions.
 */
export function augmentImage(src: Float32Array, out: Float32Array, R: number, rng: Rng, maxShift = 3): void {
  const dx = rng.int(2 * maxShift + 1) - maxShift;
  const dy = rng.int(2 * maxShift + 1) - maxShift;
  const flip = rng.next() < 0.5;
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      const sy = y - dy;
      const sxRaw = x - dx;
      const sx = flip ? R - 1 - sxRaw : sxRaw;
      const o = (y * R + x) * 3;
      if (sy < 0 || sy >= R || sx < 0 || sx >= R) {
        out[o] = 1;
        out[o + 1] = 1;
        out[o + 2] = 1;
      } else {
        const s = (sy * R + sx) * 3;
        out[o] = src[s] as number;
        out[o + 1] = src[s + 1] as number;
        out[o + 2] = src[s + 2] as number;
      }
    }
  }
}
