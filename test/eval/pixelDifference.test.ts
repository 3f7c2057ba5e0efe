import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pixelDifference } from '../../src/eval/pixelDifference.js';

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
