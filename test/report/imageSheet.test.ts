import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { renderImageSheet } from '../../src/report/imageSheet.js';

const pixels = (v: number): Uint8Array => new Uint8Array(4 * 4 * 3).fill(v);

test('a sheet with a 20,000-character caption and title renders, cut to at most 1,600 px wide', async () => {
  const long = 'word '.repeat(4000);
  const png = await renderImageSheet({
    resolution: 4,
    title: long,
    rowLabels: [long],
    columnLabels: ['a', 'b'],
    cells: [[pixels(0), pixels(255)]],
    footer: [`1. ${long}`, '2. short'],
  });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.ok((meta.width ?? 0) <= 1600 && (meta.width ?? 0) > 0, `width ${meta.width}`);
});

test('a footer line wider than the sheet is wrapped onto more lines, not cut', async () => {
  const sheet = { resolution: 4, rowLabels: ['r'], columnLabels: ['a'], cells: [[pixels(9)]] };
  const oneLine = await sharp(await renderImageSheet({ ...sheet, footer: ['word'] })).metadata();
  // 400 words of 4 letters; 220 characters fit in 1,600 px at 7.2 px each: 44 words a line, so 10 lines.
  const tenLines = await sharp(await renderImageSheet({ ...sheet, footer: ['word '.repeat(400)] })).metadata();
  // The widest line, 44 words (219 characters), sets the width: ceil(219 · 7.2) + 2 · 6 gap.
  assert.equal(tenLines.width, 1589);
  assert.equal((tenLines.height ?? 0) - (oneLine.height ?? 0), 9 * (12 + 4));
});

test('a short footer keeps the sheet at its grid width', async () => {
  const png = await renderImageSheet({ resolution: 4, rowLabels: ['r'], columnLabels: ['a'], cells: [[pixels(9)]], footer: ['1. ok'] });
  // label column 150 + one 12 px cell + a 6 px gap
  assert.equal((await sharp(png).metadata()).width, 168);
});
