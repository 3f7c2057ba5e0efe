import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { loadModel } from '../../src/model/modelFile.js';
import { pretrain, type PretrainData } from '../../src/train/pretrain.js';
import { resolvePretrainConfig, SMOKE_OVERRIDE, type PretrainConfig } from '../../src/train/pretrainConfig.js';
import { fakeImageTextSet } from './fakeImageTextSet.js';

const set = fakeImageTextSet(16);
const data: PretrainData = {
  train: set,
  vocabularyTexts: ['red green blue yellow square, shape, colour'],
  heldout: { probe: fakeImageTextSet(4, 32, 9) },
  source: { test: true },
};

function config(steps: number, extra: Record<string, unknown> = {}): PretrainConfig {
  return resolvePretrainConfig({ ...SMOKE_OVERRIDE, train: { ...SMOKE_OVERRIDE.train, steps }, ...extra });
}

type Metric = { step: number; loss: number; gradNorm: number; lr: number };
function metrics(dir: string): Metric[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Metric)
    .map(({ step, loss, gradNorm, lr }) => ({ step, loss, gradNorm, lr }));
}

test('a killed and resumed pretraining run reproduces the uninterrupted run exactly', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'pretrain-'));
  const whole = join(root, 'whole');
  const killed = join(root, 'killed');
  await pretrain(config(6), data, whole, { quiet: true });
  // Dies after 3 steps: the last checkpoint is at step 2, and step 3's metrics line is orphaned.
  const first = await pretrain(config(6), data, killed, { quiet: true, stopAfter: 3 });
  assert.equal(first.step, 3);
  assert.equal(metrics(killed).length, 3);
  const second = await pretrain(config(6), data, killed, { quiet: true });
  assert.equal(second.resumedFrom, 2);
  assert.deepEqual(metrics(killed), metrics(whole));
  assert.equal(metrics(whole).length, 6);
  const a = loadModel(join(whole, 'model'));
  const b = loadModel(join(killed, 'model'));
  assert.equal(a.file.weightsManifest.sha256, b.file.weightsManifest.sha256, 'the EMA weights are bit-identical');
  const heldout = (dir: string): string => readFileSync(join(dir, 'heldout.jsonl'), 'utf8');
  assert.equal(heldout(killed), heldout(whole));
  a.model.params.dispose();
  b.model.params.dispose();
});

test('a run folder written before the trainers shared one resume key (adamStep, no data.folder) resumes exactly', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'pretrain-old-'));
  const whole = join(root, 'whole');
  const old = join(root, 'old');
  await pretrain(config(6), data, whole, { quiet: true });
  await pretrain(config(6), data, old, { quiet: true, stopAfter: 2 });
  // Rewrite the folder as the earlier code left it: the step count under adamStep, the config without data.folder.
  const statePath = join(old, 'state', 'state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as { extra: Record<string, unknown> };
  assert.equal(state.extra['optimizerStep'], 2);
  state.extra = { adamStep: 2 };
  writeFileSync(statePath, JSON.stringify(state));
  const configPath = join(old, 'config.json');
  const record = JSON.parse(readFileSync(configPath, 'utf8')) as { config: { data: Record<string, unknown> } };
  delete record.config.data['folder'];
  writeFileSync(configPath, JSON.stringify(record));
  const resumed = await pretrain(config(6), data, old, { quiet: true });
  assert.equal(resumed.resumedFrom, 2);
  assert.deepEqual(metrics(old), metrics(whole));
});

