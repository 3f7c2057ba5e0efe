import * as aq from 'arquero';
import type { EvalResult, PromptScore } from '../eval/evaluate.js';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { acrossSeeds, bootstrapSeedsAndPrompts, outcomes, type Interval } from '../eval/winRate.js';
import type { PickBuildFile, PickSplit } from '../data/pickBuild.js';
import { getMethod } from '../methods/registry.js';
import { methodSettings, type PostTrainConfig } from '../train/postTrainConfig.js';
import { BASE_S_NAME, BASE_UNIT, unitBase, unitsOfMethod, unitsOnBase, type UnitRecord } from './reproUnits.js';
import { metrics } from '../eval/metrics/registry.js';
import { groupBy } from '../util/groupBy.js';

/** How each method is named in the tables and charts. */
export const METHOD_LABELS: Record<string, string> = {
  base: 'base-S',
  sft: 'SFT',
  dpo: 'Diffusion-DPO',
  'self-dpo': 'Self-DPO',
  'self-dpo-blur': 'Self-DPO w/ blur',
  'self-dpo-grid': 'Self-DPO w/ random grid',
  'self-dpo-nearest': 'Self-DPO w/ nearest concept',
  'self-dpo-no-mse': 'Self-DPO w/o MSE',
  'self-dpo-beta50': 'Self-DPO (beta 50)',
  'self-dpo-no-mse-beta50': 'Self-DPO w/o MSE (beta 50)',
  'sft-web': 'SFT (web set)',
  'self-dpo-web': 'Self-DPO (web set)',
  'sft-curated': 'SFT (curated set)',
  'self-dpo-curated': 'Self-DPO (curated set)',
};

export function methodLabel(method: string): string {
  return METHOD_LABELS[method] ?? method;
}

/**
 * The paper's Tables 2-5, and one beyond it: which methods each compares (the base is always the
 * first row). Tables 2-4 train on Emoji-Pick, Table 5 on the web set; the curated-set table is the
 * extra regime: the clean copy of the images base-S pretrained on.
 */
export const PAPER_TABLES: Record<'table2' | 'table3' | 'table4' | 'table5' | 'table-curated', { title: string; methods: string[] }> = {
  table2: { title: 'Table 2: SFT, Diffusion-DPO and Self-DPO against the base', methods: ['sft', 'dpo', 'self-dpo'] },
  table3: { title: 'Table 3: the downgrade that makes the loser (Self-DPO: a random other image)', methods: ['self-dpo', 'self-dpo-blur', 'self-dpo-grid', 'self-dpo-nearest'] },
  table4: {
    title: "Table 4: with and without the MSE term, at the paper's beta and at a beta where the two terms' gradients are within 10x (results/tuning/loss-terms-*.md)",
    methods: ['dpo', 'self-dpo', 'self-dpo-no-mse', 'self-dpo-beta50', 'self-dpo-no-mse-beta50'],
  },
  table5: { title: 'Table 5: post-training on the web set', methods: ['sft-web', 'self-dpo-web'] },
  'table-curated': { title: 'Extra table (not in the paper): SFT and Self-DPO on the curated set, the clean images base-S pretrained on', methods: ['sft-curated', 'self-dpo-curated'] },
};

/** A method's scores on one prompt set over its training seeds, with win rates against the base. */
export interface MethodSummary {
  method: string;
  set: PromptSetName;
  seeds: number;
  prompts: number;
  /** Every registered metric by name (eval/metrics), in table units. */
  scores: Record<string, Interval>;
  /** Win rates in % against the base per prompt (same prompt, same seed), by the win's record name ('align win', 'rank win', ...). Absent for the base. */
  wins?: Record<string, Interval>;
}

/**
 * A method's scores on one prompt set with 95% intervals from a bootstrap over its training
 * seeds and the prompts (`bootstrapSeedsAndPrompts`); a set metric (FID) gets the Student t
 * interval across seeds (none with one seed). Win rates are per prompt against the base on the
 * same prompt and seed, with the same bootstrap.
 */
