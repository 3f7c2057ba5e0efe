import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Downgrade } from '../../../src/methods/downgrades/downgrade.js';
import * as index from '../../../src/methods/downgrades/index.js';
import { DOWNGRADE_NAMES, DOWNGRADES, downgradeNames, getDowngrade, isDowngradeName, registerDowngrade } from '../../../src/methods/downgrades/registry.js';

const DIR = join(__dirname, '../../../src/methods/downgrades');

function isDowngrade(value: unknown): value is Downgrade {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.apply === 'function' && Array.isArray(v.needs);
}

test('the registry lists the downgrade of every file in src/methods/downgrades, under its own name', async () => {
  const found = new Map<string, Downgrade>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'registry.ts')) {
    const mod = (await import(join(DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isDowngrade(value)) found.set(value.name, value);
  }
  assert.ok(found.size >= 4, `found ${[...found.keys()]}`);
  assert.deepEqual([...found.keys()].sort(), [...DOWNGRADE_NAMES].sort());
  for (const name of DOWNGRADE_NAMES) {
    assert.equal(DOWNGRADES[name].name, name, `registry key ${name}`);
    assert.equal(DOWNGRADES[name], found.get(name), `${name} is the object its file exports`);
    assert.ok(DOWNGRADES[name].description.length > 0);
  }
  for (const want of ['randomImage', 'blur', 'randomGrid', 'nearestConcept']) assert.ok(isDowngradeName(want), want);
});

test('getDowngrade names the known downgrades when asked for an unknown one; the index exports the registry', () => {
  assert.equal(getDowngrade('blur'), DOWNGRADES.blur);
  assert.throws(() => getDowngrade('sharpen'), /unknown downgrade 'sharpen'; expected one of randomImage, .*blur/);
  assert.equal(isDowngradeName('toString'), false);
  assert.equal(index.DOWNGRADES, DOWNGRADES);
});

test('registerDowngrade adds a downgrade by a name that is new and well formed; lookups and the known names include it', () => {
  const keep: Downgrade = { name: 'toyKeep', description: 'toy: the winner itself', needs: [], apply: ({ winners, ids }) => ({ losers: winners.clone(), sources: [...ids] }) };
  assert.equal(isDowngradeName('toyKeep'), false);
  registerDowngrade(keep);
  assert.equal(getDowngrade('toyKeep'), keep);
  assert.equal(isDowngradeName('toyKeep'), true);
  assert.deepEqual(downgradeNames(), [...DOWNGRADE_NAMES, 'toyKeep']);
  assert.deepEqual(DOWNGRADE_NAMES, Object.keys(DOWNGRADES), 'the built-in list is unchanged');
  assert.throws(() => getDowngrade('sharpen'), /unknown downgrade 'sharpen'; expected one of randomImage, .*nearestConcept, toyKeep$/);
  assert.throws(() => registerDowngrade(keep), /a downgrade called 'toyKeep' is already registered/);
  assert.throws(() => registerDowngrade({ ...keep, name: 'blur' }), /'blur' is already registered/);
  for (const bad of ['', '9lives', 'two words', 'toString()']) assert.throws(() => registerDowngrade({ ...keep, name: bad }), /registerDowngrade: name must be a letter/, JSON.stringify(bad));
});
