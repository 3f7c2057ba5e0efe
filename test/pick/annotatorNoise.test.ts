import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotatorNoise } from '../../src/pick/annotatorNoise.js';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';

test('annotator noise: a one-pixel shift brings a white column in; the spread is of |score change| (values by hand)', async () => {
  const R = 4;
  // Image i: every pixel grey 40·i; a scorer that reads the red byte of pixel (0,0).
  const set: ImageTextSet = {
    resolution: R,
    size: 5,
    pixels: (i) => new Uint8Array(R * R * 3).fill(40 * i),
    caption: () => 'x',
    id: (i) => String(i),
  };
  const scorer = (images: readonly Uint8Array[]): number[] => images.map((im) => im[0] as number);
  const noise = await annotatorNoise(scorer, set, 95);
  assert.equal(noise.images, 5);
  // Shifted, pixel (0,0) is white: |255 - 40i| = 255, 215, 175, 135, 95 -> sorted 95..255; median the 3rd, p95 the 5th.
  assert.deepEqual(noise.shift, { median: 175, p95: 255 });
  // A flat grey image survives JPEG at quality 95 within a level or two.
  assert.ok(noise.jpeg.p95 <= 2, `jpeg p95 ${noise.jpeg.p95}`);
});
