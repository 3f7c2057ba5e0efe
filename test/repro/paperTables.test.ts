import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EvalResult } from '../../src/eval/evaluate.js';
import { formatScore, formatWin, methodTable, summarize } from '../../src/repro/paperTables.js';
import type { UnitRecord } from '../../src/repro/reproUnits.js';

/** An evaluation on curated-val with per-prompt Align, rank and Real given by hand. */
function evalOf(align: number[], rank: number[], real: number[], fid: number): EvalResult {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    model: 'm',
    modelSha256: 'x',
    promptSet: 'curated-val',
    prompts: align.length,
    concepts: 1653,
    sampling: {},
    judges: { contrastive: 'c', realism: 'r' },
    align: mean(align),
    r1: rank.filter((r) => r === 1).length / rank.length,
    r5: rank.filter((r) => r <= 5).length / rank.length,
    real: mean(real),
    fid,
    cached: false,
    perPrompt: align.map((a, i) => ({ id: `p${i}`, concept: `c${i}`, seed: 100 + i, align: a, rank: rank[i] as number, real: real[i] as number })),
  };
}

function unit(method: string, seed: number, e: EvalResult): UnitRecord {
  return { unit: method === 'base' ? 'base' : `${method}-s${seed}`, method, seed, evals: { 'curated-val': e }, metrics: [], probe: [] };
}

const base = unit('base', 0, evalOf([10, 20, 30, 40], [1, 2, 3, 4], [50, 50, 50, 50], 2.0));

test('one seed: win rates per prompt with ties counting half, intervals from a bootstrap over prompts', () => {
  // Align 11 > 10 win, 20 = 20 tie, 29 < 30 loss, 41 > 40 win: (2 + 0.5) / 4 = 62.5%.
  // Rank (lower wins): 1 = 1 tie, 1 < 2 win, 5 > 3 loss, 4 = 4 tie: (1 + 1) / 4 = 50%.
  const s = summarize([base, unit('self-dpo', 1, evalOf([11, 20, 29, 41], [1, 1, 5, 4], [60, 40, 50, 70], 1.5))], 'self-dpo', 'curated-val');
  assert.ok(s?.wins);
  assert.equal(s.seeds, 1);
  assert.equal(s.scores.Align.mean, 25.25);
  assert.ok(s.scores.Align.low < 25.25 && s.scores.Align.high > 25.25 && s.scores.Align.low >= 10 && s.scores.Align.high <= 41, "the bootstrap interval lies within the prompts' range");
  assert.ok(Number.isNaN(s.scores.FID.low), 'FID, one number per run, has no interval with one seed');
  assert.equal(s.wins['align win'].mean, 62.5);
  assert.equal(s.wins['rank win'].mean, 50);
  // Real: 60 > 50, 40 < 50, tie, 70 > 50: 2.5 / 4.
  assert.equal(s.wins['real win'].mean, 62.5);
  assert.ok(s.wins['align win'].low <= 62.5 && s.wins['align win'].high >= 62.5 && s.wins['align win'].high <= 100, 'the bootstrap interval brackets the rate');
  assert.equal(s.scores['R@1'].mean, 50);
  assert.equal(summarize([base], 'base', 'curated-val')?.wins, undefined, 'the base has no win rate against itself');
});

test('several seeds: the mean and Student-t interval of the per-seed values', () => {
  // Win rates over Align per seed: seed 1 wins all 4 (100%), seed 2 loses all (0%), seed 3 ties all (50%).
  const units = [
    base,
    unit('sft', 1, evalOf([11, 21, 31, 41], [1, 2, 3, 4], [50, 50, 50, 50], 1)),
    unit('sft', 2, evalOf([9, 19, 29, 39], [1, 2, 3, 4], [50, 50, 50, 50], 2)),
    unit('sft', 3, evalOf([10, 20, 30, 40], [1, 2, 3, 4], [50, 50, 50, 50], 3)),
  ];
  const s = summarize(units, 'sft', 'curated-val');
  assert.ok(s?.wins);
  assert.equal(s.seeds, 3);
  assert.equal(s.wins['align win'].mean, 50);
  // The seeds disagree completely (all wins, all losses, all ties): resampling seeds spreads the rate widely.
  assert.ok(s.wins['align win'].low < 30 && s.wins['align win'].high > 70 && s.wins['align win'].low >= 0 && s.wins['align win'].high <= 100);
  // Real is 50 for every prompt of every run: no spread, and every prompt ties the base.
  assert.deepEqual([s.scores.Real.low, s.scores.Real.high, s.wins['real win'].mean, s.wins['real win'].low, s.wins['real win'].high], [50, 50, 50, 50, 50]);
  // FID 1, 2, 3 over the seeds: mean 2, sd 1, Student t half-width 4.303 / sqrt(3) = 2.484.
  assert.equal(formatScore(s.scores.FID, 3), '2.000 ± 2.484');
  assert.equal(formatWin({ mean: 54.06, low: 50.2, high: 58 }), '54.1 [50.2, 58.0]');
});

