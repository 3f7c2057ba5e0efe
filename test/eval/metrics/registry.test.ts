import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../../../src/backend.js';
import { evaluate } from '../../../src/eval/evaluate.js';
import { tinyEvaluation } from '../evalFixture.js';
import { extraScore, type Metric } from '../../../src/eval/metrics/metric.js';
import { metrics, registerMetric } from '../../../src/eval/metrics/registry.js';
import { methodTable } from '../../../src/repro/paperTables.js';
import type { UnitRecord } from '../../../src/repro/reproUnits.js';

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
  assert.deepEqual(
    metrics().map((m) => m.column),
    ['Align', 'R@1 %', 'R@5 %', 'Real', 'FID'],
  );
  assert.throws(() => registerMetric({ ...brightness, name: 'Align' }), /already registered/);
  registerMetric(brightness);
  await initBackend({ backend: 'wasm', quiet: true });
  const { loaded, context, prompts } = await tinyEvaluation();
  const { model, schedule, file } = loaded;
  const result = await evaluate(
    model,
    schedule,
    { dir: 'smoke', sha256: file.weightsManifest.sha256 },
    'curated-val',
    prompts,
    context,
    { contrastive: 'c', realism: 'r' },
    {
      sampling: { steps: 2, guidance: 2 },
      cacheDir: mkdtempSync(join(tmpdir(), 'metric-cache-')),
    },
  );
  model.params.dispose();
  const per = result.perPrompt.map((p) => p.extra?.['Brightness'] as number);
  assert.ok(per.every((v) => v >= 0 && v <= 100));
  assert.equal(result.extra?.['Brightness'], per.reduce((a, b) => a + b, 0) / per.length);
  const unit = (method: string): UnitRecord => ({ unit: method === 'base' ? 'base' : `${method}-s1`, method, seed: 1, evals: { 'curated-val': result }, metrics: [], probe: [] });
  const table = methodTable([unit('base'), unit('self-dpo')], ['self-dpo']).objects() as Array<Record<string, string>>;
  assert.deepEqual(Object.keys(table[0] as object).slice(-1), ['Bright %']);
  const mean = (result.extra?.['Brightness'] as number).toFixed(1);
  assert.ok(
    table.every((row) => (row['Bright %'] as string).startsWith(mean)),
    `Bright % column ${table.map((r) => r['Bright %'])} vs ${mean}`,
  );
});
