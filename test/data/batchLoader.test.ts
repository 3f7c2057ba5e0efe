import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BatchLoader } from '../../src/data/batchLoader.js';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';

/** n images of 2x2 pixels; image i has R=i, G=column*255, B=row*255 so flips are visible. */
function tinySet(n: number): ImageTextSet {
  const R = 2;
  return {
    resolution: R,
    size: n,
    pixels: (i) => {
      const px = new Uint8Array(R * R * 3);
      for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) px.set([i, x * 255, y * 255], (y * R + x) * 3);
      return px;
    },
    caption: (i, rng) => `item ${i} draw ${rng.int(1000)}`,
    id: (i) => `img${i}`,
  };
}

before(async () => {
  await tf.setBackend('cpu');
});

test('pixels map 0..255 to -1..1 in HWC order', () => {
  const loader = new BatchLoader(tinySet(4), { batchSize: 4, seed: 0 });
  const b = loader.batchData(0, 0);
  assert.deepEqual(b.shape, [4, 2, 2, 3]);
  const k = b.ids.indexOf('img3');
  const px = Array.from(b.pixels.subarray(k * 12, k * 12 + 12));
  const expected = [3, 0, 0, 3, 255, 0, 3, 0, 255, 3, 255, 255].map((v) => v / 127.5 - 1);
  px.forEach((v, j) => assert.ok(Math.abs(v - (expected[j] as number)) < 1e-6, `value ${j}: ${v} vs ${expected[j]}`));
});

test('every example appears once per epoch; orders differ between epochs; same seed, same batches', () => {
  const loader = new BatchLoader(tinySet(10), { batchSize: 3, seed: 9 });
  assert.equal(loader.batchesPerEpoch, 3);
  const epochIds = (e: number): string[] => [0, 1, 2].flatMap((k) => loader.batchData(e, k).ids);
  const e0 = epochIds(0);
  assert.equal(new Set(e0).size, 9);
  assert.notDeepEqual(e0, epochIds(1));
  const again = new BatchLoader(tinySet(10), { batchSize: 3, seed: 9 });
  assert.deepEqual(again.batchData(1, 2), loader.batchData(1, 2));
  assert.notDeepEqual(new BatchLoader(tinySet(10), { batchSize: 3, seed: 10 }).batchData(0, 0).ids, loader.batchData(0, 0).ids);
  assert.equal(new BatchLoader(tinySet(10), { batchSize: 3, seed: 9, dropLast: false }).batchesPerEpoch, 4);
});

test('captions are re-drawn each epoch, independent of batch position', () => {
  const loader = new BatchLoader(tinySet(6), { batchSize: 2, seed: 1 });
  const captionsOf = (e: number): Map<string, string> => {
    const m = new Map<string, string>();
    for (let k = 0; k < 3; k++) {
      const b = loader.batchData(e, k);
      b.ids.forEach((id, j) => m.set(id, b.captions[j] as string));
    }
    return m;
  };
  const c0 = captionsOf(0);
  const c1 = captionsOf(1);
  assert.ok([...c0.keys()].some((id) => c0.get(id) !== c1.get(id)));
  // A different batch size puts examples in other batches but gives them the same captions.
  const other = new BatchLoader(tinySet(6), { batchSize: 3, seed: 1 });
  const b = other.batchData(0, 0);
  b.ids.forEach((id, j) => assert.equal(b.captions[j], c0.get(id)));
});

test('flip mirrors columns of about half the images, and never when off', () => {
  const set = tinySet(200);
  const flipped = new BatchLoader(set, { batchSize: 200, seed: 3, flip: true }).batchData(0, 0);
  let count = 0;
  for (let b = 0; b < 200; b++) {
    const g00 = flipped.pixels[b * 12 + 1] as number; // G of pixel (0,0): -1 unflipped, +1 flipped
    const b00 = flipped.pixels[b * 12 + 2] as number; // B (row) never changes under a horizontal flip
    assert.equal(b00, -1);
    if (g00 > 0) count++;
  }
  assert.ok(count > 70 && count < 130, `${count} of 200 flipped`);
  const plain = new BatchLoader(set, { batchSize: 200, seed: 3 }).batchData(0, 0);
  for (let b = 0; b < 200; b++) assert.equal(plain.pixels[b * 12 + 1], -1);
});

test('batchAtStep walks across epochs; tensors are the only allocation and are freed by the caller', () => {
  const loader = new BatchLoader(tinySet(4), { batchSize: 2, seed: 0 });
  const before = tf.memory().numTensors;
  for (let step = 0; step < 6; step++) {
    const b = loader.batchAtStep(step);
    assert.equal(b.epoch, Math.floor(step / 2));
    assert.equal(b.index, step % 2);
    assert.deepEqual(b.images.shape, [2, 2, 2, 3]);
    b.images.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('bad loader settings are refused with the reason', () => {
  assert.throws(() => new BatchLoader(tinySet(4), { batchSize: 0, seed: 0 }), /batchSize must be a positive integer/);
  assert.throws(() => new BatchLoader(tinySet(2), { batchSize: 3, seed: 0 }), /batchSize 3 exceeds the dataset size 2/);
  assert.throws(() => new BatchLoader(tinySet(4), { batchSize: 2, seed: 0 }).batchData(0, 2), /out of range/);
});
