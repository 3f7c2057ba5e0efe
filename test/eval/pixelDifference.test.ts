import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeImage, changeRange, pixelChangeMap, pixelDifference } from '../../src/eval/pixelDifference.js';

test('pixelDifference: the mean and largest byte difference, worked by hand', () => {
  // |10-12| + |200-190| + |0-0| + |255-250| = 2 + 10 + 0 + 5 = 17 over 4 bytes; largest 10.
  const d = pixelDifference([Uint8Array.of(10, 200), Uint8Array.of(0, 255)], [Uint8Array.of(12, 190), Uint8Array.of(0, 250)]);
  assert.deepEqual(d, { mean: 17 / 4, max: 10 });
  assert.deepEqual(pixelDifference([Uint8Array.of(7)], [Uint8Array.of(7)]), { mean: 0, max: 0 });
});

test('pixelDifference refuses lists or images of different sizes', () => {
  assert.throws(() => pixelDifference([Uint8Array.of(1)], []), /1 images against 0/);
  assert.throws(() => pixelDifference([Uint8Array.of(1, 2)], [Uint8Array.of(1)]), /image 0 has 2 bytes against 1/);
});

test('pixelChangeMap: per pixel the largest channel difference, worked by hand', () => {
  // Pixel 0: |10-10|, |20-25|, |30-20| -> 10; pixel 1: |0-0|, |0-0|, |0-4| -> 4.
  assert.deepEqual([...pixelChangeMap(Uint8Array.of(10, 20, 30, 0, 0, 0), Uint8Array.of(10, 25, 20, 0, 0, 4))], [10, 4]);
  assert.throws(() => pixelChangeMap(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2)), /3 bytes against 2/);
});

test('changeImage: the hot scale up to its range, worked by hand', () => {
  // Range 30: 0 black; 5 -> t 1/6 -> red 127.5 -> 128; 10 -> red; 20 -> yellow; 25 -> white's blue half; 30 and 200 -> white.
  const image = changeImage(Uint8Array.of(0, 5, 10, 20, 25, 30, 200), 30);
  const pixels = Array.from({ length: 7 }, (_, p) => [...image.subarray(3 * p, 3 * p + 3)]);
  assert.deepEqual(pixels, [
    [0, 0, 0],
    [128, 0, 0],
    [255, 0, 0],
    [255, 255, 0],
    [255, 255, 128],
    [255, 255, 255],
    [255, 255, 255],
  ]);
  assert.throws(() => changeImage(Uint8Array.of(1), 0), /range must be > 0/);
});

test("changeRange: the changes' 99th percentile rounded up to a power of two, else 255", () => {
  const of = (values: number[]): Uint8Array[] => [Uint8Array.from(values)];
  // 99 of 100 pixels change by 3, one by 200: the 99th percentile is 3 -> 4.
  assert.equal(changeRange(of([...Array(99).fill(3), 200])), 4);
  assert.equal(changeRange(of(Array(100).fill(0))), 4);
  // 98 at 9 and 2 at 40: the 99th percentile is 40 -> 64.
  assert.equal(changeRange(of([...Array(98).fill(9), 40, 40])), 64);
  assert.equal(changeRange([Uint8Array.from(Array(50).fill(129)), Uint8Array.from(Array(50).fill(129))]), 255);
  assert.throws(() => changeRange([]), /no pixels/);
});
