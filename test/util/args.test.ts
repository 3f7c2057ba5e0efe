import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagHelp, numberFlag, parseArgs } from '../../src/util/args.js';

const flags = [
  { name: 'force', help: 'replace' },
  { name: 'resolution', value: 'N', help: 'image size' },
  { name: 'config', value: 'FILE', default: 'c.json', help: 'a config' },
] as const;

test('flags in both forms, switches, defaults and positionals', () => {
  const a = parseArgs(['x', '--force', '--resolution', '64', '--config=d.json', 'y'], flags, { positional: true });
  assert.deepEqual(a.positional, ['x', 'y']);
  assert.deepEqual({ ...a.flags }, { force: true, resolution: '64', config: 'd.json' });
  assert.equal(numberFlag(a, 'resolution', 32), 64);
  const none = parseArgs([], flags);
  assert.equal(numberFlag(none, 'resolution', 32), 32);
  assert.deepEqual({ ...none.flags }, { config: 'c.json' }, 'a default is filled in; a switch left off is absent');
});

test('unknown flags, missing values and bad numbers name the flag', () => {
  assert.throws(() => parseArgs(['--frce'], flags), /unknown flag --frce \(known: --force, --resolution, --config\)/);
  assert.throws(() => parseArgs(['help'], flags), /unexpected argument "help"/);
  assert.throws(() => parseArgs(['--resolution'], flags), /--resolution needs a value/);
  assert.throws(() => parseArgs(['--resolution', '--force'], flags), /--resolution needs a value/);
  assert.throws(() => parseArgs(['--force=yes'], flags), /--force takes no value/);
  assert.throws(() => numberFlag(parseArgs(['--resolution', 'big'], flags), 'resolution', 32), /--resolution: expected a number, got "big"/);
  for (const argv of [['--frce'], ['help'], ['--resolution'], ['--force=yes']]) {
    assert.throws(
      () => parseArgs(argv, flags),
      (e: Error) => e.name === 'UsageError',
    );
  }
});

test('the help lists every flag with its placeholder and default, in the given order', () => {
  assert.equal(flagHelp(flags), ['  --force         replace', '  --resolution N  image size', '  --config FILE   a config (default: c.json)'].join('\n'));
});
