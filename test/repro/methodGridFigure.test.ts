import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { methodGridPng } from '../../src/repro/methodGridFigure.js';
import type { GridRecord, UnitRecord } from '../../src/repro/reproUnits.js';

const R = 4;

/** A 4x4 RGB image: `left` in every byte of the left two columns, `right` in the right two. */
function halves(left: [number, number, number], right: [number, number, number]): Uint8Array {
  const img = new Uint8Array(R * R * 3);
  for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) img.set(x < R / 2 ? left : right, 3 * (y * R + x));
  return img;
}

const record: GridRecord = { prompts: ['a cat'], seeds: [0], resolution: R, sampling: { steps: 2, guidance: 1 } };
const gridUnit = (method: string, image: Uint8Array, base?: string): UnitRecord => ({
  unit: method === 'base' ? 'base' : `${method}-s1`,
  method,
  seed: method === 'base' ? 0 : 1,
  evals: {},
  metrics: [],
  probe: [],
  grid: { record, images: [[image]] },
  ...(base ? { base } : {}),
});

/** The sheet's layout (src/report/imageSheet.ts): cells of 4 x 3 px after a 330 px label column and a 72 px header, 6 px gaps. */
const cell = R * 3;
const left = (column: number): number => 330 + column * (cell + 6);
const top = (row: number): number => 72 + row * (cell + 6);

async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
}

test("Figures 3/4: under each model's sample, its per-pixel change from the base on the same seed, on the figure's scale", async () => {
  // The base is grey 100; SFT moves the left half's green channel by 8 and the right half's blue by 2.
  // The change is 8 on half the pixels and 2 on the other half: the 99th percentile is 8, so the range is 8:
  // the left half is white (8 of 8), the right red at 255 x 3 x 2/8 = 191.25 -> 191.
  const base = halves([100, 100, 100], [100, 100, 100]);
  const sft = halves([100, 108, 100], [100, 100, 98]);
  const png = (await methodGridPng([gridUnit('base', base), gridUnit('sft', sft)], ['sft', 'dpo'], 'Figure 3')) as Buffer;
  const meta = await sharp(png).metadata();
  // Two columns (the base, SFT; Diffusion-DPO has no grid), two rows (the samples, their change).
  assert.equal(meta.height, top(2) + 6 + 3 * (12 + 4) + 6, 'two rows of cells and three footer lines');
  assert.deepEqual(await pixel(png, left(1) + 1, top(0) + 1), [100, 108, 100], 'the sample itself');
  assert.deepEqual(await pixel(png, left(1) + 1, top(1) + 1), [255, 255, 255], 'its change of 8 at the top of the scale');
  assert.deepEqual(await pixel(png, left(1) + cell - 2, top(1) + 1), [191, 0, 0], 'its change of 2 a quarter up the scale');
  // The base has no change of its own: its cell under the sample is left blank.
  assert.deepEqual(await pixel(png, left(0) + 1, top(1) + 1), [255, 255, 255]);
  assert.deepEqual(await pixel(png, left(0) + cell - 2, top(1) + 1), [255, 255, 255]);
});

test('Figures 3/4 with both bases: a block of rows per base, each model against its own base', async () => {
  const grey = halves([100, 100, 100], [100, 100, 100]);
  const dark = halves([20, 20, 20], [20, 20, 20]);
  // base-L's base is dark and its SFT the same dark: no change (black), though it differs from base-S's base by 80.
  const units = [gridUnit('base', grey), gridUnit('sft', halves([100, 104, 100], [100, 104, 100])), gridUnit('base', dark, 'base-L'), gridUnit('sft', dark, 'base-L')];
  const png = (await methodGridPng(units, ['sft'], 'Figure 3')) as Buffer;
  assert.equal((await sharp(png).metadata()).height, top(4) + 6 + 3 * (12 + 4) + 6, 'base-S: sample and change rows, then base-L: the same');
  assert.deepEqual(await pixel(png, left(1) + 1, top(1) + 1), [255, 255, 255], "base-S's SFT: a change of 4, the whole range");
  assert.deepEqual(await pixel(png, left(1) + 1, top(2) + 1), [20, 20, 20], "base-L's SFT sample");
  assert.deepEqual(await pixel(png, left(1) + 1, top(3) + 1), [0, 0, 0], "base-L's SFT against base-L's base: no change");
  assert.equal(await methodGridPng([], ['sft'], 'Figure 3'), undefined);
});

test("Figures 3/4 cut to the first prompts (a notebook's smaller copy)", async () => {
  const two: GridRecord = { ...record, prompts: ['a cat', 'a dog'] };
  const grey = halves([100, 100, 100], [100, 100, 100]);
  const unitOf = (method: string, first: Uint8Array): UnitRecord => ({ ...gridUnit(method, first), grid: { record: two, images: [[first], [grey]] } });
  const units = [unitOf('base', grey), unitOf('sft', halves([100, 104, 100], [100, 104, 100]))];
  const height = async (prompts?: number): Promise<number | undefined> =>
    (await sharp((await methodGridPng(units, ['sft'], 'Figure 3', prompts === undefined ? {} : { prompts })) as Buffer).metadata()).height;
  assert.equal(await height(), top(4) + 6 + 3 * (12 + 4) + 6);
  assert.equal(await height(1), top(2) + 6 + 3 * (12 + 4) + 6);
});
