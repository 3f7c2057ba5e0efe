import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { lockRunFolder, RUN_LOCK } from '../../src/runs/runLock.js';
import { pretrain, type PretrainData } from '../../src/train/pretrain.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
import type { EmojiT2I } from '../../src/data/emojiDataset.js';
import { reproduce, type ReproduceOptions } from '../../src/repro/reproduce.js';
import { QUICK } from '../../src/repro/reproPresets.js';
import { runCommand } from '../../src/commands/command.js';
import { tuneCommand } from '../../src/commands/tuneCommand.js';
import { evalCommand } from '../../src/commands/evalCommand.js';
import { smokeBase } from '../train/trainHelpers.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a run folder is locked by one process at a time; a dead holder\'s lock is taken over, saying so; release frees it', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lock-')), 'run');
  const release = lockRunFolder(dir);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8')), { pid: process.pid, host: hostname() });
  assert.throws(() => lockRunFolder(dir), new RegExp(`run is in use by process ${process.pid} \\(.*\\.lock\\)`));
  release();
  assert.equal(existsSync(dir), false, 'a folder the lock created and nothing filled is removed with it');
  mkdirSync(dir);
  // Killed mid-run: its lock names a process that is gone; the takeover is said.
  const dead = deadPid();
  writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: dead, host: hostname() }));
  const said = t.mock.method(console, 'error', () => {});
  const again = lockRunFolder(dir);
  assert.match(String(said.mock.calls[0]?.arguments[0]), new RegExp(`\\.lock: process ${dead}, which held this lock, is gone \\(killed\\?\\); taking it over`));
  said.mock.restore();
  assert.equal(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8')).pid, process.pid);
  again();
  // Cut while being written: taken over too.
  writeFileSync(join(dir, RUN_LOCK), '{"pi');
  lockRunFolder(dir)();
  // Another machine's lock cannot be checked: refused, naming the host.
  writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: 1, host: 'elsewhere' }));
  assert.throws(() => lockRunFolder(dir), /locked by process 1 on elsewhere/);
});

test('a second pretraining started into a busy run folder is refused, and the first finishes alone', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const data: PretrainData = { train: fakeImageTextSet(16), vocabularyTexts: ['red green blue yellow square'], heldout: { probe: fakeImageTextSet(4, 32, 9) }, source: { test: true } };
  const config = resolvePretrainConfig({ ...SMOKE_OVERRIDE, train: { ...SMOKE_OVERRIDE.train, steps: 4 } });
  const dir = join(mkdtempSync(join(tmpdir(), 'lock-run-')), 'run');
  const first = pretrain(config, data, dir, { quiet: true });
  await assert.rejects(pretrain(config, data, dir, { quiet: true }), /run is in use by process \d+/);
  await assert.rejects(pretrain(config, data, dir, { quiet: true, force: true }), /in use/, '--force does not take a live run\'s folder');
  assert.equal((await first).step, 4);
  const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, [1, 2, 3, 4]);
  assert.equal(existsSync(join(dir, RUN_LOCK)), false, 'released at the end');
  // Finished and unlocked: --force starts it over.
  assert.equal((await pretrain(config, data, dir, { quiet: true, force: true })).resumedFrom, 0);
});

test('a reproduction refuses a work folder that another process holds, before touching anything', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lock-repro-'));
  const work = join(root, 'work');
  const release = lockRunFolder(work);
  try {
    await assert.rejects(reproduce(QUICK, {} as EmojiT2I, { out: join(root, 'out'), work, base: 'none', judges: 'none' } as ReproduceOptions), /work is in use by process \d+/);
    assert.equal(existsSync(join(root, 'out')), false);
  } finally {
    release();
  }
});

test('a tuning sweep refuses a runs or report folder that another process holds, before touching anything', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lock-tune-'));
  const base = await smokeBase();
  const out = join(root, 'runs');
  const results = join(root, 'results');
  const argv = ['--base', base, '--out', out, '--results', results, '--steps', '2'];
  for (const [held, untouched] of [
    [out, results],
    [results, out],
  ] as const) {
    const release = lockRunFolder(held);
    try {
      await assert.rejects(runCommand(tuneCommand, argv), new RegExp(`${held.replaceAll('/', '\\/')} is in use by process ${process.pid}`));
      assert.equal(existsSync(untouched), false, `${untouched} is neither created nor left behind`);
      await assert.rejects(runCommand(tuneCommand, [...argv, '--report-only']), held === results ? /in use/ : /no tuning runs/, '--report-only writes only the report folder, under its lock');
    } finally {
      release();
    }
  }
});

test('an evaluation refuses a run folder still training, and a results folder another evaluation writes into, before any work', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lock-eval-'));
  const run = join(root, 'run');
  const results = join(root, 'results');
  for (const [held, argv] of [
    [run, ['--run', run]],
    [results, ['--model', join(root, 'nowhere'), '--out', join(results, 'base.json')]],
  ] as const) {
    const release = lockRunFolder(held);
    try {
      // No model exists anywhere here: a refusal that names the lock came before loading one.
      await assert.rejects(runCommand(evalCommand, [...argv]), new RegExp(`${held.replaceAll('/', '\\/')} is in use by process ${process.pid}`));
      assert.deepEqual(readdirSync(held), [RUN_LOCK], 'nothing written beside the lock');
    } finally {
      release();
    }
  }
  // Unlocked, the same evaluation gets as far as the missing model, and leaves no folder behind.
  await assert.rejects(runCommand(evalCommand, ['--model', join(root, 'nowhere'), '--out', join(results, 'base.json')]), /nowhere\/model\.json not found/);
  assert.equal(existsSync(results), false);
});

test('a tuning sweep of beta for a method without a preference loss is refused before anything runs', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'tune-sft-'));
  const argv = ['--method', 'sft', '--betas', '50,5000', '--base', await smokeBase(), '--out', join(root, 'runs'), '--results', join(root, 'results'), '--steps', '2'];
  await assert.rejects(runCommand(tuneCommand, argv), /--betas: sft has no preference loss for beta to weigh; sweep --lrs alone/);
  assert.equal(existsSync(join(root, 'runs')), false);
});
