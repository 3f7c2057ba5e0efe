import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import { PROMPT_SETS } from '../data/evalPrompts.js';
import { writeChart } from '../report/renderChart.js';
import type { PickBuildFile } from '../data/pickBuild.js';
import { methodConfig, type PostTrainConfig } from '../train/postTrainConfig.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { claimsMarkdown } from './claimsReport.js';
import { baseTables, dataTable, methodLabel, PAPER_TABLES, unitScoreRows, type LegacyPairBuild } from './paperTables.js';
import { implicitAccuracySpec } from './implicitAccuracyFigure.js';
import { methodGridPng } from './methodGridFigure.js';
import { writeWinRateForest } from './winRateForest.js';
import { machineLine } from '../util/machine.js';
import { BASE_UNIT, PICK_BUILD_RECORD, presetUnitNames, readUnits, unitsOfMethod, type ReproRecord, type UnitRecord } from './reproUnits.js';
import { readReproRecord } from './reproRecord.js';
import { tunedFor, type PresetBase } from './reproPresets.js';
import { samplingLabel } from '../model/generate.js';

/** How many concepts R@k ranks among, as the evaluations recorded it. */
function conceptCount(units: readonly UnitRecord[]): string {
  const counts = [...new Set(units.flatMap((u) => Object.values(u.evals).map((e) => e?.concepts)))].filter((c) => c !== undefined);
  return counts.length === 1 ? `the ${(counts[0] as number).toLocaleString('en')}` : 'the';
}

function writeTable(out: string, name: string, table: aq.ColumnTable): string {
  writeFileAtomic(join(out, `${name}.md`), `${table.toMarkdown()}\n`);
  writeFileAtomic(join(out, `${name}.csv`), `${table.toCSV()}\n`);
  return table.toMarkdown();
}

/** Adds a report-only command to preset.json's invocations, so the README names it. */
export function recordReportRedraw(out: string, command: string): void {
  const file = join(out, 'preset.json');
  const info = readJsonFile(file, 'preset.json') as ReproRecord;
  info.invocations.push({ command, started: new Date().toISOString(), threads: 0, reportOnly: true });
  writeFileAtomic(file, `${JSON.stringify(info, null, 1)}\n`);
}

/** A reproduction made before Emoji-Pick kept its own pair build's record here. */
const LEGACY_PAIRS_RECORD = 'pairs-build.json';

/**
 * Table 1 of the reproduction in `out`: each method's data from its units' config (configs/ for a
 * method not yet run), the preference data's cost from the Emoji-Pick build's record kept there
 * (or, for a reproduction made before Emoji-Pick, its pair build's).
 */
export function reproDataTable(out: string, methods: readonly string[], units: readonly UnitRecord[]): aq.ColumnTable {
  const pick = existsSync(join(out, PICK_BUILD_RECORD)) ? (readJsonFile(join(out, PICK_BUILD_RECORD), 'Emoji-Pick build record') as PickBuildFile) : undefined;
  const legacyPairs = !pick && existsSync(join(out, LEGACY_PAIRS_RECORD)) ? (readJsonFile(join(out, LEGACY_PAIRS_RECORD), LEGACY_PAIRS_RECORD) as LegacyPairBuild) : undefined;
  const configOf = (method: string): PostTrainConfig | undefined => {
    const ran = unitsOfMethod(units, method).find((u) => u.config)?.config;
    if (ran) return ran;
    try {
      return methodConfig(method);
    } catch {
      return undefined;
    }
  };
  return dataTable(methods, Object.fromEntries(methods.map((m) => [m, configOf(m)])), { ...(pick ? { pick } : {}), ...(legacyPairs ? { legacyPairs } : {}) });
}

/**
 * The README's "Made by" lines, one per command that worked on the reproduction; a run of redraws
 * in a row is one line with its count (a long reproduction is redrawn at every snapshot, and the
 * full list stays in preset.json).
 */
