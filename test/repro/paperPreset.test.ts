import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { presetTuned, readTuningRuns, stepBudgets, tuningRow } from '../../src/report/tuningReport.js';
import { PAPER, tunedFor } from '../../src/repro/reproPresets.js';

test("the paper preset trains with what results/tuning chose: each base's lr and beta per method, and its steps", () => {
  const rows = readTuningRuns(join('results', 'tuning')).map(tuningRow);
  const tuned = presetTuned(rows);
  const budgets = stepBudgets(rows);
  for (const base of PAPER.bases) {
    const folder = basename(base.dir);
    assert.deepEqual(base.tuned, tuned[folder], `${base.name}: PAPER's tuned differs from the choices in results/tuning/README.md`);
    assert.equal(base.train.steps, budgets.get(folder)?.steps, `${base.name}: PAPER's steps differ from results/tuning/README.md's`);
    // Every method it trains has a tuned lr: its own, or that of the Self-DPO it ablates.
    for (const method of base.methods) assert.ok(tunedFor(base, method)?.lr !== undefined, `${base.name} ${method}: no tuned lr`);
  }
});
