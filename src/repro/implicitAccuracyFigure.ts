import { acrossSeeds } from '../eval/winRate.js';
import type { ChartSpec } from '../report/lineChart.js';
import { smoothedTrainingAccuracy } from '../report/trainReport.js';
import { LABELLED_LOSERS } from '../train/pairProbe.js';
import { FIRST_MEASURED_STEP } from '../train/postTrain.js';
import { groupBy } from '../util/groupBy.js';
import { clampInterval, methodLabel } from './paperTables.js';
import { REPRO_METHODS } from './reproPresets.js';
import { BASE_S_NAME, BASE_UNIT, unitBase, type UnitRecord } from './reproUnits.js';

/** The two panels of Figure 5, per base. */
export const FIG5_PANELS = { training: 'training batches', probe: 'held-out probe' } as const;

/** One point of Figure 5: a method's mean over its training seeds at a step, with the 95% interval across seeds (null with one seed). */
export interface ImplicitAccuracyPoint {
  base: string;
  panel: (typeof FIG5_PANELS)[keyof typeof FIG5_PANELS];
  method: string;
  step: number;
  implicit_acc: number;
  low: number | null;
  high: number | null;
}

/** A probe's pairs in words: "labelled pairs of emoji-pick-validation", "emoji-pick-validation winners, blur losers". */
export function probePairsLabel(probe: { set: string; downgrade: string }): string {
  return probe.downgrade === LABELLED_LOSERS ? `labelled pairs of ${probe.set}` : `${probe.set} winners, ${probe.downgrade} losers`;
}

/** The bases of `units` in a stable order: base-S first, then by name. */
export function basesOf(units: readonly UnitRecord[]): string[] {
  return [...new Set(units.map(unitBase))].sort((a, b) => (a === BASE_S_NAME ? -1 : b === BASE_S_NAME ? 1 : a.localeCompare(b)));
}

function point(base: string, panel: ImplicitAccuracyPoint['panel'], method: string, step: number, values: readonly number[]): ImplicitAccuracyPoint {
  const at = clampInterval(acrossSeeds(values), 0, 1);
  const band = Number.isFinite(at.low) ? { low: at.low, high: at.high } : { low: null, high: null };
  return { base, panel, method: methodLabel(method), step, implicit_acc: at.mean, ...band };
}

/** Whether a unit is in Figure 5: a trained model whose training records carry an implicit accuracy (a preference method). */
function drawnInFigure5(u: UnitRecord): boolean {
  return u.method !== BASE_UNIT && u.metrics.some((m) => typeof m.implicit_acc === 'number');
}

/**
 * Figure 5's points: per base, every preference method (a method whose training records carry an
 * implicit accuracy) in two panels. Training batches: each seed's curve from step 2 on, a centred
 * `smooth`-step average, then the mean over seeds at every smooth/2 steps and the last. Held-out
 * probe: each run's probe on its own kind of pairs, from its first probe after step 0, the mean
 * over seeds at every probe step they share.
 */
export function implicitAccuracyPoints(units: readonly UnitRecord[], smooth: number): ImplicitAccuracyPoint[] {
  const points: ImplicitAccuracyPoint[] = [];
  const stride = Math.max(1, Math.floor(smooth / 2));
  for (const base of basesOf(units)) {
    const onBase = units.filter((u) => drawnInFigure5(u) && unitBase(u) === base);
    const order = (m: string): number => ((REPRO_METHODS as readonly string[]).includes(m) ? (REPRO_METHODS as readonly string[]).indexOf(m) : REPRO_METHODS.length);
    for (const [method, runs] of [...groupBy(onBase, (u) => u.method)].sort((a, b) => order(a[0]) - order(b[0]))) {
      const series = runs.map((u) => smoothedTrainingAccuracy(u.metrics, smooth));
      const steps = Math.min(...series.map((s) => s.length));
      for (let i = 0; i < steps; i++) {
        if (i % stride !== 0 && i !== steps - 1) continue;
        points.push(
          point(
            base,
            FIG5_PANELS.training,
            method,
            (series[0] as Array<{ step: number }>)[i]?.step as number,
            series.map((s) => (s[i] as { implicit_acc: number }).implicit_acc),
          ),
        );
      }
      const probes = runs.map((u) => new Map(u.probe.filter((p) => p.step > 0).map((p) => [p.step, p.implicit_acc])));
      const shared = [...(probes[0]?.keys() ?? [])].filter((step) => probes.every((p) => p.has(step))).sort((a, b) => a - b);
      for (const step of shared)
        points.push(
          point(
            base,
            FIG5_PANELS.probe,
            method,
            step,
            probes.map((p) => p.get(step) as number),
          ),
        );
    }
  }
  return points;
}

/**
 * Dash patterns in legend order: the first method solid, every other one dashed, so a line drawn
 * over another with the same values leaves the one below showing through its gaps.
 */
const DASHES: number[][] = [
  [1, 0],
  [8, 4],
  [3, 3],
  [12, 3, 3, 3],
  [2, 5],
  [16, 6],
  [6, 2, 2, 2, 2, 2],
  [10, 8],
];

/** The widest subtitle line, in characters: the title's width sets the whole picture's, and a longer line would shrink the charts in it. */
const SUBTITLE_WIDTH = 120;

