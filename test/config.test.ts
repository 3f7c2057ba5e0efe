import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig } from '../src/config.js';
import { resolveEmojiDataConfig } from '../src/data/emojiConfig.js';

const defaults = { lr: 1e-4, name: 'base', nested: { steps: 10, on: true, list: [1, 2] } };

test('overrides merge deeply and leave defaults untouched', () => {
  const c = resolveConfig(defaults, { nested: { steps: 20 } });
  assert.deepEqual(c, { lr: 1e-4, name: 'base', nested: { steps: 20, on: true, list: [1, 2] } });
  assert.equal(defaults.nested.steps, 10);
  assert.deepEqual(resolveConfig(defaults, { nested: { list: [5] } }).nested.list, [5]);
});

test('an unknown key is rejected with its full path and the known keys', () => {
  assert.throws(
    () => resolveConfig(defaults, { nested: { stpes: 3 } }, 'configs/x.json'),
    (e: unknown) => e instanceof ConfigError && e.key === 'nested.stpes' && /configs\/x\.json: nested\.stpes: unknown key \(known keys here: steps, on, list\)/.test(e.message),
  );
});

test('inherited object keys are unknown keys, not loopholes', () => {
  assert.throws(() => resolveConfig(defaults, { toString: 1 }), /toString: unknown key/);
  assert.throws(() => resolveConfig(defaults, JSON.parse('{"__proto__": {"x": 1}}')), /__proto__: unknown key/);
  assert.throws(() => resolveConfig(defaults, { constructor: {} }), /constructor: unknown key/);
});

test('a wrong type is rejected with the path, expected and actual type', () => {
  assert.throws(() => resolveConfig(defaults, { lr: '0.1' }), /lr: expected number, got string/);
  assert.throws(() => resolveConfig(defaults, { nested: 5 }), /nested: expected an object, got number/);
  assert.throws(() => resolveConfig(defaults, { nested: { list: 'x' } }), /nested\.list: expected array, got string/);
  assert.throws(() => resolveConfig(defaults, { lr: Number.NaN }), /lr: expected a finite number/);
});

test('emoji data config checks ranges and names the key', () => {
  assert.equal(resolveEmojiDataConfig({ resolution: 64 }).resolution, 64);
  assert.throws(() => resolveEmojiDataConfig({ resolution: 48 }), /resolution: must be 32 or 64, got 48/);
  assert.throws(() => resolveEmojiDataConfig({ web: { jpeg: 1.5 } }), /web\.jpeg: must be in \[0, 1\], got 1\.5/);
  assert.throws(() => resolveEmojiDataConfig({ web: { looseCaption: 0.7, wrongCaption: 0.5 } }), /web\.wrongCaption/);
  assert.throws(() => resolveEmojiDataConfig({ web: { jpegQualityMin: 70, jpegQualityMax: 50 } }), /web\.jpegQualityMax/);
  assert.throws(() => resolveEmojiDataConfig({ seed: 1.5 }), /seed: must be an integer, got 1\.5/);
  assert.throws(() => resolveEmojiDataConfig({ seed: -1 }), /seed: must be in/);
  assert.throws(() => resolveEmojiDataConfig({ shardSize: 1.5 }), /shardSize: must be an integer/);
  assert.throws(() => resolveEmojiDataConfig({ maxConcepts: 2.5 }), /maxConcepts: must be an integer/);
});