export function summarize(units: readonly UnitRecord[], method: string, set: PromptSetName): MethodSummary | undefined {
  const scored = promptScores(units, method, set);
  if (!scored) return undefined;
  const { evals, ids, rows } = scored;
  const over = (f: (p: PromptScore) => number): Interval => bootstrapSeedsAndPrompts(drawMeans(rows, f));
  const summary: MethodSummary = {
    method,
    set,
    seeds: evals.length,
    prompts: ids.length,
    scores: Object.fromEntries(metrics().map((m) => [m.name, m.perPrompt ? over(m.perPrompt) : acrossSeeds(evals.map((e) => m.value(e)))])),
  };
  const base = units.find((u) => u.method === BASE_UNIT)?.evals[set];
  if (base && method !== BASE_UNIT) {
    const rate = (score: (p: PromptScore) => number): Interval => scale(bootstrapSeedsAndPrompts(evals.map((e) => pairedOutcomes(e, base, score))), 100);
    summary.wins = Object.fromEntries(metrics().flatMap((m) => (m.win ? [[m.win.record, rate(m.win.score)]] : [])));
  }
  return summary;
}

/**
 * A method's per-prompt scores on one prompt set: `rows[s][p]` holds prompt `ids[p]`'s draws
 * (one score per sample seed, in draw order) under its s-th training seed, every run's prompts in
 * the first run's order; undefined if it has not been evaluated there.
 */
export function promptScores(
  units: readonly UnitRecord[],
  method: string,
  set: PromptSetName,
  ids?: readonly string[],
): { evals: EvalResult[]; ids: readonly string[]; rows: PromptScore[][][] } | undefined {
  const evals = unitsOfMethod(units, method).flatMap((u) => u.evals[set] ?? []);
  if (evals.length === 0) return undefined;
  const order = ids ?? [...new Set((evals[0] as EvalResult).perPrompt.map((p) => p.id))];
  const rows = evals.map((e) => {
    const byId = groupBy(e.perPrompt, (p) => p.id);
    return order.map((id) => {
      const draws = byId.get(id);
      if (!draws) throw new Error(`${method}: prompt ${id} of ${set} is missing from one of its runs`);
      return [...draws].sort((a, b) => (a.draw ?? 0) - (b.draw ?? 0));
    });
  });
  return { evals, ids: order, rows };
}

/**
 * Each prompt's score averaged over its draws: `values[s][p]`. The prompt is the unit of every
 * interval and paired test (docs/PROTOCOL.md, "Statistics"); its draws only make its score less noisy.
 */
export function drawMeans(rows: ReadonlyArray<ReadonlyArray<readonly PromptScore[]>>, score: (p: PromptScore) => number): number[][] {
  return rows.map((run) => run.map((draws) => meanOf(draws.map(score))));
}

/** The sample seeds of a prompt's draws, in draw order: "12,907" (what paired models must share). */
export function drawSeeds(draws: readonly PromptScore[]): string {
  return draws.map((d) => d.seed).join(',');
}

/**
 * Per-prompt win/tie/loss of a model against the base, matched by prompt id and draw (the same
 * sample seed), each prompt's outcome the mean over its draws.
 */
function pairedOutcomes(model: EvalResult, base: EvalResult, score: (p: PromptScore) => number): number[] {
  const key = (p: PromptScore): string => `${p.id}#${p.draw ?? 0}`;
  const byKey = new Map(base.perPrompt.map((p) => [key(p), p]));
  const perPrompt = new Map<string, number[]>();
  for (const p of model.perPrompt) {
    const b = byKey.get(key(p));
    if (!b) throw new Error(`prompt ${p.id} (draw ${p.draw ?? 0}) of ${model.promptSet} was not scored for the base`);
    if (b.seed !== p.seed) throw new Error(`prompt ${p.id}: drawn from seed ${p.seed}, the base from ${b.seed}`);
    const [o] = outcomes([score(p)], [score(b)]);
    perPrompt.set(p.id, [...(perPrompt.get(p.id) ?? []), o as number]);
  }
  return [...perPrompt.values()].map(meanOf);
}

function meanOf(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A rate's interval cut to the rate's range (a t interval over few seeds can reach past it). */
export function clampInterval(i: Interval, lo: number, hi: number): Interval {
  const c = (x: number): number => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : x);
  return { mean: i.mean, low: c(i.low), high: c(i.high) };
}

function scale(i: Interval, k: number): Interval {
  return { mean: k * i.mean, low: k * i.low, high: k * i.high };
}