function madeBy(invocations: ReproRecord['invocations']): string[] {
  type Invocation = ReproRecord['invocations'][number];
  const lines: string[] = [];
  for (let i = 0; i < invocations.length;) {
    const first = invocations[i] as Invocation;
    let times = 1;
    while (first.reportOnly && invocations[i + times]?.reportOnly && invocations[i + times]?.command === first.command) times++;
    const last = invocations[i + times - 1] as Invocation;
    i += times;
    const what = first.reportOnly
      ? `redrew the tables, figures and this README ${times > 1 ? `${times} times, from ${first.started} to ${last.started}` : `on ${first.started}`}`
      : first.queue !== undefined
        ? `started ${first.started}, units run by workers of the queue ${first.queue}`
        : `started ${first.started}, ${first.threads} thread(s)`;
    lines.push(`${first.command ?? '(command not recorded)'}   # ${what}`);
  }
  return lines;
}

/**
 * Tables 1-5 and the curated-set table (md + csv) for each base (another base's files carry its
 * name: `table2-base-L.md`), units.csv, Figure 5 (svg + png), Figures 3/4 (png) and the README,
 * from the units' records in `out`. A reproduction made before base-L (one base, its units
 * unmarked) reads as one of base-S alone.
 */
export async function writeReproReport(out: string): Promise<string[]> {
  const info = readReproRecord(join(out, 'preset.json'));
  const preset = info.preset;
  const units = readUnits(out);
  const first = preset.bases[0] as PresetBase;
  const written: string[] = [];
  const md: string[] = [];
  const allMethods = [...new Set(preset.bases.flatMap((b) => b.methods))];
  md.push('## Table 1: what each method needs', '', writeTable(out, 'table1', reproDataTable(out, allMethods, units)), '');
  written.push('table1.md', 'table1.csv');
  for (const t of baseTables(preset.bases, units)) {
    md.push(`## ${t.title}`, '', writeTable(out, t.file, t.table), '');
    written.push(`${t.file}.md`, `${t.file}.csv`);
  }
  const rows = unitScoreRows(units);
  if (rows.length > 0) {
    writeFileAtomic(join(out, 'units.csv'), aq.from(rows).toCSV());
    written.push('units.csv');
  }
  const smooth = Math.max(1, Math.round(first.train.steps / 20));
  if (units.some((u) => u.metrics.some((m) => typeof m.implicit_acc === 'number'))) {
    await writeChart(implicitAccuracySpec(units, smooth), join(out, 'fig5'));
    written.push('fig5.svg', 'fig5.png');
  }
  const grids: Array<[string, string[], string]> = [
    ['fig3', PAPER_TABLES.table2.methods, 'Figure 3'],
    ['fig4', [...PAPER_TABLES.table3.methods, 'self-dpo-no-mse', ...PAPER_TABLES.table5.methods], 'Figure 4'],
  ];
  for (const [name, methods, title] of grids) {
    const png = await methodGridPng(
      units,
      methods.filter((m) => allMethods.includes(m)),
      title,
    );
    if (png) {
      writeFileAtomic(join(out, `${name}.png`), png);
      written.push(`${name}.png`);
    }
  }
  written.push(...(await writeWinRateForest(out, units, allMethods)));
  const trained = units.filter((u) => u.done && u.method !== BASE_UNIT);
  const hours = (f: (u: UnitRecord) => number): string => (units.reduce((s, u) => s + f(u), 0) / 3600).toFixed(2);
  const draws = preset.eval.draws ?? 1;
  const readme = [
    `# Reproduction: the ${preset.name} preset`,
    '',
    `This preset is ${preset.purpose}`,
    '',
    ...preset.bases.map((b) => {
      const w = info.bases[b.name];
      return `- Base ${b.name}: \`${w?.dir ?? b.dir}\` (weights sha256 ${String(w?.sha256).slice(0, 16)}...): ${b.methods.map(methodLabel).join(', ')}; ${b.train.steps} steps of ${b.train.batchSize} pairs (images for SFT) each${
        b.methods.some((m) => tunedFor(b, m))
          ? `, with the lr and beta tuned per method, an ablation taking its Self-DPO's (${b.methods
              .flatMap((m) => {
                const t = tunedFor(b, m);
                return t ? [[m, t] as const] : [];
              })
              .map(([m, t]) => `${methodLabel(m)}: ${[t.lr !== undefined ? `lr ${t.lr}` : '', t.beta !== undefined ? `beta ${t.beta}` : ''].filter((x) => x).join(', ')}`)
              .join('; ')})`
          : ''
      }, every other setting from \`configs/\`.`;
    }),
    `- Judges (sha256): ${Object.entries(info.judges)
      .map(([k, v]) => `${k} ${v.slice(0, 12)}`)
      .join(', ')}. Training seeds ${preset.seeds.join(', ')}.`,
    ...(info.pickSha256 !== undefined
      ? [
          `- Preference data: the Emoji-Pick build \`${info.pick}\` (sha256 of its identity and shards ${info.pickSha256.slice(0, 16)}...; its build.json is kept as \`${PICK_BUILD_RECORD}\`). Diffusion-DPO trains on its train split's untied pairs, SFT and Self-DPO on their winners and captions (Table 5 on the web set, the extra table on the curated set); each run's probe reads its validation split, which no training reads: Diffusion-DPO on its labelled pairs, the others on its winners with their own losers.`,
        ]
      : []),
    `- Evaluation: the first ${PROMPT_SETS.map((s) => `${preset.eval.prompts[s]} ${s}`).join(', ')} prompts of \`data/prompts/\`, ${samplingLabel(preset.eval.sampling)}, ${draws === 1 ? 'one fixed seed per prompt' : `${draws} fixed sample seeds per prompt (each prompt's score is the mean over them)`} shared by every model.`,
    `- Scores are means over prompts and training seeds with half their 95% interval, from a bootstrap that resamples both the seeds and the prompts (FID, one number per model, gets a Student t interval across seeds). Win rates are the share of prompts where the model beats its base on the same prompt and sample seed${draws === 1 ? '' : 's (averaged over the draws)'}, ties counting half, with the same bootstrap interval. "rank win" compares the rank of the prompt's concept among all ${conceptCount(units)} concepts under the evaluation judge (lower wins).`,
    `- Units finished: ${units.filter((u) => u.done).length} of ${presetUnitNames(preset).length} (${trained.length} trained models${units.some((u) => u.method === BASE_UNIT && u.done) ? ` and ${units.filter((u) => u.method === BASE_UNIT && u.done).length} base(s)` : ''}); time spent training ${hours((u) => u.done?.trainSeconds ?? 0)} h (every attempt's steps), evaluating ${hours((u) => u.done?.evalSeconds ?? 0)} h (each unit's last attempt).`,
    `- Machine: ${machineLine()}.`,
    '',
    'Made by:',
    '',
    '```sh',
    ...madeBy(info.invocations),
    '```',
    '',
    md.join('\n'),
    '## Figures',
    '',
    ...(written.includes('fig5.svg')
      ? [
          '- `fig5.svg` / `fig5.png`: Figure 5, implicit accuracy of every preference method from step 2 (step 1 ties every pair by construction), per base: on its training batches (a centred average) and on its held-out probe, each method on its own kind of pairs (named in the figure). Lines that coincide stay visible by their dashes.',
        ]
      : []),
    ...(written.includes('fig3.png')
      ? [
          `- \`fig3.png\`: Figure 3, samples of each base and its Table 2 methods (each method's run with training seed ${preset.seeds[0]}), the first ${preset.grid.prompts} curated-val prompts (rows) x seeds ${preset.grid.seeds.join(', ')}; under each sample, its per-pixel change from the base on the same prompt and seed, on a colour scale the figure's footer states.`,
        ]
      : []),
    ...(written.includes('fig4.png') ? ['- `fig4.png`: Figure 4, samples of the ablations and the web-set runs, with their change from the base as in Figure 3.'] : []),
    ...(written.includes('forest.svg')
      ? [
          "- `forest.svg` / `forest.png` (Vega-Lite spec `forest.vl.json`): every method's win rates against its base with their 95% intervals, per prompt set and base: a forest plot of the tables' win columns.",
        ]
      : []),
    `- \`units.csv\`: every trained model's raw scores and win rates, one row per prompt set, base, method and seed; \`runs/<method>-s<seed>/\` keeps each ${first.name} run's config, metrics, probe and per-prompt scores${
      preset.bases.length > 1
        ? `, \`runs/<base>/<method>-s<seed>/\` another base's (${preset.bases
            .slice(1)
            .map((b) => b.name)
            .join(', ')})`
        : ''
    }.`,
    '',
    "## The paper's claims",
    '',
    ...claimsMarkdown(units, preset.seeds),
    '',
  ].join('\n');
  writeFileAtomic(join(out, 'README.md'), readme);
  written.push('README.md');
  return written.map((f) => join(out, f));
}
