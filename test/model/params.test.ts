import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { glorotUniform, heNormal, ones, Params, Scope, zeros } from '../../src/model/params.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const values = (v: tf.Tensor): number[] => Array.from(v.dataSync());

test('same seed and name give identical initial values whatever the creation order', () => {
  const a = new Params(42);
  const a1 = values(a.get('layer/w', [3, 4], { normal: 1 }));
  const a2 = values(a.get('layer/b', [5], { uniform: 0.5 }));
  const b = new Params(42);
  const b2 = values(b.get('layer/b', [5], { uniform: 0.5 }));
  b.get('other', [7], { normal: 1 }); // an extra draw in between changes nothing
  const b1 = values(b.get('layer/w', [3, 4], { normal: 1 }));
  assert.deepEqual(b1, a1);
  assert.deepEqual(b2, a2);
  assert.deepEqual(a.names, ['layer/w', 'layer/b']);
  assert.deepEqual(b.names, ['layer/b', 'other', 'layer/w']);
  assert.equal(a.size, 12 + 5);
  a.dispose();
  b.dispose();
});

test('different names or seeds give different values; inits have their scale', () => {
  const p = new Params(1);
  const w1 = values(p.get('w1', [400], { normal: 1 }));
  const w2 = values(p.get('w2', [400], { normal: 1 }));
  assert.notDeepEqual(w1, w2);
  const q = new Params(2);
  assert.notDeepEqual(values(q.get('w1', [400], { normal: 1 })), w1);
  // A normal init of std 1 over 400 draws: sample std within 15% of 1.
  const mean = w1.reduce((s, x) => s + x, 0) / w1.length;
  const std = Math.sqrt(w1.reduce((s, x) => s + (x - mean) ** 2, 0) / w1.length);
  assert.ok(Math.abs(std - 1) < 0.15, `std ${std}`);
  // A uniform init of bound 0.1 stays inside it.
  const u = values(p.get('u', [400], { uniform: 0.1 }));
  assert.ok(u.every((x) => Math.abs(x) <= 0.1) && u.some((x) => Math.abs(x) > 0.05));
  assert.deepEqual(values(p.get('z', [3], zeros)), [0, 0, 0]);
  assert.deepEqual(values(p.get('o', [2], ones)), [1, 1]);
  // Hand values of the helpers: He std sqrt(2/fanIn), Glorot bound sqrt(6/(fanIn+fanOut)).
  assert.deepEqual(heNormal(8), { normal: 0.5 });
  assert.deepEqual(glorotUniform(2, 4), { uniform: 1 });
  p.dispose();
  q.dispose();
});

