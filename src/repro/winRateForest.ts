import { join } from 'node:path';
import { PROMPT_SETS, type PromptSetName } from '../data/evalPrompts.js';
import { metrics } from '../eval/metrics/registry.js';
import type { ChartSpec } from '../report/lineChart.js';
import { writeChart } from '../report/renderChart.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { basesOf } from './implicitAccuracyFigure.js';
import { methodLabel, summarize } from './paperTables.js';
import { BASE_UNIT, unitBase, type UnitRecord } from './reproUnits.js';

/** One row of the forest plot: a method's win rate (%) against its base on one prompt set and metric, with its 95% interval. */
export interface WinRateRow {
  base: string;
  set: PromptSetName;
  method: string;
  /** The win's name in the tables: 'Align win', 'rank win', 'Real win'. */
  metric: string;
  seeds: number;
  prompts: number;
  mean: number;
  low: number;
  high: number;
}

/**
 * Every trained model's win rates against the base it was trained from, per base, prompt set and
 * win metric, in `methods`' order: the tables' win rates (`summarize`: per prompt against the
 * base on the same prompt and sample seed, ties half, a 95% bootstrap interval over the training
 * seeds and the prompts), computed on each base's units with that base's own base unit.
 */
export function winRateRows(units: readonly UnitRecord[], methods: readonly string[]): WinRateRow[] {
  const rows: WinRateRow[] = [];
  const wins = metrics().flatMap((m) => (m.win ? [{ record: m.win.record, name: m.win.column.replace(/ %$/, '') }] : []));
  for (const base of basesOf(units)) {
    const baseUnit = units.find((u) => u.method === BASE_UNIT && unitBase(u) === base);
    if (!baseUnit) continue;
    // summarize finds the base by its unit name: this base's, under that name, with the models trained from it.
    const onBase = [{ ...baseUnit, unit: BASE_UNIT }, ...units.filter((u) => u.method !== BASE_UNIT && unitBase(u) === base)];
    for (const set of PROMPT_SETS) {
      for (const method of methods) {
        const s = summarize(onBase, method, set);
        if (!s?.wins) continue;
        for (const w of wins) {
          const i = s.wins[w.record];
          if (i) rows.push({ base, set, method: methodLabel(method), metric: w.name, seeds: s.seeds, prompts: s.prompts, mean: i.mean, low: i.low, high: i.high });
        }
      }
    }
  }
  return rows;
}

/**
 * The win-rate forest plot as a Vega-Lite spec: columns = prompt sets, one chart per base, one line
 * per method with a point at each win metric's rate and a bar over its 95% interval (metrics
 * side by side, by colour), and a dashed rule at 50%: a bar that crosses it is no measurable
 * win or loss.
 */
export function winRateForestSpec(rows: readonly WinRateRow[]): ChartSpec {
  if (rows.length === 0) throw new Error('win-rate forest plot: no trained model was evaluated with its base');
  const methods = [...new Set(rows.map((r) => r.method))];
  const metricNames = [...new Set(rows.map((r) => r.metric))];
  const seeds = rows.map((r) => r.seeds);
  const seedText = Math.min(...seeds) === Math.max(...seeds) ? `${seeds[0]} training seed(s) per method` : `${Math.min(...seeds)} to ${Math.max(...seeds)} training seeds by method`;
  const y = { field: 'method', type: 'nominal' as const, sort: methods, title: null, axis: { labelLimit: 320 } };
  const yOffset = { field: 'metric', type: 'nominal' as const, sort: metricNames };
  const color = { field: 'metric', type: 'nominal' as const, sort: metricNames, title: 'win rate on' };
  const x = { type: 'quantitative' as const, scale: { domain: [0, 100] }, title: 'win rate, %' };
  const bases = [...new Set(rows.map((r) => r.base))];
  const sets = PROMPT_SETS.filter((s) => rows.some((r) => r.set === s));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'Win rate against the base, 95% interval',
      subtitle: [
        'Per prompt against the base on the same prompt and sample seed (ties half); the dashed line is 50%.',
        `Prompts: ${sets.map((set) => `${set} ${[...new Set(rows.filter((r) => r.set === set).map((r) => r.prompts))].join('/')}`).join(', ')}; ${seedText}.`,
        'The interval is a bootstrap over training seeds and prompts.',
      ],
      anchor: 'start',
    },
    background: 'white',
    data: { values: rows.map((r) => ({ ...r })) },
    // One faceted chart per base, stacked: each has its own methods on its y axis (base-L trains
    // fewer), where a row facet with independent y scales makes Vega-Lite warn about layered data.
    vconcat: bases.map((base, i) => ({
      title: { text: base, anchor: 'start', fontSize: 12 },
      transform: [{ filter: { field: 'base', equal: base } }],
      facet: { column: { field: 'set', type: 'nominal', sort: sets, title: null, header: i === 0 ? {} : { labels: false } } },
      spec: {
        width: 200,
        // With yOffset the step is one metric's share of a method's band.
        height: { step: 11 },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x: { datum: 50, type: 'quantitative' } } },
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, yOffset, color, x: { ...x, field: 'low' }, x2: { field: 'high' } } },
          { mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { y, yOffset, color, x: { ...x, field: 'mean' } } },
        ],
      },
    })),
  } as ChartSpec;
}

/** The forest plot of `methods` into `out`: forest.svg, forest.png and its spec forest.vl.json; the files' names, none when no model has a win rate. */
export async function writeWinRateForest(out: string, units: readonly UnitRecord[], methods: readonly string[]): Promise<string[]> {
  const rows = winRateRows(units, methods);
  if (rows.length === 0) return [];
  const spec = winRateForestSpec(rows);
  await writeChart(spec, join(out, 'forest'));
  writeFileAtomic(join(out, 'forest.vl.json'), `${JSON.stringify(spec, null, 1)}\n`);
  return ['forest.svg', 'forest.png', 'forest.vl.json'];
}
