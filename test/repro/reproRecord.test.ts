import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkIdentity, identityDifferences } from '../../src/repro/reproIdentity.js';
import type { ReproPreset } from '../../src/repro/reproPresets.js';
import { asCurrentRecord } from '../../src/repro/reproRecord.js';
import { writeReproReport } from '../../src/repro/reproReport.js';
import { parseUnitName, presetUnitNames, unitName, type ReproIdentity } from '../../src/repro/reproUnits.js';

const budget = { train: { steps: 400, batchSize: 16, microBatch: 16 }, log: { every: 10, checkpointEvery: 50, evalEvery: 50, evalPairs: 128 } };
const evalSettings = { prompts: { 'curated-val': 160, 'unseen-concepts': 160, 'keyword-only': 160 }, sampling: { steps: 25, guidance: 3 } };

/** preset.json as a single-base reproduction wrote it (the shape of results/paper before base-L). */
const LEGACY = {
  preset: { name: 'paper', purpose: 'old words.', methods: ['sft', 'self-dpo'], seeds: [1, 2], ...budget, pick: 'data/emoji-pick', eval: evalSettings, grid: { prompts: 8, seeds: [0, 1] } },
  base: 'data/base-s',
  baseSha256: 'aa'.repeat(32),
  judges: { eval: 'e', annotator: 'a', realism: 'r' },
  configsSha256: 'c',
  dataSha256: 'd',
  pick: 'data/emoji-pick',
  pickSha256: 'p',
  invocations: [],
};

/** The same reproduction as today's code describes it: one base, its methods and budget under it, the keys in another order. */
const TODAY: ReproPreset = {
  name: 'paper',
  purpose: 'new words.',
  bases: [{ name: 'base-S', dir: 'elsewhere/base-s', methods: ['sft', 'self-dpo'], ...budget }],
  seeds: [1, 2],
  pick: 'data/emoji-pick',
  eval: evalSettings,
  grid: { prompts: 8, seeds: [0, 1] },
};

const identity = (preset: ReproPreset, sha = 'aa'.repeat(32)): ReproIdentity => ({
  preset,
  bases: Object.fromEntries(preset.bases.map((b) => [b.name, { dir: b.dir, sha256: sha }])),
  judges: LEGACY.judges,
  configsSha256: 'c',
  dataSha256: 'd',
  pick: 'data/emoji-pick',
  pickSha256: 'p',
});

test('unit names: base-S units keep the names of single-base reproductions, another base its folder', () => {
  assert.equal(unitName('self-dpo', 2), 'self-dpo-s2');
  assert.equal(unitName('base', 0, 'base-S'), 'base');
  assert.equal(unitName('self-dpo-no-mse', 3, 'base-L'), 'base-L/self-dpo-no-mse-s3');
  assert.equal(unitName('base', 0, 'base-L'), 'base-L/base');
  assert.deepEqual(parseUnitName('self-dpo-no-mse-s3'), { base: 'base-S', method: 'self-dpo-no-mse', seed: 3 });
  assert.deepEqual(parseUnitName('base-L/sft-s1'), { base: 'base-L', method: 'sft', seed: 1 });
  assert.deepEqual(parseUnitName('base-L/base'), { base: 'base-L', method: 'base', seed: 0 });
  assert.throws(() => parseUnitName('base-L/sft'), /not a unit name: base-L\/sft/);
  const two = { ...TODAY, bases: [...TODAY.bases, { name: 'base-L', dir: 'data/base-l', methods: ['sft'], ...budget }] };
  assert.deepEqual(presetUnitNames(two), ['base', 'sft-s1', 'sft-s2', 'self-dpo-s1', 'self-dpo-s2', 'base-L/base', 'base-L/sft-s1', 'base-L/sft-s2']);
});

test("a single-base record reads as one base-S, and resumes under today's preset of the same content", () => {
  const record = asCurrentRecord(LEGACY as never, 'preset.json');
  assert.deepEqual(record.preset.bases, [{ name: 'base-S', dir: 'data/base-s', methods: ['sft', 'self-dpo'], ...budget }]);
  assert.deepEqual(record.bases, { 'base-S': { dir: 'data/base-s', sha256: 'aa'.repeat(32) } });
  assert.equal('base' in record || 'baseSha256' in record, false);
  // The format alone, the prose and the base's folder are no difference; the content is.
  assert.deepEqual(identityDifferences(record, identity(TODAY)), []);
  assert.deepEqual(identityDifferences(record, identity({ ...TODAY, seeds: [1] })), ['preset']);
  assert.deepEqual(identityDifferences(record, identity(TODAY, 'bb'.repeat(32))), ['base weights']);
  const dir = mkdtempSync(join(tmpdir(), 'repro-record-'));
  try {
    writeFileSync(join(dir, 'preset.json'), JSON.stringify(LEGACY));
    checkIdentity(join(dir, 'preset.json'), identity(TODAY));
    assert.throws(
      () => checkIdentity(join(dir, 'preset.json'), identity({ ...TODAY, eval: { ...evalSettings, draws: 2 } })),
      /preset\.json: this reproduction was started with a different preset; pass --force/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed single-base reproductions redraw their tables from their units as they were', async () => {
  const root = mkdtempSync(join(tmpdir(), 'repro-legacy-'));
  try {
    for (const name of ['quick', 'paper']) {
      const dir = join(root, name);
      cpSync(join('results', name), dir, { recursive: true });
      await writeReproReport(dir);
      for (const f of ['table1.md', 'table2.md', 'table3.md', 'table4.md', 'table5.md'])
        assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join('results', name, f), 'utf8'), `${name}/${f}`);
      assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /- Base base-S: `data\/base-s` \(weights sha256 [0-9a-f]{16}\.\.\.\)/);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
