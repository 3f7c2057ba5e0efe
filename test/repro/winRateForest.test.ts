import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMean } from '../../src/eval/winRate.js';
import { renderChartSvg } from '../../src/report/renderChart.js';
import { winRateForestSpec, winRateRows } from '../../src/repro/winRateForest.js';
import { evalOf, unitOf } from './claimsFixture.js';

/** Four prompts; Align, rank and Real set so that each win rate is known by hand. */
const scores = (align: number[], rank: number[], real: number[]): { align: number[]; rank: number[]; real: number[] } => ({ align, rank, real });

test('the forest rows: each method against the base it was trained from, per base, prompt set and win metric, worked by hand', () => {
  const baseS = scores([0.5, 0.5, 0.5, 0.5], [3, 3, 3, 3], [1, 1, 1, 1]);
  // base-L's own base scores higher than base-S's everywhere: its models are compared with it, never with base-S.
  const baseL = scores([0.9, 0.9, 0.9, 0.9], [1, 1, 1, 1], [3, 3, 3, 3]);
  const units = [
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', baseS, 10) }),
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', baseL, 10) }, { base: 'base-L' }),
    // SFT on base-S: Align wins 3 and ties 1 -> 87.5%; rank (lower wins) 2 wins, 2 losses -> 50%; Real all wins -> 100%.
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.6, 0.6, 0.5], [1, 1, 5, 5], [2, 2, 2, 2]), 9) }),
    // SFT on base-L: the same scores lose Align on every prompt against base-L's base -> 0%; Real 2 < 3 -> 0%.
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.6, 0.6, 0.5], [1, 1, 5, 5], [2, 2, 2, 2]), 9) }, { base: 'base-L' }),
    // Self-DPO on base-S only, two seeds: all ties on Align -> 50%.
    unitOf('self-dpo', 1, { 'curated-val': evalOf('curated-val', baseS, 9) }),
    unitOf('self-dpo', 2, { 'curated-val': evalOf('curated-val', baseS, 9) }),
  ];
  const rows = winRateRows(units, ['sft', 'dpo', 'self-dpo']);
  const row = (base: string, method: string, metric: string) => rows.find((r) => r.base === base && r.method === method && r.metric === metric);
  assert.deepEqual(
    rows.map((r) => `${r.base} ${r.set} ${r.method} ${r.metric}`),
    [
      'base-S curated-val SFT Align win',
      'base-S curated-val SFT rank win',
      'base-S curated-val SFT Real win',
      'base-S curated-val Self-DPO Align win',
      'base-S curated-val Self-DPO rank win',
      'base-S curated-val Self-DPO Real win',
      'base-L curated-val SFT Align win',
      'base-L curated-val SFT rank win',
      'base-L curated-val SFT Real win',
    ],
  );
  // One seed: the interval is the bootstrap over prompts of the per-prompt outcomes (win 1, tie 0.5, loss 0), in %.
  const align = row('base-S', 'SFT', 'Align win');
  const expected = bootstrapMean([1, 1, 1, 0.5]);
  assert.deepEqual([align?.mean, align?.low, align?.high, align?.seeds, align?.prompts], [87.5, 100 * expected.low, 100 * expected.high, 1, 4]);
  assert.equal(row('base-S', 'SFT', 'rank win')?.mean, 50);
  assert.deepEqual([row('base-S', 'SFT', 'Real win')?.mean, row('base-S', 'SFT', 'Real win')?.low, row('base-S', 'SFT', 'Real win')?.high], [100, 100, 100]);
  assert.deepEqual([row('base-L', 'SFT', 'Align win')?.mean, row('base-L', 'SFT', 'Align win')?.high], [0, 0]);
  assert.equal(row('base-L', 'SFT', 'Real win')?.mean, 0);
  // Two seeds, every prompt tied: 50% with no spread.
  const tie = row('base-S', 'Self-DPO', 'Align win');
  assert.deepEqual([tie?.mean, tie?.low, tie?.high, tie?.seeds], [50, 50, 50, 2]);
});

test('the forest plot: prompt sets as columns, bases as rows, every method a line with each metric beside it, and a rule at 50%', async () => {
  const base = scores([0.5, 0.5], [3, 3], [1, 1]);
  const units = [
    unitOf('base', 0, { 'curated-val': evalOf('curated-val', base, 10), 'keyword-only': evalOf('keyword-only', base, 10) }),
    unitOf('self-dpo', 1, { 'curated-val': evalOf('curated-val', scores([0.6, 0.4], [2, 4], [2, 0]), 9), 'keyword-only': evalOf('keyword-only', base, 9) }),
    unitOf('sft', 1, { 'curated-val': evalOf('curated-val', base, 9) }),
  ];
  const rows = winRateRows(units, ['sft', 'self-dpo']);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing the spec's JSON
  const spec = JSON.parse(JSON.stringify(winRateForestSpec(rows))) as any;
  assert.deepEqual(spec.facet.column.sort, ['curated-val', 'keyword-only']);
  assert.deepEqual(spec.facet.row.sort, ['base-S']);
  assert.deepEqual(spec.data.values.length, 9);
  const [reference, interval, estimate] = spec.spec.layer;
  assert.deepEqual(reference.encoding.x.datum, 50);
  assert.deepEqual([interval.encoding.x.field, interval.encoding.x2.field, estimate.encoding.x.field], ['low', 'high', 'mean']);
  assert.deepEqual(estimate.encoding.y.sort, ['SFT', 'Self-DPO']);
  assert.deepEqual(estimate.encoding.yOffset.sort, ['Align win', 'rank win', 'Real win']);
  const svg = await renderChartSvg(winRateForestSpec(rows), { onWarning: (m) => assert.fail(m) });
  assert.match(svg, /keyword-only/);
  assert.throws(() => winRateForestSpec([]), /no trained model/);
});
