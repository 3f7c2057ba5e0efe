import type { ChartSpec } from './lineChart.js';

/** One probe of one tuning run, as the chart reads it. */
export interface TuningChartPoint {
  /** The panel: the base and the method config the run tunes (`base-s: self-dpo`). */
  panel: string;
  lr: number;
  beta: number;
  step: number;
  implicitAcc: number;
}

/**
 * The sweep's held-out implicit accuracy against step as a Vega-Lite spec: a panel per base and
 * method config (each chooses for itself), colour = lr in numeric order, dashes = beta. Step 0 is
 * left out: the policy is the reference there, every pair ties and scores 0 by construction. Each
 * panel has its own y scale (a preference method sits near 0.85, SFT near 0.5).
 */
export function tuningChartSpec(points: readonly TuningChartPoint[], title: string): ChartSpec {
  const shown = points.filter((p) => p.step > 0);
  if (shown.length === 0) throw new Error('tuning chart: no probe after step 0');
  const byNumber = (xs: number[]): string[] => [...new Set(xs)].sort((a, b) => a - b).map(String);
  const panels = [...new Set(shown.map((p) => p.panel))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'A panel per base and method config; colour is the lr, dashes the beta. Step 0 is left out (every pair ties there).', anchor: 'start' },
    background: 'white',
    data: { values: shown.map((p) => ({ panel: p.panel, lr: String(p.lr), beta: String(p.beta), step: p.step, implicit_acc: p.implicitAcc })) },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels },
    columns: Math.min(3, panels.length),
    spec: {
      width: 240,
      height: 160,
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'implicit_acc', type: 'quantitative', title: 'implicit accuracy', scale: { zero: false } },
        color: { field: 'lr', type: 'ordinal', sort: byNumber(shown.map((p) => p.lr)), scale: { scheme: 'viridis' }, title: 'lr' },
        strokeDash: { field: 'beta', type: 'nominal', sort: byNumber(shown.map((p) => p.beta)), title: 'beta' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as ChartSpec;
}
