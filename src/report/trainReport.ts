import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIRST_MEASURED_STEP, type ProbeRecord, type PostTrainStepRecord } from '../train/postTrain.js';
import { centredAverage } from '../util/centredAverage.js';
import { JsonLines } from '../runs/progress.js';
import { methodSettings, type PostTrainConfig } from '../train/postTrainConfig.js';
import { readJsonFile } from '../util/jsonFile.js';
import { lineChartSpec } from './lineChart.js';
import { writeChart } from './renderChart.js';
import { getMethod } from '../methods/registry.js';

/** A post-training run read back from its directory (or from the copy a report keeps). */
export interface TrainRunRecord {
  /** The label in charts and tables (e.g. "Self-DPO (blur)"). */
  label: string;
  dir: string;
  config: PostTrainConfig;
  /** The hash of the base weights the run started from (runs before it was recorded lack it). */
  baseSha256?: string;
  commands: string[];
  metrics: PostTrainStepRecord[];
  probe: ProbeRecord[];
}

export function readTrainRun(dir: string, label?: string): TrainRunRecord {
  const info = readJsonFile(join(dir, 'config.json'), 'run config') as { config: PostTrainConfig; baseSha256?: string; invocations?: Array<{ command: string | null; fromStep: number }> };
  return {
    label: label ?? info.config.description,
    dir,
    config: info.config,
    ...(info.baseSha256 !== undefined ? { baseSha256: info.baseSha256 } : {}),
    commands: (info.invocations ?? []).map((i) => `${i.command ?? '(not recorded)'}   # from step ${i.fromStep}`),
    metrics: new JsonLines(join(dir, 'metrics.jsonl')).read() as unknown as PostTrainStepRecord[],
    probe: new JsonLines(join(dir, 'heldout.jsonl')).read() as unknown as ProbeRecord[],
  };
}

/** Mean of `key` over the steps in (from, to]. */
function meanOver(metrics: readonly PostTrainStepRecord[], key: 'implicit_acc' | 'loss', from: number, to: number): number {
  const rows = metrics.filter((m) => m.step > from && m.step <= to && typeof m[key] === 'number');
  return rows.reduce((s, m) => s + (m[key] as number), 0) / Math.max(1, rows.length);
}

/**
 * A run's training implicit accuracy as drawn: from the first measured step, averaged over a
 * centred window of `smooth` steps. A trailing window would carry step 1's zero (by construction)
 * into the first points as a ramp that was never measured.
 */
export function smoothedTrainingAccuracy(metrics: readonly PostTrainStepRecord[], smooth: number): Array<{ step: number; implicit_acc: number }> {
  const measured = metrics.filter((m) => m.step >= FIRST_MEASURED_STEP && typeof m.implicit_acc === 'number');
  const smoothed = centredAverage(
    measured.map((m) => m.implicit_acc as number),
    smooth,
  );
  return measured.map((m, i) => ({ step: m.step, implicit_acc: smoothed[i] as number }));
}

/** Each run's `smoothedTrainingAccuracy`, labelled with its run. */
export function trainingAccuracyRows(runs: readonly Pick<TrainRunRecord, 'label' | 'metrics'>[], smooth: number): Array<{ step: number; implicit_acc: number; method: string }> {
  return runs.flatMap((r) => smoothedTrainingAccuracy(r.metrics, smooth).map((p) => ({ ...p, method: r.label })));
}

/**
 * Charts and a table for post-training runs, into `out`: training implicit accuracy against
 * step (a centred average over `smooth` steps; the paper's Fig. 5), the held-out probe's
 * implicit accuracy, the loss, and each run's records copied under `out/runs/<name>/`.
 */
export async function writeTrainReport(runs: readonly TrainRunRecord[], out: string, opts: { smooth?: number; names: readonly string[] }): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const smooth = opts.smooth ?? 20;
  runs.forEach((run, i) => {
    const to = join(out, 'runs', opts.names[i] as string);
    mkdirSync(to, { recursive: true });
    for (const f of ['config.json', 'metrics.jsonl', 'heldout.jsonl']) copyFileSync(join(run.dir, f), join(to, f));
  });
  const preference = runs.filter((r) => getMethod(r.config.method).pairLoss(methodSettings(r.config)) !== undefined);
  const written: string[] = [];
  if (preference.length > 0) {
    const rows = trainingAccuracyRows(preference, smooth);
    const c = await writeChart(
      lineChartSpec(rows, {
        x: 'step',
        y: 'implicit_acc',
        color: 'method',
        yZero: true,
        title: `Training implicit accuracy from step ${FIRST_MEASURED_STEP} (centred average over ${smooth} steps)`,
        yTitle: 'implicit accuracy',
      }),
      join(out, 'implicit-acc'),
    );
    written.push(c.svg, c.png);
  }
  // The probe at step 0 scores the base against itself (0 by construction), so it is not drawn.
  const probeRows = runs.flatMap((r) => r.probe.filter((p) => p.step > 0).map((p) => ({ step: p.step, implicit_acc: p.implicit_acc, method: r.label })));
  if (probeRows.length > 0) {
    // The probe's set as its records name it: the validation set, or curated-val in runs made before it.
    const probeSet = runs.find((r) => r.probe.length > 0)?.probe[0]?.set ?? 'held-out';
    const p = await writeChart(
      lineChartSpec(probeRows, { x: 'step', y: 'implicit_acc', color: 'method', points: true, yZero: true, title: `${probeSet} probe: implicit accuracy`, yTitle: 'implicit accuracy' }),
      join(out, 'probe-implicit-acc'),
    );
    written.push(p.svg, p.png);
  }
  const lossRows = runs.flatMap((r) => r.metrics.map((m) => ({ step: m.step, loss: m.loss, method: r.label })));
  const l = await writeChart(lineChartSpec(lossRows, { x: 'step', y: 'loss', color: 'method', smooth, title: `Training loss (moving average over ${smooth} steps)` }), join(out, 'loss'));
  written.push(l.svg, l.png);
  return written;
}

/** A markdown table of each run's implicit accuracy early and late, and its held-out probe at the end. */
export function trainSummaryTable(runs: readonly TrainRunRecord[]): string {
  const lines = [
    '| run | method | steps | train implicit acc, first 10% | train implicit acc, last 10% | probe implicit acc (end) | probe winner error vs reference (end) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of runs) {
    const n = r.metrics.length;
    const tenth = Math.max(1, Math.round(n / 10));
    const last = r.probe[r.probe.length - 1];
    const pref = getMethod(r.config.method).pairLoss(methodSettings(r.config)) !== undefined;
    lines.push(
      `| ${r.label} | ${r.config.method}${r.config.downgrade ? `/${r.config.downgrade}` : ''} | ${n} | ${pref ? meanOver(r.metrics, 'implicit_acc', 0, tenth).toFixed(3) : '-'} | ${pref ? meanOver(r.metrics, 'implicit_acc', n - tenth, n).toFixed(3) : '-'} | ${last ? `${last.implicit_acc.toFixed(3)} (${last.downgrade})` : '-'} | ${last ? signedPercent(last.mse_w / last.ref_w - 1) : '-'} |`,
    );
  }
  return lines.join('\n');
}

/** A relative change as a signed percentage: +12.21%, -0.56%. */
function signedPercent(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
}