/** "61.23 ± 0.45" (half the 95% interval), or "61.23" without one. */
export function formatScore(i: Interval, digits: number): string {
  const m = i.mean.toFixed(digits);
  return Number.isFinite(i.low) ? `${m} ± ${((i.high - i.low) / 2).toFixed(digits)}` : m;
}

/** "54.1 [50.2, 58.0]": a win rate in % with its 95% interval. */
export function formatWin(i: Interval): string {
  return Number.isFinite(i.low) ? `${i.mean.toFixed(1)} [${i.low.toFixed(1)}, ${i.high.toFixed(1)}]` : i.mean.toFixed(1);
}

/**
 * One table of methods x prompt sets on one base, as an arquero table (one row per method and
 * set): the units of `baseName` (base-S by default) among `units`, which may hold several bases'
 * (a notebook passes a whole reproduction's); its base's row is labelled with the base's name.
 */
export function methodTable(allUnits: readonly UnitRecord[], methods: readonly string[], baseName: string = BASE_S_NAME): aq.ColumnTable {
  const units = unitsOnBase(allUnits, baseName);
  const rows: Array<Record<string, string | number>> = [];
  for (const set of PROMPT_SETS) {
    for (const method of [BASE_UNIT, ...methods]) {
      const s = summarize(units, method, set);
      if (!s) continue;
      const row: Record<string, string | number> = { 'prompt set': set, method: method === BASE_UNIT ? baseName : methodLabel(method), seeds: s.seeds };
      for (const m of metrics()) {
        row[m.column] = formatScore(s.scores[m.name] as Interval, m.digits);
        if (m.win) row[m.win.column] = s.wins ? formatWin(s.wins[m.win.record] as Interval) : '-';
      }
      rows.push(row);
    }
  }
  return aq.from(rows);
}

/** One of Tables 2-5 (or the extra one) on one base: its file name, its title and its rows. */
export interface BaseTable {
  /** `table2` on the first base, `table2-base-L` on another. */
  file: string;
  /** The table's title, the base named after it on any base but the first. */
  title: string;
  table: aq.ColumnTable;
}

/**
 * Every table of `PAPER_TABLES` that has methods on each base, in the bases' order, as the report
 * writes them and notebook 03 shows them. A table whose only rows on a base are Table 2's is left
 * out there: it would repeat Table 2 (the quick preset's base-L trains Table 2's methods alone).
 */
export function baseTables(bases: ReadonlyArray<{ name: string; methods: readonly string[] }>, units: readonly UnitRecord[]): BaseTable[] {
  const first = bases[0]?.name;
  const tables: BaseTable[] = [];
  for (const b of bases) {
    for (const [name, t] of Object.entries(PAPER_TABLES)) {
      const methods = t.methods.filter((m) => b.methods.includes(m));
      const repeatsTable2 = name !== 'table2' && methods.every((m) => PAPER_TABLES.table2.methods.includes(m));
      if (methods.length === 0 || repeatsTable2) continue;
      const other = b.name !== first;
      tables.push({ file: other ? `${name}-${b.name}` : name, title: other ? `${t.title} (${b.name})` : t.title, table: methodTable(units, methods, b.name) });
    }
  }
  return tables;
}

/** A pair build of a reproduction made before Emoji-Pick (its pairs-build.json): Diffusion-DPO's pairs drawn from the base and ranked. */
export interface LegacyPairBuild {
  prompts: number;
  pairs: number;
  seconds: { sampling: number; scoring: number };
  threads: number;
}

/** What Table 1 knows of the preference data: the Emoji-Pick build's record, or a reproduction's own pair build from before Emoji-Pick. */
export interface PreferenceDataRecord {
  pick?: PickBuildFile;
  legacyPairs?: LegacyPairBuild;
}

/** Pairs and ties of a split of an Emoji-Pick build, from its record. */
function splitCounts(pick: PickBuildFile, split: PickSplit): { pairs: number; ties: number } {
  const shards = pick.shards.filter((s) => s.split === split);
  return { pairs: shards.reduce((n, s) => n + s.pairs, 0), ties: shards.reduce((n, s) => n + s.ties, 0) };
}

