import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EvalResult } from '../../src/eval/evaluate.js';
import { orderingChecks } from '../../src/repro/paperClaims.js';
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

test('orderingChecks judges each cell by the paired difference and says which claims are supported, contradicted, mixed or open', () => {
  const self = evalOf([11, 20, 29, 41], [1, 1, 5, 4], [60, 40, 50, 70], 1.5);
  const shifted = (e: EvalResult, align: number, real: number): EvalResult => ({ ...e, perPrompt: e.perPrompt.map((p) => ({ ...p, align: p.align + align, real: p.real + real })) });
  const units = [
    base,
    // Against the base, per prompt: Align +1, 0, -1, +1; R@1 0, +100, 0, 0; Real +10, -10, 0, +20. Every
    // mean leans the paper's way, but a resample of 4 prompts can land on 0 or below: nothing is clear.
    unit('self-dpo', 1, self),
    // SFT: Align 26 beats Self-DPO's 25.25 (per prompt 0, -1, -2, 0), the rest lose to it; none clearly.
    unit('sft', 1, evalOf([11, 21, 31, 41], [2, 2, 3, 4], [50, 50, 50, 50], 3)),
    // Blur: Align 5 below Self-DPO on every prompt (clearly the paper's way), Real 10 above on every
    // prompt (clearly the other way), the same ranks and FID (tied).
    unit('self-dpo-blur', 1, shifted(self, -5, 10)),
    // Grid: Align 5 below on every prompt, the rest tied: supported.
    unit('self-dpo-grid', 1, shifted(self, -5, 0)),
    // Diffusion-DPO: Align 5 above Self-DPO on every prompt: contradicted.
    unit('dpo', 1, shifted(self, 5, 0)),
  ];
  const lines = orderingChecks(units);
  assert.equal(lines.length, 5, 'only the claims whose methods ran');
  assert.match(
    lines[0] as string,
    /Self-DPO improves on the base.*\*\*not resolved here \(no cell is clear either way\)\*\*\. Clearly the paper's way in: none\. Clearly the other way in: none\. The means lean the paper's way in 4 of 4 /,
  );
  assert.match(lines[1] as string, /Self-DPO beats SFT.*\*\*not resolved here.* lean the paper's way in 3 of 4 /);
  assert.match(lines[2] as string, /Self-DPO beats Diffusion-DPO.*\*\*contradicted here\*\*\. Clearly the paper's way in: none\. Clearly the other way in: curated-val Align\./);
  assert.match(
    lines[3] as string,
    /blurred ones.*\*\*mixed here\*\*\. Clearly the paper's way in: curated-val Align\. Clearly the other way in: curated-val Real\. The means lean the paper's way in 1 of 4 \(prompt set, metric\) cells \(tied in curated-val R@1, curated-val FID\)/,
  );
  assert.match(lines[4] as string, /grid-shuffled ones.*\*\*supported here\*\*\. Clearly the paper's way in: curated-val Align\. Clearly the other way in: none\./);
});

test('orderingChecks refuses to pair prompts drawn from different sample seeds', () => {
  const self = evalOf([11, 20, 29, 41], [1, 1, 5, 4], [60, 40, 50, 70], 1.5);
  const reseeded: EvalResult = { ...self, perPrompt: self.perPrompt.map((p) => ({ ...p, seed: p.seed + 1 })) };
  // (Without the base, whose win rates check the seeds their own way.)
  assert.throws(
    () => orderingChecks([unit('self-dpo', 1, reseeded), unit('sft', 1, self)]),
    /curated-val prompt p0: self-dpo drew it from seed 101, sft from seed 100; paired comparisons need the same seeds/,
  );
});
