import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { postTrain } from '../../src/train/postTrain.js';
import { pretrain, type PretrainData } from '../../src/train/pretrain.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE } from '../../src/train/pretrainConfig.js';
import { writeDirAtomic } from '../../src/util/atomicDir.js';
import { fakeImageTextSet } from '../train/fakeImageTextSet.js';
import { smokeBase, smokeTrainConfig, smokeTrainData } from '../train/trainHelpers.js';

before(async () => {
  await initBackend({ backend: 'wasm', quiet: true });
});

const data: PretrainData = { train: fakeImageTextSet(16), vocabularyTexts: ['red green blue yellow square'], heldout: { probe: fakeImageTextSet(4, 32, 9) }, source: { test: true } };
const config = (steps: number) => resolvePretrainConfig({ ...SMOKE_OVERRIDE, train: { ...SMOKE_OVERRIDE.train, steps } });
const fresh = (name: string): string => join(mkdtempSync(join(tmpdir(), `${name}-`)), 'run');
const steps = (file: string): number[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);

test('a metrics log cut in the middle stops the resume, naming the file and the missing steps', async () => {
  const dir = fresh('cut');
  await pretrain(config(4), data, dir, { quiet: true });
  const path = join(dir, 'metrics.jsonl');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  writeFileSync(path, `${[lines[0], lines[3]].join('\n')}\n`);
  await assert.rejects(pretrain(config(6), data, dir, { quiet: true }), /metrics\.jsonl: steps 2-3 \(2 in all\) are missing, though the state is at step 4; .*--force/);
});

test('a post-training run killed before its first checkpoint restarts with one step-0 probe, not two', async () => {
  const base = await smokeBase();
  const cfg = smokeTrainConfig(base, {}, { steps: 4 });
  const dir = fresh('probe0');
  await postTrain(cfg, smokeTrainData(), dir, { quiet: true, stopAfter: 1 });
  assert.deepEqual(steps(join(dir, 'heldout.jsonl')), [0]);
  await postTrain(cfg, smokeTrainData(), dir, { quiet: true });
  assert.deepEqual(steps(join(dir, 'heldout.jsonl')), [0, 2, 4]);
  assert.deepEqual(steps(join(dir, 'metrics.jsonl')), [1, 2, 3, 4]);
});

test('a garbled, cut or missing state.json is named, never taken for a fresh start', async () => {
  const dir = fresh('state');
  await pretrain(config(2), data, dir, { quiet: true });
  const statePath = join(dir, 'state', 'state.json');
  const good = readFileSync(statePath, 'utf8');
  writeFileSync(statePath, 'garbage{{{');
  await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), /state\.json: not valid JSON/);
  writeFileSync(statePath, '');
  await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), /state\.json: not valid JSON/);
  rmSync(statePath);
  await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), /state\.json is missing but .*weights\.bin.*the state is damaged; pass --force/);
  writeFileSync(statePath, good);
  const weightsPath = join(dir, 'state', 'weights.bin');
  const weights = readFileSync(weightsPath);
  const flipped = Buffer.from(weights);
  flipped[10] = (flipped[10] as number) ^ 1;
  writeFileSync(weightsPath, flipped);
  await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), /weights\.bin: sha256 .* does not match .*; this checkpoint cannot be resumed: pass --force to start the run over/);
  writeFileSync(weightsPath, weights);
  assert.equal((await pretrain(config(4), data, dir, { quiet: true })).resumedFrom, 2);
  writeFileSync(join(dir, 'config.json'), 'garbage{{{');
  await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), /config\.json: not valid JSON/);
});

test('temp files of killed writers are removed by the next write, saying so; a live writer\'s stay', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'orphans-'));
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const orphan = join(parent, `.state.${dead}.tmp`);
  const live = join(parent, `.state.${process.ppid}.tmp`);
  for (const d of [orphan, live]) mkdirSync(d);
  writeFileSync(join(parent, `config.json.${dead}.tmp`), 'half');
  const said = t.mock.method(console, 'error', () => {});
  await writeDirAtomic(join(parent, 'state'), (tmp) => writeFileSync(join(tmp, 'x'), 'x'));
  assert.deepEqual(
    said.mock.calls.map((c) => c.arguments[0]),
    [`removing ${orphan}: left by process ${dead}, which is gone (killed while writing)`],
  );
  said.mock.restore();
  assert.equal(existsSync(orphan), false, 'the dead writer\'s temp folder is gone');
  assert.equal(existsSync(live), true, 'a live process\'s temp folder stays');
  const { writeFileAtomic } = await import('../../src/util/atomicWrite.js');
  writeFileAtomic(join(parent, 'config.json'), '{}');
  assert.equal(existsSync(join(parent, `config.json.${dead}.tmp`)), false);
});