/** The Emoji-Pick build's cost, from its own record: both splits' images, drawn and ranked (docs/PROTOCOL.md, "Emoji-Pick": Table 1's price of preference data). */
function pickCost(pick: PickBuildFile): string {
  const train = splitCounts(pick, 'train');
  const validation = splitCounts(pick, 'validation');
  const sum = (f: (s: PickBuildFile['shards'][number]) => number): number => pick.shards.reduce((a, s) => a + f(s), 0);
  const generators = (pick.config as { generators?: unknown[] }).generators?.length;
  const total = train.pairs + validation.pairs;
  return `the Emoji-Pick build: ${total.toLocaleString('en')} pairs (${train.pairs.toLocaleString('en')} train, ${validation.pairs.toLocaleString('en')} validation), ${(2 * total).toLocaleString('en')} images drawn${generators ? ` by ${generators} generators` : ''} in ${sum((s) => s.seconds.sampling).toFixed(0)} s + ranked in ${sum((s) => s.seconds.scoring).toFixed(0)} s + written in ${sum((s) => s.seconds.writing).toFixed(0)} s`;
}

/**
 * Table 1: what each method trains on, from its config (`configs[method]`; a method without one
 * says so), and what its preference data cost: the Emoji-Pick build's sampling and annotation
 * time from the build's own record, or in a reproduction made before Emoji-Pick, its pair build.
 */
export function dataTable(methods: readonly string[], configs: Readonly<Record<string, PostTrainConfig | undefined>>, data: PreferenceDataRecord): aq.ColumnTable {
  const { pick, legacyPairs } = data;
  const row = (c: PostTrainConfig | undefined): [string, string, string] => {
    if (!c) return ['unknown: no config', '-', '-'];
    const method = getMethod(c.method);
    const losers = method.data === 'winners' && method.pairLoss(methodSettings(c)) !== undefined ? ' (losers made during training)' : '';
    if (method.data === 'pairs') {
      if (pick) {
        const t = splitCounts(pick, 'train');
        return [
          `Emoji-Pick train pairs + a preference per pair: ${(t.pairs - t.ties).toLocaleString('en')} of ${t.pairs.toLocaleString('en')} (${t.ties} ties dropped)`,
          'yes (the annotator judge)',
          pickCost(pick),
        ];
      }
      const extra = legacyPairs
        ? `${legacyPairs.pairs} pairs: ${(2 * legacyPairs.prompts).toLocaleString('en')} images drawn in ${legacyPairs.seconds.sampling.toFixed(0)} s + ranked in ${legacyPairs.seconds.scoring.toFixed(0)} s (${legacyPairs.threads} thread(s))`
        : 'not built';
      return ['captions + pairs of base-model images + a preference per pair', 'yes (the annotator judge)', extra];
    }
    if (c.data.view === 'pairs') {
      if (!pick) return [`the winners of ${c.data.pairs} + captions${losers}`, 'no', 'none'];
      const t = splitCounts(pick, 'train');
      return [
        `Emoji-Pick train winners + captions: ${(t.pairs - t.ties).toLocaleString('en')} (a tie has none)${losers}`,
        "no: any captioned images would do (these are the build's winners, as the paper's are Pick-a-Pic's)",
        "none beyond the build's winners",
      ];
    }
    const images = { curated: 'curated images', web: 'web images', folder: `the images of ${c.data.folder}` }[c.data.view];
    return [`${images} + captions${losers}`, 'no', 'none'];
  };
  return aq.from(
    methods.map((m) => {
      const [data, annotator, extra] = row(configs[m]);
      return { method: methodLabel(m), 'training data': data, 'preference annotator': annotator, 'extra data built before training': extra };
    }),
  );
}

/**
 * Every trained model's raw scores and win rates on every set, one row per (set, base, method,
 * seed): the CSV to re-analyse. Win rates are against the model's own base.
 */
export function unitScoreRows(units: readonly UnitRecord[]): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  const byBase = groupBy(units, unitBase);
  for (const set of PROMPT_SETS) {
    for (const [baseName, own] of byBase) {
      const base = own.find((u) => u.method === BASE_UNIT)?.evals[set];
      if (!base) continue;
      for (const u of own) {
        const e = u.evals[set];
        if (u.method === BASE_UNIT || !e) continue;
        const row: Record<string, string | number> = { 'prompt set': set, base: baseName, method: u.method, seed: u.seed };
        for (const m of metrics()) row[m.record] = m.recordValue(e);
        for (const m of metrics()) if (m.win) row[m.win.record] = meanOf(pairedOutcomes(e, base, m.win.score));
        rows.push(row);
      }
    }
  }
  return rows;
}