/** `head` and then `items` joined by commas, broken after a comma into lines of at most SUBTITLE_WIDTH characters where it can be (the renderer trims a line's leading spaces, so a continuation is told by its missing bullet). */
function wrapList(head: string, items: readonly string[]): string[] {
  const lines = [head];
  for (const [i, item] of items.entries()) {
    const piece = `${item}${i < items.length - 1 ? ',' : ''}`;
    const last = lines.length - 1;
    const joined = `${lines[last] as string} ${piece}`;
    if (joined.length <= SUBTITLE_WIDTH || lines[last] === head) lines[last] = joined;
    else lines.push(piece);
  }
  return lines;
}

/**
 * Figure 5 as a Vega-Lite spec: rows = bases, columns = the training batches and the held-out
 * probe, one line per preference method (colour, dash and, on the probe's points, shape), the 95%
 * band across training seeds when there are several. Each method is its own layer, drawn in
 * legend order, so a dashed line lies over the solid one it may coincide with. The subtitle says
 * which pairs each method's probe reads.
 */
export function implicitAccuracySpec(units: readonly UnitRecord[], smooth: number): ChartSpec {
  const points = implicitAccuracyPoints(units, smooth);
  if (points.length === 0) throw new Error('Figure 5: no unit has training records with an implicit accuracy');
  const methods = [...new Set(points.map((p) => p.method))];
  const bases = [...new Set(points.map((p) => p.base))];
  // The seeds of the methods drawn: an SFT with more finished seeds than the drawn methods (a part-run reproduction) does not count.
  const seedCounts = [...groupBy(units.filter(drawnInFigure5), (u) => `${unitBase(u)} ${u.method}`).values()].map((g) => g.length);
  const seeds = Math.max(...seedCounts);
  // A part-run reproduction's methods may have different counts: the title gives their range, and a method with one seed has no band.
  const fewest = Math.min(...seedCounts);
  const seedsText = fewest === seeds ? `mean of ${seeds} training seeds, 95% band` : `mean of ${fewest} to ${seeds} training seeds by method, 95% band where several`;
  const window = 2 * Math.floor(smooth / 2) + 1;
  // One subtitle line per kind of probe pairs, naming the methods probed on it.
  const probed = units.filter((u) => u.method !== BASE_UNIT && methods.includes(methodLabel(u.method)) && u.probe.length > 0);
  const firstShown = (us: readonly UnitRecord[]): number => Math.min(...us.map((u) => methods.indexOf(methodLabel(u.method))));
  const pairLines = [...groupBy(probed, (u) => probePairsLabel(u.probe[0] as { set: string; downgrade: string }))]
    .sort((a, b) => firstShown(a[1]) - firstShown(b[1]))
    .flatMap(([pairs, us]) => wrapList(`· ${pairs}:`, [...new Set(us.map((u) => methodLabel(u.method)))]));
  const legend = { field: 'method', type: 'nominal' as const, title: 'method', sort: methods, scale: { domain: methods } };
  const strokeDash = { ...legend, scale: { domain: methods, range: methods.map((_, i) => DASHES[i % DASHES.length] as number[]) } };
  const byMethod = methods.map((m) => ({ transform: [{ filter: { field: 'method', equal: m } }], mark: { type: 'line' as const, strokeWidth: 2 }, encoding: { strokeDash } }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `Figure 5: implicit accuracy from step ${FIRST_MEASURED_STEP}${seeds > 1 ? ` (${seedsText})` : ''}`,
      subtitle: [
        `Training batches: ${window > 1 ? `a centred ${window}-step average of each run` : 'every step'}; step 1 is left out (the policy is the reference there, every pair ties).`,
        'Held-out probe from its first probe after step 0, each method on its own pairs:',
        ...pairLines,
      ],
      anchor: 'start',
    },
    background: 'white',
    data: { values: points.map((p) => ({ ...p })) },
    facet: {
      row: { field: 'base', type: 'nominal', title: null, sort: bases },
      column: { field: 'panel', type: 'nominal', title: null, sort: Object.values(FIG5_PANELS) },
    },
    spec: {
      width: 340,
      height: 240,
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'implicit_acc', type: 'quantitative', title: 'implicit accuracy', scale: { domain: [0, 1] } },
        // The legend shows each line's colour and dash (not the band's fill, not the probe's shapes).
        color: { ...legend, legend: { labelLimit: 320, symbolType: 'stroke', symbolStrokeWidth: 2, symbolOpacity: 1, symbolSize: 400 } },
      },
      layer: [
        ...(seeds > 1 ? [{ mark: { type: 'area' as const, opacity: 0.15 }, encoding: { y: { field: 'low', type: 'quantitative' as const }, y2: { field: 'high' } } }] : []),
        ...byMethod,
        {
          // The probe's points by shape as well, from a copy of the method field: a shape scale of
          // its own keeps the legend to the lines' colour and dash.
          transform: [{ filter: { field: 'panel', equal: FIG5_PANELS.probe } }, { calculate: 'datum.method', as: 'probed' }],
          mark: { type: 'point' as const, filled: true, size: 45, opacity: 0.9 },
          encoding: { shape: { field: 'probed', type: 'nominal' as const, scale: { domain: methods }, legend: null } },
        },
      ],
    },
  } as ChartSpec;
}
