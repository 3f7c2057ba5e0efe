import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberFlag, parseArgs } from '../../src/util/args.js';

const spec = { boolean: ['force'], string: ['resolution', 'config'] };

test('flags in both forms, booleans and positionals', () => {
  const a = parseArgs(['x', '--force', '--resolution', '64', '--config=c.json', 'y'], { ...spec, positional: true });
  assert.deepEqual(a.positional, ['x', 'y']);
  assert.deepEqual(a.flags, { force: true, resolution: '64', config: 'c.json' });
  assert.equal(numberFlag(a, 'resolution', 32), 64);
  assert.equal(numberFlag(parseArgs([], spec), 'resolution', 32), 32);
});

test('unknown flags, missing values and bad numbers name the flag', () => {
  assert.throws(() => parseArgs(['--frce'], spec), /unknown flag --frce \(known: --force, --resolution, --config\)/);
  assert.throws(() => parseArgs(['help'], spec), /unexpected argument "help"/);
  assert.throws(() => parseArgs(['--resolution'], spec), /--resolution needs a value/);
  assert.throws(() => parseArgs(['--resolution', '--force'], spec), /--resolution needs a value/);
  assert.throws(() => parseArgs(['--force=yes'], spec), /--force takes no value/);
  assert.throws(() => numberFlag(parseArgs(['--resolution', 'big'], spec), 'resolution', 32), /--resolution: expected a number, got "big"/);
});
