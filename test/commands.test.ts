import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandHelp } from '../src/commands/command.js';
import { workersFlag } from '../src/commands/commonFlags.js';
import { COMMANDS } from '../src/commands/registry.js';
import { parseArgs, UsageError } from '../src/util/args.js';

test("every command's help lists every flag its parser accepts, and the parser accepts every flag its help lists", () => {
  for (const command of COMMANDS) {
    const help = commandHelp(command);
    const listed = [...help.matchAll(/^ {2}--([a-z0-9-]+)( [^ ]+)?/gm)].map((m) => ({ name: m[1] as string, takesValue: m[2] !== undefined }));
    assert.deepEqual(
      listed.map((f) => f.name),
      [...command.flags.map((f) => f.name), 'help'],
      command.name,
    );
    for (const f of listed.filter((f) => f.name !== 'help')) {
      const args = parseArgs(f.takesValue ? [`--${f.name}`, 'v'] : [`--${f.name}`], command.flags);
      assert.equal(args.flags[f.name], f.takesValue ? 'v' : true, `${command.name} --${f.name}`);
    }
    assert.throws(() => parseArgs(['--no-such-flag'], command.flags), UsageError, command.name);
  }
});

test('a flag name means one thing in every command: a switch everywhere or a value of one kind everywhere', () => {
  const kinds = new Map<string, Set<string>>();
  for (const command of COMMANDS) for (const f of command.flags) kinds.set(f.name, (kinds.get(f.name) ?? new Set()).add(f.value ?? '(switch)'));
  // --out is where each command writes: a folder, or the one file it makes (PNG, JSON).
  const mixed = [...kinds].filter(([name, k]) => k.size > 1 && !(name === 'out' && !k.has('(switch)')));
  assert.deepEqual(mixed, []);
  assert.deepEqual([...(kinds.get('prompts') ?? [])], ['SET'], '--prompts names a prompt set wherever it is taken');
});

test('--workers above 1 is refused on tfjs-node backends, and checked on the others', () => {
  const args = (n: string) => parseArgs(['--workers', n], [{ name: 'workers', value: 'N', help: '' }]);
  assert.equal(workersFlag(args('2'), 'wasm'), 2);
  assert.equal(workersFlag(args('1'), 'tensorflow'), 1);
  assert.throws(() => workersFlag(args('2'), 'tensorflow'), /--workers 2: the tensorflow backend \(tfjs-node\) runs one worker/);
  assert.throws(() => workersFlag(args('0'), 'wasm'), /--workers: expected an integer in \[1, 64\], got 0/);
  assert.equal(workersFlag(parseArgs([], [{ name: 'workers', value: 'N', help: '' }]), 'tensorflow-gpu'), 1, 'the default on tfjs-node is 1');
});
