import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, Rng, stableHash32 } from '../../src/util/rng.js';

test('stableHash32 matches an independent Python implementation of FNV-1a + avalanche', () => {
  // Values computed with a separate Python implementation over UTF-8 bytes.
  assert.equal(stableHash32(''), 1572119809);
  assert.equal(stableHash32('a'), 1469464775);
  assert.equal(stableHash32('emoji-t2i-v1|1f600'), 1064495398);
  assert.equal(stableHash32('é'), 1658685056);
});

test('Rng (mulberry32) matches the reference sequence for seed 42', () => {
  const rng = new Rng(42);
  const expected = [0.6011037519201636, 0.44829055899754167, 0.8524657934904099];
  for (const e of expected) assert.ok(Math.abs(rng.next() - e) < 1e-15);
});

test('Rng draws are uniform enough and reproducible', () => {
  const a = new Rng(7);
  const xs = Array.from({ length: 20000 }, () => a.next());
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const b = new Rng(7);
  assert.deepEqual(
    Array.from({ length: 5 }, () => b.next()),
    xs.slice(0, 5),
  );
  const n = new Rng(3);
  const ns = Array.from({ length: 20000 }, () => n.normal());
  const nm = ns.reduce((s, x) => s + x, 0) / ns.length;
  const nv = ns.reduce((s, x) => s + (x - nm) ** 2, 0) / ns.length;
  assert.ok(Math.abs(nm) < 0.03 && Math.abs(nv - 1) < 0.05, `normal mean ${nm} var ${nv}`);
});

test('shuffle is a permutation, sample gives distinct items, pick refuses an empty list', () => {
  const rng = new Rng(1);
  const items = Array.from({ length: 50 }, (_, i) => i);
  const s = rng.shuffle(items);
  assert.deepEqual(
    [...s].sort((x, y) => x - y),
    items,
  );
  assert.notDeepEqual(s, items);
  const k = rng.sample(items, 10);
  assert.equal(new Set(k).size, 10);
  assert.equal(rng.sample([1, 2], 5).length, 2);
  assert.throws(() => rng.pick([]), /empty/);
});

test('deriveSeed separates streams by key', () => {
  assert.equal(deriveSeed(1, 'a', 2), deriveSeed(1, 'a', 2));
  assert.notEqual(deriveSeed(1, 'a', 2), deriveSeed(1, 'a', 3));
  assert.notEqual(deriveSeed(1, 'a'), deriveSeed(2, 'a'));
});
