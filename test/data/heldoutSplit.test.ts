import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitHeldout } from '../../src/data/heldoutSplit.js';
import type { ImageTextSet } from '../../src/data/imageTextSet.js';

const set = (n: number): ImageTextSet => ({ resolution: 1, size: n, pixels: (i) => Uint8Array.of(i, i, i), caption: (i) => `c${i}`, id: (i) => `img${i}.png` });

test('splitHeldout: a stable share held out, at least two, disjoint from training, the same every time', () => {
  const big = splitHeldout(set(2000));
  const ids = (s: ImageTextSet): string[] => Array.from({ length: s.size }, (_, i) => s.id(i));
  assert.equal(big.train.size + big.heldout.size, 2000);
  // About 1 in 20 (binomial: 100 expected, sd about 10).
  assert.ok(big.heldout.size > 60 && big.heldout.size < 140, `${big.heldout.size} held out`);
  const held = new Set(ids(big.heldout));
  assert.ok(ids(big.train).every((id) => !held.has(id)));
  assert.deepEqual(ids(splitHeldout(set(2000)).heldout), ids(big.heldout));
  // Small sets still give the probe two images, and keep the rest for training.
  const small = splitHeldout(set(3));
  assert.equal(small.heldout.size, 2);
  assert.equal(small.train.size, 1);
  assert.deepEqual(small.train.pixels(0), set(3).pixels(Number(small.train.id(0).slice(3, 4))));
  assert.throws(() => splitHeldout(set(2)), /a set of 2 image\(s\) leaves nothing to train on after holding two out/);
});
