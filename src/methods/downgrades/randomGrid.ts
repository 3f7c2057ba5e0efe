import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng.js';
import { checkInput, type Downgrade } from './downgrade.js';

/** The paper's grid: "cut into an 8x8 grid" (8 cells a side: 4x4-pixel cells at 32x32). */
export const GRID_CELLS = 8;

/** Two distinct cells of a `cells` x `cells` grid, numbered row-major. */
export type CellSwap = readonly [number, number];

/** One swap per image: two distinct cells drawn uniformly (the unordered pair is uniform too). */
export function drawCellSwaps(count: number, rng: Rng, cells = GRID_CELLS): CellSwap[] {
  const n = cells * cells;
  if (n < 2) throw new Error(`drawCellSwaps: a ${cells}x${cells} grid has no two distinct cells`);
  return Array.from({ length: count }, () => {
    const a = rng.int(n);
    // Uniform over the n - 1 other cells: skip a by shifting the upper part down by one.
    const r = rng.int(n - 1);
    return [a, r >= a ? r + 1 : r] as const;
  });
}

/**
 * Each image with its two cells `swaps[b]` exchanged. x: [B,R,R,3], R divisible by `cells`
 * -> [B,R,R,3]. One gather over pixel rows moves every pixel, so this is a pure permutation
 * of each image's pixels (the pixel multiset is kept) and needs no read-back.
 */
export function swapCells(x: tf.Tensor4D, swaps: readonly CellSwap[], cells = GRID_CELLS): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  if (H !== W || H % cells !== 0) throw new Error(`swapCells: the image side ${H}x${W} must be square and a multiple of ${cells}`);
  if (swaps.length !== B) throw new Error(`swapCells: ${swaps.length} swaps for ${B} images`);
  const R = H;
  const s = R / cells; // cell side in pixels
  const index = new Int32Array(B * R * R);
  for (let b = 0; b < B; b++) {
    const base = b * R * R;
    for (let p = 0; p < R * R; p++) index[base + p] = base + p;
    const [c1, c2] = swaps[b] as CellSwap;
    for (const [from, to] of [
      [c1, c2],
      [c2, c1],
    ] as const) {
      if (!(Number.isInteger(from) && from >= 0 && from < cells * cells)) throw new Error(`swapCells: cell ${from} out of range`);
      // Pixel (dy, dx) of cell `to` takes pixel (dy, dx) of cell `from`.
      const fy = Math.floor(from / cells) * s;
      const fx = (from % cells) * s;
      const ty = Math.floor(to / cells) * s;
      const tx = (to % cells) * s;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) index[base + (ty + dy) * R + tx + dx] = base + (fy + dy) * R + fx + dx;
      }
    }
  }
  return tf.tidy(() => {
    const rows = tf.reshape(x, [B * R * R, C]); // [B·R·R,3]
    return tf.reshape(tf.gather(rows, tf.tensor1d(index, 'int32')), [B, R, R, C]) as tf.Tensor4D;
  });
}

/**
 * The paper's "w/ Random grid" downgrade: the winner cut into an 8x8 grid with two distinct
 * random cells swapped. Two distinct cells can still hold the same pixels (two white
 * background cells of an emoji): that loser equals its winner, the pair is a tie
 * (inside = 0, no gradient from the DPO term) and counts as no win. Measured on the
 * curated 32x32 set: about 10% of draws, so this downgrade's implicit accuracy cannot
 * pass about 0.90.
 */
export const randomGrid: Downgrade = {
  name: 'randomGrid',
  description: 'the winner cut into an 8x8 grid, two random distinct cells swapped',
  needs: [],
  apply(input) {
    const [B] = checkInput('randomGrid', input);
    return { losers: swapCells(input.winners, drawCellSwaps(B, input.rng)), sources: input.ids };
  },
};
