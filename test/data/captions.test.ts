import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCaption } from '../../src/data/captions.js';
import { Rng } from '../../src/util/rng.js';

const apple = { name: 'red apple', subgroup: 'food-fruit', group: 'food & drink', keywords: ['fruit', 'red', 'apple tree', 'crisp', 'orchard'] };

test('a full caption is name, subgroup, group and three distinct keywords from the pool', () => {
  const parts = buildCaption(apple, new Rng(5)).split(', ');
  assert.deepEqual(parts.slice(0, 3), ['red apple', 'food-fruit', 'food & drink']);
  assert.equal(parts.length, 6);
  assert.equal(new Set(parts.slice(3)).size, 3);
  assert.ok(parts.slice(3).every((k) => apple.keywords.includes(k)));
});

test('keywords are re-drawn with the stream and reproducible with the seed', () => {
  assert.equal(buildCaption(apple, new Rng(5)), buildCaption(apple, new Rng(5)));
  const seen = new Set(Array.from({ length: 20 }, (_, s) => buildCaption(apple, new Rng(s))));
  assert.ok(seen.size > 3, `only ${seen.size} distinct captions over 20 seeds`);
});

test('loose captions carry keywords only; style words are appended on request', () => {
  const loose = buildCaption(apple, new Rng(1), 'loose').split(', ');
  assert.equal(loose.length, 3);
  assert.ok(loose.every((k) => apple.keywords.includes(k)));
  assert.equal(buildCaption({ ...apple, keywords: [] }, new Rng(1), 'loose'), 'food-fruit');
  assert.match(buildCaption(apple, new Rng(1), 'full', 'twemoji style'), /^red apple, .*, twemoji style$/);
});