test('get returns the existing variable; a different shape throws naming the parameter', () => {
  const p = new Params(0);
  const v = p.get('a/w', [2, 3], zeros);
  assert.equal(p.get('a/w', [2, 3], ones), v, 'the same variable, not re-initialised');
  assert.deepEqual(values(v), [0, 0, 0, 0, 0, 0]);
  assert.throws(() => p.get('a/w', [3, 2], zeros), /parameter a\/w: shape \[2,3\] does not match the model's \[3,2\]/);
  assert.throws(() => p.get('a/w', [2, 3, 1], zeros), /parameter a\/w/);
  p.dispose();
});

test('after freezeShapes an unknown name throws naming it, a different shape throws, known ones still work', () => {
  const p = new Params(0);
  const scope = new Scope(p, 'net/').child('block0');
  const w = scope.get('w', [2, 2], ones);
  assert.deepEqual(p.names, ['net/block0/w']);
  p.freezeShapes();
  assert.equal(scope.get('w', [2, 2], zeros), w);
  assert.throws(() => scope.get('extra', [4], zeros), /parameter net\/block0\/extra \[4\] is missing/);
  assert.throws(() => p.get('net/block0/w', [4], zeros), /parameter net\/block0\/w: shape \[2,2\] does not match the model's \[4\]/);
  assert.deepEqual(p.names, ['net/block0/w'], 'nothing was added');
  assert.throws(() => p.variable('nope'), /no parameter named nope/);
  p.dispose();
});

test('clone makes independent variables with the same values', () => {
  const p = new Params(3);
  p.get('w', [4], { normal: 1 });
  p.get('b', [2], zeros);
  const original = values(p.variable('w'));
  const c = p.clone(false);
  assert.deepEqual(c.names, p.names);
  assert.deepEqual(values(c.variable('w')), original);
  assert.notEqual(c.variable('w'), p.variable('w'));
  assert.equal(c.variable('w').trainable, false);
  assert.equal(p.variable('w').trainable, true);
  c.variable('w').assign(tf.tensor1d([9, 9, 9, 9]));
  assert.deepEqual(values(p.variable('w')), original, 'changing the clone leaves the original alone');
  p.variable('b').assign(tf.tensor1d([5, 6]));
  assert.deepEqual(values(c.variable('b')), [0, 0], 'and the other way round');
  // Disposing the clone leaves the original usable.
  c.dispose();
  assert.deepEqual(values(p.variable('w')), original);
  // copyFrom brings values across.
  const d = p.clone();
  d.variable('w').assign(tf.tensor1d([1, 2, 3, 4]));
  p.copyFrom(d);
  assert.deepEqual(values(p.variable('w')), [1, 2, 3, 4]);
  d.dispose();
  p.dispose();
});

test('a frozen store stays frozen in its clone', () => {
  const p = new Params(0);
  p.get('w', [1], zeros);
  p.freezeShapes();
  const c = p.clone();
  assert.throws(() => c.get('new', [1], zeros), /parameter new \[1\] is missing/);
  c.dispose();
  p.dispose();
});

test('assign sets values; a missing name throws when complete, not otherwise; wrong shapes and unknown names throw', () => {
  const p = new Params(0);
  p.get('a', [2], zeros);
  p.get('b', [3], zeros);
  p.assign(
    new Map([
      ['a', { shape: [2], data: Float32Array.of(1, 2) }],
      ['b', { shape: [3], data: Float32Array.of(3, 4, 5) }],
    ]),
  );
  assert.deepEqual(values(p.variable('a')), [1, 2]);
  assert.deepEqual(values(p.variable('b')), [3, 4, 5]);
  const onlyA = new Map([['a', { shape: [2], data: Float32Array.of(7, 8) }]]);
  assert.throws(() => p.assign(onlyA), /weights are missing 1 parameter\(s\), e\.g\. b/);
  p.assign(onlyA, false);
  assert.deepEqual(values(p.variable('a')), [7, 8]);
  assert.throws(() => p.assign(new Map([['a', { shape: [1, 2], data: Float32Array.of(1, 2) }]]), false), /parameter a: shape \[1,2\] does not match \[2\]/);
  // Unfrozen: a new name is created; frozen: it is refused.
  p.assign(new Map([['c', { shape: [1], data: Float32Array.of(6) }]]), false);
  assert.deepEqual(values(p.variable('c')), [6]);
  p.freezeShapes();
  assert.throws(() => p.assign(new Map([['d', { shape: [1], data: Float32Array.of(6) }]]), false), /parameter d is not part of the model/);
  p.dispose();
});

test('assign into an empty store creates every parameter; dispose frees them', () => {
  const before = tf.memory().numTensors;
  const p = new Params(0);
  p.assign(
    new Map([
      ['x', { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }],
      ['y', { shape: [1], data: Float32Array.of(5) }],
    ]),
  );
  assert.deepEqual(p.names, ['x', 'y']);
  assert.deepEqual(p.variable('x').shape, [2, 2]);
  assert.equal(p.size, 5);
  assert.equal(tf.memory().numTensors, before + 2, 'one tensor per parameter, no temporaries left');
  p.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(p.names, []);
});
