import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { RUN_LOCK } from '../src/runs/runLock.js';

const repo = join(__dirname, '..');

// results/ and the shipped checkpoints are what a fresh clone reads: the notebooks, the
// reproduction's resume and the READMEs' "records kept beside this file". A broad ignore
// pattern (once `runs/`, which also matched results/*/runs/) silently kept them out of git,
// and only a clean checkout noticed.
test('nothing under results/ or the shipped data is ignored by git', (t) => {
  const git = spawnSync('git', ['ls-files', '--others', '--ignored', '--exclude-standard', '--', 'results', 'data/base-s', 'data/judges', 'data/prompts'], { cwd: repo, encoding: 'utf8' });
  if (git.status !== 0) {
    t.skip(`not a git checkout here (${git.stderr.trim() || git.error?.message})`);
    return;
  }
  // A run's lock (RUN_LOCK) is ignored on purpose: it exists only while a command holds a folder (a sweep redrawing results/tuning, say).
  const ignored = git.stdout.split('\n').filter((f) => f !== '' && basename(f) !== RUN_LOCK);
  assert.deepEqual(ignored, []);
});