test('pretraining from a missing --init-from fails clearly and leaves no run folder', async () => {
  const dir = fresh('init');
  await assert.rejects(pretrain(config(2), data, dir, { quiet: true, initFrom: join(dir, '..', 'no-such-model') }), /model\.json not found/);
  assert.equal(existsSync(dir), false);
});

/** A finished 2-step pretraining run (checkpoint at step 2), copied fresh for each corruption. */
async function finishedRun(): Promise<string> {
  const dir = fresh('whole');
  await pretrain(config(2), data, dir, { quiet: true });
  return dir;
}

const cut = (text: Buffer): Buffer => text.subarray(0, Math.floor(text.length / 2));

test('every corruption of state.json, config.json, metrics.jsonl and a weights file stops the resume with an error naming the file and what to do', async () => {
  const whole = await finishedRun();
  const metricLines = readFileSync(join(whole, 'metrics.jsonl'), 'utf8').trim().split('\n');
  type Damage = [file: string, change: ((text: Buffer) => string | Buffer) | 'delete', error: RegExp];
  const cases: Damage[] = [
    ['state/state.json', () => 'garbage{{{', /state\.json: not valid JSON: .*this checkpoint cannot be resumed: pass --force/],
    ['state/state.json', cut, /state\.json: not valid JSON: .*this checkpoint cannot be resumed: pass --force/],
    ['state/state.json', () => '', /state\.json: not valid JSON: it is empty; this checkpoint cannot be resumed: pass --force/],
    ['state/state.json', 'delete', /state\.json is missing but .*weights\.bin.*the state is damaged; pass --force/],
    ['config.json', () => 'garbage{{{', /config\.json: not valid JSON: .*cannot be resumed: pass --force/],
    ['config.json', cut, /config\.json: not valid JSON: .*cannot be resumed: pass --force/],
    ['config.json', () => '', /config\.json: not valid JSON: it is empty; .*pass --force/],
    ['config.json', () => '[1, 2]', /config\.json: not a run's config .*pass --force/],
    ['config.json', 'delete', /holds a training state but no config\.json; pass --force/],
    ['metrics.jsonl', () => `${metricLines[0]}\ngarbage{{{\n${metricLines[1]}\n`, /metrics\.jsonl:2: not a record of this log .*Pass --force/],
    // Cut in the middle of step 2's line: the torn line is dropped, and step 2 is then missing.
    ['metrics.jsonl', (t) => t.subarray(0, t.length - 10), /metrics\.jsonl: steps 2-2 \(1 in all\) are missing, though the state is at step 2; .*--force/],
    ['metrics.jsonl', () => '', /metrics\.jsonl: steps 1-2 \(2 in all\) are missing/],
    ['metrics.jsonl', 'delete', /metrics\.jsonl: steps 1-2 \(2 in all\) are missing/],
    ['state/weights.bin', (t) => Buffer.concat([t.subarray(0, 10), Buffer.from([(t[10] as number) ^ 1]), t.subarray(11)]), /weights\.bin: sha256 .* does not match .*; this checkpoint cannot be resumed: pass --force/],
    ['state/weights.bin', cut, /weights\.bin: sha256 .* does not match .*pass --force/],
    ['state/weights.bin', () => '', /weights\.bin: sha256 .* does not match .*pass --force/],
    ['state/weights.bin', 'delete', /weights\.bin: cannot read the weights: .*; this checkpoint cannot be resumed: pass --force/],
    ['state/adamM.bin', 'delete', /adamM\.bin: cannot read the weights: .*pass --force/],
  ];
  for (const [file, change, error] of cases) {
    const dir = fresh('damaged');
    cpSync(whole, dir, { recursive: true });
    const path = join(dir, file);
    if (change === 'delete') rmSync(path);
    else writeFileSync(path, change(readFileSync(path)));
    await assert.rejects(pretrain(config(4), data, dir, { quiet: true }), error, `${file}, ${change === 'delete' ? 'deleted' : change.toString()}`);
    assert.equal(existsSync(join(dir, '.lock')), false, 'the refusal releases the lock');
  }
  // The undamaged copy resumes.
  assert.equal((await pretrain(config(4), data, whole, { quiet: true })).resumedFrom, 2);
});

test('what a kill can leave resumes exactly: a torn last log line, logs past the checkpoint, a state left only as state.old', async () => {
  const uninterrupted = fresh('exact-ref');
  await pretrain(config(6), data, uninterrupted, { quiet: true });
  const records = (dir: string, file: string): unknown[] =>
    readFileSync(join(dir, file), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { sec: _s, imagesPerSec: _i, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return rest;
      });
  for (const kill of ['torn line', 'state.old'] as const) {
    const dir = fresh('exact');
    // Killed after step 3: the checkpoint is at step 2, step 3's line was written.
    await pretrain(config(6), data, dir, { quiet: true, stopAfter: 3 });
    if (kill === 'torn line') appendFileSync(join(dir, 'metrics.jsonl'), '{"step":4,"loss":0.9');
    // Killed between writeDirAtomic's two renames: only the previous state is left, as state.old.
    else renameSync(join(dir, 'state'), join(dir, 'state.old'));
    assert.equal((await pretrain(config(6), data, dir, { quiet: true })).resumedFrom, 2, kill);
    for (const file of ['metrics.jsonl', 'heldout.jsonl']) assert.deepEqual(records(dir, file), records(uninterrupted, file), `${kill}: ${file}`);
    for (const file of ['model/weights.bin', 'state/weights.bin', 'state/adamM.bin', 'state/adamV.bin', 'state/ema.bin']) {
      assert.ok(readFileSync(join(dir, file)).equals(readFileSync(join(uninterrupted, file))), `${kill}: ${file} bit for bit`);
    }
  }
});

test('post-training from a missing or damaged base fails naming it and leaves no run folder', async () => {
  const base = await smokeBase();
  const dir = fresh('nobase');
  await assert.rejects(postTrain(smokeTrainConfig(join(base, '..', 'no-such-model')), smokeTrainData(), dir, { quiet: true }), /no-such-model.*model\.json not found/);
  assert.equal(existsSync(dir), false);
  writeFileSync(join(base, 'weights.bin'), 'cut');
  await assert.rejects(postTrain(smokeTrainConfig(base), smokeTrainData(), dir, { quiet: true }), /weights\.bin: sha256 .* does not match/);
  assert.equal(existsSync(dir), false);
});

test('a post-training held-out log with a probe missing or written twice stops the resume, naming the file and the steps', async () => {
  const base = await smokeBase();
  const cfg = smokeTrainConfig(base, {}, { steps: 4 });
  const whole = fresh('probes');
  await postTrain(cfg, smokeTrainData(), whole, { quiet: true });
  const lines = readFileSync(join(whole, 'heldout.jsonl'), 'utf8').trim().split('\n');
  assert.deepEqual(steps(join(whole, 'heldout.jsonl')), [0, 2, 4]);
  for (const [kept, error] of [
    [[lines[0], lines[2]], /heldout\.jsonl: no record at step 2, though the state is at step 4; .*Pass --force/],
    [[lines[0], lines[1], lines[1], lines[2]], /heldout\.jsonl: step 2 recorded twice, though the state is at step 4/],
  ] as const) {
    const dir = fresh('probes-damaged');
    cpSync(whole, dir, { recursive: true });
    writeFileSync(join(dir, 'heldout.jsonl'), `${kept.join('\n')}\n`);
    await assert.rejects(postTrain(cfg, smokeTrainData(), dir, { quiet: true }), error);
  }
  // The whole log resumes (the run is finished: nothing to do).
  assert.equal((await postTrain(cfg, smokeTrainData(), whole, { quiet: true })).resumedFrom, 4);
});
