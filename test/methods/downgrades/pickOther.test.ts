import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickOther } from '../../../src/methods/downgrades/pickOther.js';
import { Rng } from '../../../src/util/rng.js';

test('pickOther in the batch: no fixed point and never the same concept over 10,000 draws', () => {
  // Concepts repeat inside the batch (two designs of 'smile', three of 'cat') so that "not the
  // winner itself" and "not the same concept" are different conditions.
  const concepts = ['smile', 'cat', 'smile', 'dog', 'cat', 'cat', 'sun'];
  const rng = new Rng(5);
  const counts = concepts.map(() => new Map<number, number>());
  for (let draw = 0; draw < 10_000 / concepts.length + 1; draw++) {
    pickOther(concepts, rng).forEach((j, i) => {
      assert.notEqual(j, i, 'fixed point');
      assert.notEqual(concepts[j], concepts[i], `winner ${i} got its own concept '${concepts[i]}'`);
      const m = counts[i] as Map<number, number>;
      m.set(j, (m.get(j) ?? 0) + 1);
    });
  }
  // Uniform over the valid candidates: winner 1 ('cat') has 4 (0, 2, 3, 6), each near 1/4.
  const cat = counts[1] as Map<number, number>;
  assert.deepEqual([...cat.keys()].sort(), [0, 2, 3, 6]);
  const total = [...cat.values()].reduce((a, b) => a + b, 0);
  for (const [j, c] of cat) assert.ok(Math.abs(c / total - 0.25) < 0.05, `candidate ${j}: ${c}/${total}`);
});

test('pickOther from a dataset: 10,000 draws never return the winner or its concept', () => {
  // 50 concepts x 4 designs; winners are dataset images, so the winner itself is a candidate.
  const datasetConcepts = Array.from({ length: 200 }, (_, j) => `c${j % 50}`);
  const source = { size: datasetConcepts.length, concept: (j: number) => datasetConcepts[j] as string };
  const rng = new Rng(9);
  const winners = Array.from({ length: 10 }, (_, b) => b * 17);
  const winnerConcepts = winners.map((j) => datasetConcepts[j] as string);
  for (let draw = 0; draw < 1000; draw++) {
    pickOther(winnerConcepts, rng, source).forEach((j, b) => {
      assert.ok(Number.isInteger(j) && j >= 0 && j < 200);
      assert.notEqual(j, winners[b]);
      assert.notEqual(datasetConcepts[j], winnerConcepts[b]);
    });
  }
});

test('pickOther falls back to enumeration when almost every candidate shares the concept, and is seeded', () => {
  const concepts = [...Array.from({ length: 999 }, () => 'same'), 'other'];
  const picks = pickOther(concepts.slice(0, 5), new Rng(1), { size: concepts.length, concept: (j) => concepts[j] as string });
  assert.deepEqual(picks, [999, 999, 999, 999, 999]);
  const a = pickOther(['a', 'b', 'c', 'a'], new Rng(3));
  assert.deepEqual(pickOther(['a', 'b', 'c', 'a'], new Rng(3)), a);
});

test('pickOther throws when a winner has no candidate of another concept', () => {
  assert.throws(() => pickOther(['x', 'x', 'x'], new Rng(1)), /winner 0 \(concept 'x'\) has no candidate/);
  assert.throws(() => pickOther(['x'], new Rng(1)), /no candidate/);
});
