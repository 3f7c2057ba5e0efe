import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCaption } from '../../src/data/captions.js';
import { captionAlternatives, drawTrainingCaption } from '../../src/data/trainingCaptions.js';
import { Rng } from '../../src/util/rng.js';

const pie = { name: 'pie', subgroup: 'sweets', group: 'food', keywords: ['apple', 'sweet'] };

test('captionAlternatives lists every caption of the concept, then shorter ones (written out by hand)', () => {
  assert.deepEqual(captionAlternatives(pie, 'full'), [
    'pie, sweets, food, apple, sweet',
    'pie, sweets, food, sweet, apple',
    'pie, sweets, food, apple',
    'pie, sweets, food, sweet',
    'pie, sweets, food',
    'pie, sweets',
    'pie',
  ]);
  assert.deepEqual(captionAlternatives(pie, 'loose'), ['apple, sweet', 'sweet, apple', 'apple', 'sweet', 'sweets']);
  assert.deepEqual(captionAlternatives({ ...pie, keywords: [] }, 'full', 'noto style'), ['pie, sweets, food, noto style', 'pie, sweets, noto style', 'pie, noto style']);
  // Every draw of buildCaption is among them.
  const all = new Set(captionAlternatives({ ...pie, keywords: ['a', 'b', 'c', 'd'] }, 'full'));
  for (let s = 0; s < 200; s++) assert.ok(all.has(buildCaption({ ...pie, keywords: ['a', 'b', 'c', 'd'] }, new Rng(s))));
});

test('drawTrainingCaption keeps the draw when it is free, and never returns a reserved string', () => {
  for (let s = 0; s < 50; s++) assert.equal(drawTrainingCaption(pie, new Rng(s), 'full', '', new Set()), buildCaption(pie, new Rng(s)));
  // Both full captions reserved: the trainer falls back to shorter captions, never to these.
  const reserved = new Set(['pie, sweets, food, apple, sweet', 'pie, sweets, food, sweet, apple']);
  const drawn = new Set(Array.from({ length: 100 }, (_, s) => drawTrainingCaption(pie, new Rng(s), 'full', '', reserved)));
  assert.ok([...drawn].every((c) => !reserved.has(c)));
  assert.deepEqual([...drawn].sort(), ['pie', 'pie, sweets', 'pie, sweets, food', 'pie, sweets, food, apple', 'pie, sweets, food, sweet']);
  assert.throws(() => drawTrainingCaption({ ...pie, keywords: [] }, new Rng(0), 'full', '', new Set(captionAlternatives({ ...pie, keywords: [] }, 'full'))), /concept "pie"/);
});
