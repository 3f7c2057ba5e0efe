import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { checkContext } from '../../../src/methods/downgrades/downgrade.js';
import { emojiConceptOfId, imagePool, poolImages } from '../../../src/data/imagePool.js';
import { randomImage } from '../../../src/methods/downgrades/randomImage.js';
import { randomImageInBatch } from '../../../src/methods/downgrades/randomImageInBatch.js';
import { Rng } from '../../../src/util/rng.js';
import { styledSet } from './helpers.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const concepts = ['1f600', '1f603', '1f431', '2600', '1f436'];
const set = styledSet(concepts, ['twemoji', 'noto', 'fluent-flat']);
const pool = imagePool(set, emojiConceptOfId);

/** Bytes -> [-1, 1] floats of image i, as the BatchLoader scales them. */
function floats(i: number): number[] {
  return Array.from(set.pixels(i), (v) => v / 127.5 - 1);
}

test('imagePool indexes by concept; emojiConceptOfId reads <style>/<concept> and web ids', () => {
  assert.equal(emojiConceptOfId('twemoji/1f600'), '1f600');
  assert.equal(emojiConceptOfId('web/noto/1f431'), '1f431');
  assert.throws(() => emojiConceptOfId('1f600'), /not an Emoji-T2I id/);
  assert.deepEqual(pool.concepts, concepts);
  assert.deepEqual(pool.indicesOf('1f431'), [6, 7, 8]);
  assert.deepEqual(pool.indicesOf('nope'), []);
  assert.equal(pool.concept(4), '1f603');
});

test("randomImage: 10,000 losers drawn from the dataset, none of the winner's concept, each the exact pixels of its source", () => {
  const ids = [0, 4, 6, 7, 13].map((i) => set.id(i)); // two designs of 1f431 in one batch
  const winners = poolImages(pool, [0, 4, 6, 7, 13]);
  const batchConcepts = ids.map(pool.conceptOfId);
  const rng = new Rng(21);
  let checkedPixels = false;
  for (let draw = 0; draw < 2000; draw++) {
    const { losers, sources } = randomImage.apply({ winners, ids, concepts: batchConcepts, rng }, { pool });
    sources.forEach((src, b) => {
      assert.notEqual(src, ids[b]);
      assert.notEqual(emojiConceptOfId(src), batchConcepts[b], `winner ${ids[b]} got ${src}`);
    });
    if (!checkedPixels) {
      const y = losers.dataSync();
      sources.forEach((src, b) => {
        const i = [...Array(set.size).keys()].find((k) => set.id(k) === src) as number;
        const want = floats(i);
        for (let k = 0; k < want.length; k++) assert.ok(Math.abs((y[b * want.length + k] as number) - (want[k] as number)) < 1e-6);
      });
      checkedPixels = true;
    }
    losers.dispose();
  }
  winners.dispose();
});

test('randomImageInBatch: losers are other winners of another concept, gathered exactly', () => {
  const idx = [0, 1, 3, 6, 9, 12];
  const ids = idx.map((i) => set.id(i));
  const batchConcepts = ids.map(emojiConceptOfId); // 1f600 twice
  const winners = poolImages(pool, idx);
  const rng = new Rng(2);
  const w = winners.dataSync();
  const per = 8 * 8 * 3;
  for (let draw = 0; draw < 2000; draw++) {
    const before = tf.memory().numTensors;
    const { losers, sources } = randomImageInBatch.apply({ winners, ids, concepts: batchConcepts, rng }, {});
    assert.equal(tf.memory().numTensors, before + 1);
    sources.forEach((src, b) => {
      assert.notEqual(src, ids[b]);
      assert.notEqual(emojiConceptOfId(src), batchConcepts[b]);
    });
    if (draw === 0) {
      const y = losers.dataSync();
      sources.forEach((src, b) => {
        const j = ids.indexOf(src);
        assert.deepEqual(Array.from(y.subarray(b * per, (b + 1) * per)), Array.from(w.subarray(j * per, (j + 1) * per)));
      });
    }
    losers.dispose();
  }
  assert.throws(() => randomImageInBatch.apply({ winners: poolImages(pool, [0, 1]), ids: [set.id(0), set.id(1)], concepts: ['1f600', '1f600'], rng }, {}), /has no candidate of another concept/);
  winners.dispose();
});

test('randomImage is seeded, checks its context and the pool resolution', () => {
  const ids = [set.id(0), set.id(5)];
  const winners = poolImages(pool, [0, 5]);
  const input = (seed: number) => ({ winners, ids, concepts: ids.map(emojiConceptOfId), rng: new Rng(seed) });
  const a = randomImage.apply(input(8), { pool });
  const b = randomImage.apply(input(8), { pool });
  assert.deepEqual(a.sources, b.sources);
  assert.throws(() => checkContext(randomImage, {}), /'randomImage' needs context.pool/);
  assert.throws(() => randomImage.apply(input(8), {}), /needs context.pool/);
  const big = imagePool(styledSet(concepts, ['twemoji'], 16), emojiConceptOfId);
  assert.throws(() => randomImage.apply(input(8), { pool: big }), /pool images are 16px but winners are 8px/);
  assert.throws(() => randomImage.apply({ ...input(8), concepts: ['1f600'] }, { pool }), /2 winners but 2 ids and 1 concepts/);
  tf.dispose([winners, a.losers, b.losers]);
});
