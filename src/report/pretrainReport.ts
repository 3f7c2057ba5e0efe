import type { HeldoutRecord } from '../train/heldoutLoss.js';
import { lineChartSpec, type ChartRow, type ChartSpec } from './lineChart.js';

/** The four timestep quartiles' labels for a schedule of `T` steps. */
export function quartileLabels(T: number): string[] {
  return [0, 1, 2, 3].map((q) => `t ${(q * T) / 4}-${((q + 1) * T) / 4 - 1}`);
}

/** Training loss against step (raw and smoothed). */
export function lossChartSpec(metrics: ReadonlyArray<{ step: number; loss: number }>, title: string): ChartSpec {
  const rows: ChartRow[] = metrics.map((m) => ({ step: m.step, loss: m.loss }));
  return lineChartSpec(rows, { x: 'step', y: 'loss', title, yTitle: "training loss: MSE in the model's prediction space (batch)", yScale: 'log', smooth: Math.max(1, Math.round(rows.length / 60)) });
}

/** Held-out denoising loss per timestep quartile against step, one chart per probe set. */
export function heldoutChartSpec(records: readonly HeldoutRecord[], set: string, T: number, title: string): ChartSpec {
  const labels = quartileLabels(T);
  const rows: ChartRow[] = records.filter((r) => r.set === set).flatMap((r) => r.quartiles.map((loss, q) => ({ step: r.step, loss, quartile: labels[q] ?? `q${q}` })));
  return lineChartSpec(rows, { x: 'step', y: 'loss', color: 'quartile', colorTitle: 'timesteps', title, yTitle: 'held-out eps MSE', yScale: 'log', points: true });
}

/** A markdown table: one row per evaluated step, one column per quartile and the mean. */
export function heldoutTable(records: readonly HeldoutRecord[], set: string, T: number): string {
  const labels = quartileLabels(T);
  const lines = [`| step | ${labels.join(' | ')} | mean |`, `| ---: | ${labels.map(() => '---:').join(' | ')} | ---: |`];
  for (const r of records.filter((x) => x.set === set)) lines.push(`| ${r.step} | ${r.quartiles.map((q) => q.toFixed(4)).join(' | ')} | ${r.mean.toFixed(4)} |`);
  return lines.join('\n');
}
