import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseSetting, keptTuningRunFinished, presetTuned, stepBudgets, tuningRow, type TuningRow, type TuningRun } from '../../src/report/tuningReport.js';
import { methodConfig } from '../../src/train/postTrainConfig.js';
import { renderChartSvg } from '../../src/report/renderChart.js';
import { tuningChartSpec, type TuningChartPoint } from '../../src/report/tuningChart.js';

const row = (name: string, probeAcc: number, mseChange: number, method = 'self-dpo'): TuningRow => ({
  name,
  group: `base-s: ${method}`,
  base: 'base-s',
  config: method,
  method,
  downgrade: 'randomImage',
  lr: 1e-5,
  beta: 5000,
  steps: 150,
  probeAcc,
  probeDpo: 0.5,
  mseChange,
  trainAcc: 0.7,
  bestStep: 150,
});

test('chooseSetting: the best curated-val implicit accuracy among runs that did not denoise worse by more than 2%', () => {
  const rows = [row('a', 0.8, 0.1), row('b', 0.9, 3), row('c', 0.85, -0.5), row('d', 0.85, 1)];
  assert.equal(chooseSetting(rows)?.name, 'c', 'b denoises 3% worse; c and d tie on accuracy, c denoises better');
  assert.equal(chooseSetting(rows, 5)?.name, 'b');
  // When no run keeps its winner error within the bound, the one whose error rose least.
  assert.equal(chooseSetting([row('x', 0.9, 4.5), row('y', 0.7, 2.5), row('z', 0.99, 30)])?.name, 'y');
  assert.equal(chooseSetting([]), undefined);
});

test('chooseSetting for SFT, which has no preference: the lowest winner error against the reference', () => {
  const rows = [row('a', 0.9, 0.5, 'sft'), row('b', 0.5, -1.5, 'sft'), row('c', 0.7, -0.2, 'sft')];
  assert.equal(chooseSetting(rows)?.name, 'b');
});

test("tuningRow: each run in its base's and method config's group, with the probe step where its own criterion peaked", () => {
  const probe = (step: number, acc: number, mse: number): TuningRun['probe'][number] => ({
    step,
    set: 'emoji-pick-validation',
    downgrade: 'randomImage',
    mse_w: mse,
    mse_l: 0,
    ref_w: 1,
    ref_l: 0,
    dpo: 0.6,
    implicit_acc: acc,
  });
  const records = [probe(0, 0, 1), probe(50, 0.7, 0.99), probe(100, 0.8, 0.995), probe(150, 0.78, 0.98)];
  const run = (method: string, base: string): TuningRun => ({ name: 'r', config: methodConfig(method, { base }), command: null, probe: records, metrics: [] });
  const dpo = tuningRow(run('self-dpo', 'data/base-l'));
  // Self-DPO reads its implicit accuracy: best at step 100 (0.8), then it fell.
  assert.equal(dpo.bestStep, 100);
  assert.equal(dpo.group, 'base-l: Self-DPO, random-image losers (the paper default)');
  assert.ok(Math.abs(dpo.mseChange - -2) < 1e-9, 'the last probe: winner error 0.98 of the reference');
  // SFT reads its winner error: lowest at step 150 (0.98).
  assert.equal(tuningRow(run('sft', 'data/base-s')).bestStep, 150);
  assert.equal(tuningRow(run('sft', 'data/base-s')).group, "base-s: SFT: MSE on Emoji-Pick's train winners");
});

test('keptTuningRunFinished: a kept record of the same config whose probe reached the last step, and nothing else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuning-kept-'));
  const config = methodConfig('sft', { train: { steps: 20, lr: 3e-5 } });
  const keep = (name: string, kept: typeof config, lastStep: number): void => {
    mkdirSync(join(dir, 'runs', name), { recursive: true });
    writeFileSync(join(dir, 'runs', name, 'config.json'), JSON.stringify({ config: kept, command: null }));
    writeFileSync(join(dir, 'runs', name, 'heldout.jsonl'), [0, 10, lastStep].map((step) => JSON.stringify({ step, implicit_acc: 0.5 })).join('\n') + '\n');
  };
  keep('done', config, 20);
  keep('cut', config, 10);
  keep('other-lr', { ...config, train: { ...config.train, lr: 1e-5 } }, 20);
  assert.equal(keptTuningRunFinished(dir, 'done', config), true);
  assert.equal(keptTuningRunFinished(dir, 'cut', config), false);
  assert.equal(keptTuningRunFinished(dir, 'other-lr', config), false);
  assert.equal(keptTuningRunFinished(dir, 'missing', config), false);
});

