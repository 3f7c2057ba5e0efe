import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { ContrastiveJudge } from '../../../src/eval/contrastiveJudge.js';
import { evaluate, type EvalContext } from '../../../src/eval/evaluate.js';
import { extraScore, type Metric } from '../../../src/eval/metrics/metric.js';
import { metrics, registerMetric } from '../../../src/eval/metrics/registry.js';
import { RealismJudge } from '../../../src/eval/realismJudge.js';
import { loadModel } from '../../../src/model/modelFile.js';
import { methodTable } from '../../../src/repro/paperTables.js';
import type { UnitRecord } from '../../../src/repro/reproUnits.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { fakeImageTextSet } from '../../train/fakeImageTextSet.js';
import { smokeBase } from '../../train/trainHelpers.js';

/** A toy metric that computes its own score: each image's mean byte value, in % of white. */
const brightness: Metric = {
  name: 'Brightness',
  column: 'Bright %',
  record: 'brightness',
  description: 'mean pixel value in % of white',
  higherIsBetter: true,
  digits: 1,
  ...extraScore('Brightness'),
  recordValue: extraScore('Brightness').value,
  inClaims: false,
  score: ({ images }) => images.map((img) => (100 * img.reduce((s, v) => s + v, 0)) / (255 * img.length)),
};

test('the registry holds the five metrics in table order, and a toy metric added at run time is computed and tabled', async () => {
  assert.deepEqual(metrics().map((m) => m.column), ['Align', 'R@1 %', 'R@5 %', 'Real', 'FID']);
  assert.throws(() => registerMetric({ ...brightness, name: 'Align' }), /already registered/);
  registerMetric(brightness);
  await initBackend({ backend: 'wasm', quiet: true });
  const { model, schedule, file } = loadModel(await smokeBase());
  const colours = ['red', 'green', 'blue', 'yellow'];
  const tokenizer = Tokenizer.fromCaptions(['red green blue yellow square, shape, colour'], { maxLength: 8 });
  const set = fakeImageTextSet(16);
  const context: EvalContext = {
    contrastive: ContrastiveJudge.create({ resolution: 32, maxWords: 8, image: { channels: [8, 16], groups: 4, width: 16 }, text: { width: 16, layers: 1, heads: 2 }, embed: 8 }, tokenizer, 1),
    realism: RealismJudge.create({ resolution: 32, image: { channels: [8], groups: 4, width: 8 } }, 2),
    conceptKeys: colours,
    conceptCaptions: colours.map((c) => `${c} square, shape, colour`),
    realImages: (c) => Array.from({ length: 4 }, (_, k) => set.pixels(colours.indexOf(c) + 4 * k)),
  };
  const prompts = colours.map((c, i) => ({ id: `toy/${i}`, concept: c, prompt: `${c} square, shape, colour` }));
  const result = await evaluate(model, schedule, { dir: 'smoke', sha256: file.weightsManifest.sha256 }, 'curated-val', prompts, context, { contrastive: 'c', realism: 'r' }, {
    sampling: { steps: 2, guidance: 2 },
    cacheDir: mkdtempSync(join(tmpdir(), 'metric-cache-')),
  });
  model.params.dispose();
  const per = result.perPrompt.map((p) => p.extra?.['Brightness'] as number);
  assert.ok(per.every((v) => v >= 0 && v <= 100));
  assert.equal(result.extra?.['Brightness'], per.reduce((a, b) => a + b, 0) / per.length);
  const unit = (method: string): UnitRecord => ({ unit: method === 'base' ? 'base' : `${method}-s1`, method, seed: 1, evals: { 'curated-val': result }, metrics: [], probe: [] });
  const table = methodTable([unit('base'), unit('self-dpo')], ['self-dpo']).objects() as Array<Record<string, string>>;
  assert.deepEqual(Object.keys(table[0] as object).slice(-1), ['Bright %']);
  const mean = (result.extra?.['Brightness'] as number).toFixed(1);
  assert.ok(table.every((row) => (row['Bright %'] as string).startsWith(mean)), `Bright % column ${table.map((r) => r['Bright %'])} vs ${mean}`);
});
