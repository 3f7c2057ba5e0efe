import type { ChartSpec } from './lineChart.js';

/** One estimate with its 95% interval, under a label (a method, an ablation setting). */
export interface IntervalRow {
  readonly label: string;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  /** Colours the rows by group (for example the downgrade). */
  readonly group?: string;
}

/**
 * Estimates with their intervals side by side: one row per label, a point at the mean and a
 * bar over the interval, with a rule at `reference` (50% for a win rate, 0 for a difference),
 * so that an interval crossing it reads at once as "no measurable change".
 */
export function intervalChartSpec(rows: readonly IntervalRow[], options: { title: string; xTitle: string; reference: number; width?: number }): ChartSpec {
  const color = rows.some((r) => r.group !== undefined) ? { color: { field: 'group', type: 'nominal' as const, title: null } } : {};
  // Setting labels are long ("blur, λ1 0.5, β 5000"): let them take the room they need.
  const y = { field: 'label', type: 'nominal' as const, sort: null, title: null, axis: { labelLimit: 400 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title,
    width: options.width ?? 420,
    height: { step: 22 },
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, data: { values: [{ reference: options.reference }] }, encoding: { x: { field: 'reference', type: 'quantitative' } } },
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'low', type: 'quantitative', title: options.xTitle, scale: { zero: false } }, x2: { field: 'high' }, ...color } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { y, x: { field: 'mean', type: 'quantitative' }, ...color } },
    ],
  } as ChartSpec;
}