test('tuningChartSpec: a panel per base and method config, lr in numeric order, step 0 left out, drawn without a warning', async () => {
  const point = (panel: string, lr: number, beta: number, step: number): TuningChartPoint => ({ panel, lr, beta, step, implicitAcc: step === 0 ? 0 : 0.6 + lr * 1000 });
  const points = [0, 50, 100].flatMap((step) => [point('base-s: self-dpo', 3e-5, 500, step), point('base-s: self-dpo', 3e-6, 5000, step), point('base-l: sft', 1e-4, 5000, step)]);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing the spec's JSON
  const spec = JSON.parse(JSON.stringify(tuningChartSpec(points, 't'))) as any;
  assert.equal(spec.data.values.length, 6, 'step 0 ties every pair by construction and is left out');
  assert.deepEqual(spec.facet.sort, ['base-s: self-dpo', 'base-l: sft']);
  assert.deepEqual(spec.spec.encoding.color.sort, ['0.000003', '0.00003', '0.0001']);
  assert.deepEqual(spec.spec.encoding.strokeDash.sort, ['500', '5000']);
  const svg = await renderChartSvg(tuningChartSpec(points, 't'), { onWarning: (m) => assert.fail(m) });
  assert.match(svg, /base-l: sft/);
  assert.throws(() => tuningChartSpec([point('x', 1e-5, 5000, 0)], 't'), /no probe after step 0/);
});

test("presetTuned: each group's choice under its base folder and configs/ name, with a beta only for a preference method", () => {
  const onBase = (r: TuningRow, base: string): TuningRow => ({ ...r, base, group: `${base}: ${r.config}` });
  const rows = [
    { ...row('s1', 0.8, 0.1), lr: 3e-6 },
    { ...row('s2', 0.9, 0.2), lr: 1e-5, beta: 500 },
    { ...row('f1', 0.5, -1, 'sft'), lr: 3e-5 },
    { ...row('f2', 0.5, -2, 'sft'), lr: 1e-4 },
    onBase({ ...row('l1', 0.7, 3), lr: 1e-5 }, 'base-l'),
  ];
  // base-l's only run denoised 3% worse: it is still the one nearest the bound.
  assert.deepEqual(presetTuned(rows), { 'base-s': { 'self-dpo': { lr: 1e-5, beta: 500 }, sft: { lr: 1e-4 } }, 'base-l': { 'self-dpo': { lr: 1e-5, beta: 5000 } } });
});

test('stepBudgets: per base, the latest peak of the longest run of its chosen SFT, Diffusion-DPO and Self-DPO, capped at 800 (worked by hand)', () => {
  const run = (name: string, method: string, lr: number, steps: number, bestStep: number, probeAcc = 0.8, mseChange = 0): TuningRow => ({
    ...row(name, probeAcc, mseChange, method),
    lr,
    steps,
    bestStep,
  });
  const rows = [
    // The sweep at 400 steps: SFT chooses 3e-5 (lowest error), Self-DPO 1e-5 (best accuracy), Diffusion-DPO 3e-6.
    run('sft-a', 'sft', 1e-5, 400, 400, 0, -1),
    run('sft-b', 'sft', 3e-5, 400, 350, 0, -3),
    run('sd-a', 'self-dpo', 3e-6, 400, 400, 0.7),
    run('sd-b', 'self-dpo', 1e-5, 400, 300, 0.9),
    run('dpo-a', 'dpo', 3e-6, 400, 400, 0.6),
    // The chosen settings again at 800 steps (Self-DPO's long run scores lower at its end: the choice stays with sd-b's lr).
    run('sft-b-800', 'sft', 3e-5, 800, 450, 0, -2),
    run('sd-b-800', 'self-dpo', 1e-5, 800, 250, 0.85),
    run('dpo-a-800', 'dpo', 3e-6, 800, 600, 0.65),
    // A run of an unchosen setting at 800 steps does not count, however late it peaked.
    run('sd-a-800', 'self-dpo', 3e-6, 800, 800, 0.75),
  ];
  const s = stepBudgets(rows).get('base-s');
  assert.equal(s?.steps, 600, "Diffusion-DPO's long run peaked latest, at 600");
  assert.deepEqual(
    s?.runs.map((r) => r.name),
    ['sft-b-800', 'dpo-a-800', 'sd-b-800'],
  );
  // A long run still rising at its last step sets the cap; so would anything beyond it.
  assert.equal(stepBudgets([...rows, run('dpo-a-1000', 'dpo', 3e-6, 1000, 1000, 0.65)]).get('base-s')?.steps, 800);
  // Without a Diffusion-DPO choice the base has no budget yet.
  assert.equal(stepBudgets(rows.filter((r) => r.method !== 'dpo')).size, 0);
});