test('pretraining keeps tf.memory().numTensors flat over 20 steps and lowers the loss', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-mem-'));
  const counts: number[] = [];
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  await pretrain(config(20, { train: { ...SMOKE_OVERRIDE.train, steps: 20, lr: 3e-3 }, log: { ...SMOKE_OVERRIDE.log, checkpointEvery: 10, evalEvery: 10 } }), data, dir, {
    quiet: true,
    onStep: (r) => {
      counts.push(tf.memory().numTensors);
      losses.push(r.loss);
    },
  });
  assert.equal(counts.length, 20);
  assert.ok(
    counts.every((c) => c === counts[0]),
    `numTensors per step: ${counts.join(',')}`,
  );
  assert.equal(tf.memory().numTensors, before, 'everything is released at the end');
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), `loss fell: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
});

test('a run directory made with another config is refused unless forced', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-cfg-'));
  await pretrain(config(2), data, dir, { quiet: true });
  const other = config(2, { train: { ...SMOKE_OVERRIDE.train, steps: 2, lr: 1e-3 } });
  await assert.rejects(pretrain(other, data, dir, { quiet: true }), /config\.json: this run was made with a different config; pass --force/);
  // Training longer is a resume, not a different config.
  const longer = await pretrain(config(4), data, dir, { quiet: true });
  assert.equal(longer.resumedFrom, 2);
  // So is ending it with a cooldown: the LR of steps 5 and 6 (0-based 4 and 5) of a
  // 6-step run with a 2-step cooldown is 2/2 and 1/2 of the base rate.
  const ended = await pretrain(config(6, { train: { ...SMOKE_OVERRIDE.train, steps: 6, cooldownSteps: 2 } }), data, dir, { quiet: true });
  assert.equal(ended.resumedFrom, 4);
  const base = config(6).train.lr;
  assert.deepEqual(
    metrics(dir)
      .filter((m) => m.step > 4)
      .map((m) => m.lr),
    [base, base / 2],
  );
  // Once in its cooldown, the run refuses other settings (the bare command would restore the full LR).
  await assert.rejects(pretrain(config(8), data, dir, { quiet: true }), /in its cooldown at step 6 \(6 steps, the last 2 with a falling LR\); resume it with --steps 6 --cooldown 2/);
  const forced = await pretrain(other, data, dir, { quiet: true, force: true });
  assert.equal(forced.resumedFrom, 0);
});

test('two data-parallel threads give the single-thread run up to float rounding', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'pretrain-par-'));
  await pretrain(config(4), data, join(root, 'one'), { quiet: true, workers: 1 });
  await pretrain(config(4), data, join(root, 'two'), { quiet: true, workers: 2 });
  const one = metrics(join(root, 'one'));
  const two = metrics(join(root, 'two'));
  assert.equal(two.length, 4);
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs((one[i] as Metric).loss - (two[i] as Metric).loss) < 1e-5, `step ${i + 1} loss ${(one[i] as Metric).loss} vs ${(two[i] as Metric).loss}`);
    assert.ok(Math.abs((one[i] as Metric).gradNorm - (two[i] as Metric).gradNorm) < 1e-4 * (one[i] as Metric).gradNorm, `step ${i + 1} grad norm`);
  }
  const a = loadModel(join(root, 'one', 'model'));
  const b = loadModel(join(root, 'two', 'model'));
  let worst = 0;
  const va = await a.model.params.values();
  const vb = await b.model.params.values();
  for (const [name, x] of va) {
    const y = vb.get(name) as Float32Array;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
  a.model.params.dispose();
  b.model.params.dispose();
});

test('a run whose state is gone continues from its shipped model with --init-from', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const root = mkdtempSync(join(tmpdir(), 'pretrain-init-'));
  await pretrain(config(4), data, join(root, 'first'), { quiet: true });
  const again = await pretrain(config(6), data, join(root, 'again'), { quiet: true, initFrom: join(root, 'first', 'model') });
  assert.equal(again.resumedFrom, 4, 'the step comes from the model file');
  assert.deepEqual(
    metrics(join(root, 'again')).map((m) => m.step),
    [5, 6],
  );
  const info = JSON.parse(readFileSync(join(root, 'again', 'config.json'), 'utf8')) as { invocations: Array<{ initialisedFrom?: string }> };
  assert.match(info.invocations[0]?.initialisedFrom ?? '', /first\/model \(step 4, AdamW moments reset\)/);
  const other = config(6, { model: { ...config(6).model, maxWords: 7 } });
  await assert.rejects(pretrain(other, data, join(root, 'bad'), { quiet: true, initFrom: join(root, 'first', 'model') }), /its model config differs/);
});

test('a cooldown may not start before the step a run resumes from', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-cool-'));
  await pretrain(config(4), data, dir, { quiet: true });
  await assert.rejects(
    pretrain(config(6, { train: { ...SMOKE_OVERRIDE.train, steps: 6, cooldownSteps: 4 } }), data, dir, { quiet: true }),
    /would start at step 2, before step 4 where the run resumes/,
  );
});

test('a cooldown longer than the run is refused, naming the key', () => {
  assert.throws(() => config(4, { train: { ...SMOKE_OVERRIDE.train, steps: 4, cooldownSteps: 5 } }), /train\.cooldownSteps/);
});

test('pretraining leaves no tensors behind: flat across steps, none left when the run returns', async () => {
  await initBackend({ backend: 'wasm', quiet: true });
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  await pretrain(config(5), data, join(mkdtempSync(join(tmpdir(), 'pretrain-leaks-')), 'run'), { quiet: true, onStep: () => counts.push(tf.memory().numTensors) });
  // Steps 1, 3 and 5 end alike (2 and 4 also wrote a checkpoint and ran the held-out probe).
  assert.equal(counts[2], counts[0], `tensors after step 3 vs step 1 (${counts.join(', ')})`);
  assert.equal(counts[4], counts[0]);
  assert.equal(tf.memory().numTensors, before, 'tensors left after the run');
});
