import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

test('no npm script is, by its name, a pre- or post-hook of another script', () => {
  // npm runs "preX" before and "postX" after `npm run X`: a script named "pretrain" once made
  // `npm run train` start pretraining base-S first.
  const scripts = Object.keys((JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
  const hooks = scripts.flatMap((name) => ['pre', 'post'].filter((p) => name.startsWith(p) && scripts.includes(name.slice(p.length))).map((p) => `${name} (runs with ${name.slice(p.length)})`));
  assert.deepEqual(hooks, []);
});
