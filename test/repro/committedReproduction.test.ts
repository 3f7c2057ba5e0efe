import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { committedReproduction } from '../../src/repro/committedReproduction.js';

/** results/<name>/ with a preset of `methods` x `seeds` and done.json in the units named. */
function fakeReproduction(root: string, name: string, methods: string[], seeds: number[], doneUnits: string[]): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'preset.json'), JSON.stringify({ preset: { name, methods, seeds }, invocations: [] }));
  for (const unit of doneUnits) {
    mkdirSync(join(dir, 'runs', unit), { recursive: true });
    writeFileSync(join(dir, 'runs', unit, 'done.json'), JSON.stringify({ unit, trainSeconds: 1, evalSeconds: 1, finished: 'now' }));
  }
}

test('the notebooks read the paper preset only once all its units are done, else the quick one', () => {
  const root = mkdtempSync(join(tmpdir(), 'selfdpo-committed-'));
  try {
    // paper: base + 2 methods x 2 seeds = 5 units, 3 done; quick: base + 1 method x 1 seed, both done.
    fakeReproduction(root, 'paper', ['sft', 'self-dpo'], [1, 2], ['base', 'sft-s1', 'sft-s2']);
    // A leftover unit of another method neither completes nor joins the quick preset.
    fakeReproduction(root, 'quick', ['sft'], [1], ['base', 'sft-s1', 'dpo-s1']);
    const quick = committedReproduction(root);
    assert.equal(quick.dir, join(root, 'quick'));
    assert.equal(quick.expected, 2);
    assert.deepEqual(
      quick.units.map((u) => u.unit),
      ['base', 'sft-s1'],
    );
    for (const unit of ['self-dpo-s1', 'self-dpo-s2']) fakeReproduction(root, 'paper', ['sft', 'self-dpo'], [1, 2], [unit]);
    assert.equal(committedReproduction(root).dir, join(root, 'paper'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with no finished reproduction the error says what was found and what to run', () => {
  const root = mkdtempSync(join(tmpdir(), 'selfdpo-committed-'));
  try {
    assert.throws(() => committedReproduction(root), /none of paper, quick has a preset\.json.*npm run reproduce -- --preset quick/);
    fakeReproduction(root, 'quick', ['sft'], [1], ['base', 'sft-s2']);
    assert.throws(() => committedReproduction(root), /quick: 1 of 2 units finished.*npm run reproduce -- --preset quick/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
