import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { conceptNeighbours } from '../../../src/methods/downgrades/conceptNeighbours.js';
import { emojiConceptOfId, imagePool, poolImages } from '../../../src/data/imagePool.js';
import { nearestConcept } from '../../../src/methods/downgrades/nearestConcept.js';
import { Rng } from '../../../src/util/rng.js';
import { styledSet } from './helpers.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

test('conceptNeighbours: cosine similarity, nearest first, never itself, exact ties in key order', () => {
  // Integer 2-d vectors so that the ties are exact: e is a scaled copy of a, c and f are
  // orthogonal to a (cosine exactly 0), d is -a.
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const vectors = [1, 0, 3, 1, 0, 1, -1, 0, 5, 0, 0, -1];
  const table = conceptNeighbours(keys, vectors, 2, 5);
  assert.deepEqual(table.get('a'), ['e', 'b', 'c', 'f', 'd']);
  assert.deepEqual(table.get('e'), ['a', 'b', 'c', 'f', 'd']);
  assert.deepEqual(table.get('c'), ['b', 'a', 'd', 'e', 'f']);
  assert.deepEqual(conceptNeighbours(keys, vectors, 2, 1).get('d'), ['c']);
  for (const [k, list] of table) assert.ok(!list.includes(k), `${k} is its own neighbour`);
  assert.throws(() => conceptNeighbours(['a', 'a'], [1, 0, 0, 1], 2), /distinct/);
  assert.throws(() => conceptNeighbours(['a', 'b'], [1, 0, 0], 2), /4 values expected, got 3/);
  assert.throws(() => conceptNeighbours(['a', 'b'], [1, 0, 0, 0], 2), /'b' is zero/);
});

test('nearestConcept: each loser is an image of the nearest other concept with images in the pool', () => {
  const concepts = ['grin', 'grin-big-eyes', 'cat', 'dog'];
  const set = styledSet(concepts, ['twemoji', 'noto']);
  // Only 'grin', 'cat' and 'dog' are training images: 'grin-big-eyes' is an unseen concept.
  const trainIdx = [0, 1, 4, 5, 6, 7];
  const train = { ...set, size: trainIdx.length, pixels: (i: number) => set.pixels(trainIdx[i] as number), id: (i: number) => set.id(trainIdx[i] as number) };
  const pool = imagePool(train, emojiConceptOfId);
  const neighbours = new Map<string, string[]>([
    ['grin', ['grin-big-eyes', 'cat', 'dog']], // the nearest has no image: the next one is used
    ['cat', ['dog', 'grin']],
    ['dog', ['cat', 'grin']],
  ]);
  const ids = [train.id(0), train.id(2), train.id(5)]; // twemoji/grin, twemoji/cat, noto/dog
  const winners = poolImages(pool, [0, 2, 5]);
  const rng = new Rng(4);
  const seen = new Set<string>();
  for (let draw = 0; draw < 200; draw++) {
    const { losers, sources } = nearestConcept.apply({ winners, ids, concepts: ids.map(emojiConceptOfId), rng }, { pool, neighbours });
    assert.deepEqual(sources.map(emojiConceptOfId), ['cat', 'dog', 'cat']);
    sources.forEach((s) => seen.add(s));
    if (draw === 0) {
      const want = poolImages(
        pool,
        sources.map((s) => [...Array(pool.size).keys()].find((i) => train.id(i) === s) as number),
      );
      assert.deepEqual(Array.from(losers.dataSync()), Array.from(want.dataSync()));
      want.dispose();
    }
    losers.dispose();
  }
  assert.ok(seen.has('twemoji/cat') && seen.has('noto/cat'), 'both designs of the neighbour are drawn');
  assert.throws(() => nearestConcept.apply({ winners, ids, concepts: ids.map(emojiConceptOfId), rng }, { pool }), /needs context.neighbours/);
  assert.throws(() => nearestConcept.apply({ winners, ids, concepts: ['grin', 'cat', 'fox'], rng }, { pool, neighbours }), /'fox' is not in the neighbour table/);
  winners.dispose();
});
