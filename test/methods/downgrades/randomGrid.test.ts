import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { drawCellSwaps, GRID_CELLS, randomGrid, swapCells } from '../../../src/methods/downgrades/randomGrid.js';
import { Rng } from '../../../src/util/rng.js';
import { randomImages } from './helpers.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

/** Which of the 64 cells of image b differ between x and y. */
function changedCells(x: Float32Array, y: Float32Array, b: number, R: number, cells: number): number[] {
  const s = R / cells;
  const changed: number[] = [];
  for (let cell = 0; cell < cells * cells; cell++) {
    const cy = Math.floor(cell / cells) * s;
    const cx = (cell % cells) * s;
    let differs = false;
    for (let dy = 0; dy < s; dy++)
      for (let dx = 0; dx < s; dx++)
        for (let c = 0; c < 3; c++) {
          const k = ((b * R + cy + dy) * R + cx + dx) * 3 + c;
          if (x[k] !== y[k]) differs = true;
        }
    if (differs) changed.push(cell);
  }
  return changed;
}

test('randomGrid swaps exactly two distinct 4x4-pixel cells of a 32x32 image and keeps the pixel multiset', () => {
  const B = 6;
  const R = 32;
  const pixels = randomImages(B * R * R * 3, 4); // every cell differs from every other
  const winners = tf.tensor4d(pixels, [B, R, R, 3]);
  const rng = new Rng(77);
  const { losers, sources } = randomGrid.apply({ winners, ids: Array.from({ length: B }, (_, b) => `s/${b}`), concepts: Array.from({ length: B }, (_, b) => `${b}`), rng }, {});
  const y = losers.dataSync() as Float32Array;
  const swaps = drawCellSwaps(B, new Rng(77)); // the same draws
  const s = R / GRID_CELLS;
  assert.equal(s, 4);
  for (let b = 0; b < B; b++) {
    const [c1, c2] = swaps[b] as [number, number];
    assert.notEqual(c1, c2);
    assert.deepEqual(
      changedCells(pixels, y, b, R, GRID_CELLS),
      [c1, c2].sort((p, q) => p - q),
      `image ${b}`,
    );
    // The two cells hold each other's pixels.
    for (let dy = 0; dy < s; dy++)
      for (let dx = 0; dx < s; dx++)
        for (let c = 0; c < 3; c++) {
          const at = (cell: number): number => ((b * R + Math.floor(cell / GRID_CELLS) * s + dy) * R + (cell % GRID_CELLS) * s + dx) * 3 + c;
          assert.equal(y[at(c1)], pixels[at(c2)]);
          assert.equal(y[at(c2)], pixels[at(c1)]);
        }
    // The multiset of RGB pixels of each image is unchanged.
    const multiset = (a: Float32Array): string[] => Array.from({ length: R * R }, (_, p) => Array.from(a.subarray((b * R * R + p) * 3, (b * R * R + p) * 3 + 3)).join(',')).sort();
    assert.deepEqual(multiset(y), multiset(pixels));
  }
  assert.deepEqual(sources, ['s/0', 's/1', 's/2', 's/3', 's/4', 's/5']);
  tf.dispose([winners, losers]);
});

test('drawCellSwaps: always two distinct cells, every unordered pair reachable, uniform first cell', () => {
  const rng = new Rng(3);
  const swaps = drawCellSwaps(20_000, rng);
  const firsts = new Array<number>(64).fill(0);
  const pairs = new Set<string>();
  for (const [a, b] of swaps) {
    assert.ok(a !== b && a >= 0 && a < 64 && b >= 0 && b < 64);
    firsts[a] = (firsts[a] as number) + 1;
    pairs.add(`${Math.min(a, b)}-${Math.max(a, b)}`);
  }
  for (const f of firsts) assert.ok(Math.abs(f / 20_000 - 1 / 64) < 0.006, `first-cell frequency ${f}`);
  assert.ok(pairs.size > 1900, `${pairs.size} of 2016 pairs seen`);
  assert.throws(() => drawCellSwaps(1, rng, 1), /no two distinct cells/);
});

test('swapCells works at 64x64 (8x8-pixel cells) and checks its inputs', () => {
  const x = tf.tensor4d(randomImages(64 * 64 * 3, 8), [1, 64, 64, 3]);
  const y = swapCells(x, [[0, 63]]);
  assert.deepEqual(changedCells(x.dataSync() as Float32Array, y.dataSync() as Float32Array, 0, 64, 8), [0, 63]);
  assert.throws(() => swapCells(x, []), /0 swaps for 1 images/);
  assert.throws(() => swapCells(x, [[0, 64]]), /cell 64 out of range/);
  tf.dispose([x, y]);
});