test('methodTable puts the base first and one row per method and prompt set', () => {
  const table = methodTable([base, unit('self-dpo', 1, evalOf([11, 20, 29, 41], [1, 1, 5, 4], [60, 40, 50, 70], 1.5))], ['sft', 'self-dpo']);
  const rows = table.objects() as Array<Record<string, string | number>>;
  assert.deepEqual(
    rows.map((r) => r['method']),
    ['base-S', 'Self-DPO'],
    'methods without runs are left out',
  );
  assert.equal(rows[0]?.['Align win %'], '-');
  assert.match(String(rows[1]?.['Align win %']), /^62\.5 \[/);
  assert.match(table.toMarkdown(), /\|curated-val\|Self-DPO\|1\|25\.25 ± [0-9.]+\|62\.5 \[/);
});

test('two draws per prompt: scores and win rates are per prompt, each the mean over its draws', () => {
  const draw1 = (e: EvalResult, align: number[]): EvalResult => ({
    ...e,
    draws: 2,
    perPrompt: [...e.perPrompt, ...e.perPrompt.map((p, i) => ({ ...p, seed: 200 + i, draw: 1, align: align[i] as number }))],
  });
  const base2 = unit('base', 0, draw1(evalOf([10, 20, 30, 40], [1, 2, 3, 4], [50, 50, 50, 50], 2.0), [10, 20, 30, 40]));
  // Draw 0 wins, ties, loses, wins; draw 1 loses, wins, wins, wins: per prompt (1+0)/2, (0.5+1)/2, (0+1)/2, (1+1)/2 = 0.5, 0.75, 0.5, 1: 68.75%.
  const model = unit('self-dpo', 1, draw1(evalOf([11, 20, 29, 41], [1, 1, 5, 4], [50, 50, 50, 50], 1.5), [9, 21, 31, 41]));
  const s = summarize([base2, model], 'self-dpo', 'curated-val');
  assert.equal(s?.prompts, 4, 'the prompts, not the images, are counted');
  assert.equal(s?.wins?.['align win'].mean, 68.75);
  // Align: prompt means 10, 20.5, 30, 41: 25.375.
  assert.equal(s?.scores.Align.mean, 25.375);
});

test("a table is one base's: another base's units among them neither mix into its methods nor stand in for its base", () => {
  const l = (u: UnitRecord): UnitRecord => ({ ...u, unit: `base-L/${u.unit}`, base: 'base-L' });
  const self = unit('self-dpo', 1, evalOf([11, 20, 29, 41], [1, 1, 5, 4], [60, 40, 50, 70], 1.5));
  const selfL = l(unit('self-dpo', 1, evalOf([50, 50, 50, 50], [1, 1, 1, 1], [90, 90, 90, 90], 0.5)));
  const baseL = l(unit('base', 0, evalOf([45, 45, 45, 45], [2, 2, 2, 2], [80, 80, 80, 80], 1)));
  const units = [base, self, baseL, selfL];
  const rows = (t: ReturnType<typeof methodTable>): string[] =>
    t
      .objects()
      .map((o) => o as Record<string, unknown>)
      .map((r) => `${String(r['method'])} ${String(r['seeds'])} ${String(r['Align'])}`);
  // base-S's table (the default) is the one its units alone make; base-L's holds base-L's rows alone.
  assert.deepEqual(rows(methodTable(units, ['self-dpo'])), rows(methodTable([base, self], ['self-dpo'])));
  assert.deepEqual(
    rows(methodTable(units, ['self-dpo'])).map((r) => r.split(' ± ')[0]),
    ['base-S 1 25.00', 'Self-DPO 1 25.25'],
  );
  assert.deepEqual(
    rows(methodTable(units, ['self-dpo'], 'base-L')).map((r) => r.split(' ± ')[0]),
    ['base-L 1 45.00', 'Self-DPO 1 50.00'],
  );
});
