import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProbeRecord, PostTrainStepRecord } from '../train/postTrain.js';
import type { PostTrainConfig } from '../train/postTrainConfig.js';
import { JsonLines } from '../runs/progress.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readJsonFile } from '../util/jsonFile.js';
import { tuningChartSpec } from './tuningChart.js';
import { writeChart } from './renderChart.js';
import { groupBy } from '../util/groupBy.js';
import { canonicalJson } from '../util/canonicalJson.js';

/** One tuning run as the report reads it back. */
export interface TuningRun {
  name: string;
  config: PostTrainConfig;
  command: string | null;
  probe: ProbeRecord[];
  metrics: PostTrainStepRecord[];
}

/** A run's summary row. */
export interface TuningRow {
  name: string;
  /** What a choice is made among: the runs of one method config on one base (`tuningGroup`). */
  group: string;
  /** The base's folder name (`base-s`) and the configs/ name of the method (`self-dpo-beta50`), read off the run. */
  base: string;
  config: string;
  method: string;
  downgrade: string;
  lr: number;
  beta: number;
  steps: number;
  /** The probe's implicit accuracy at the last step. */
  probeAcc: number;
  /** The probe's mean DPO loss at the last step (log 2 = no preference; lower = surer and right). */
  probeDpo: number;
  /** The probe's winner error against the reference's, in percent (negative = the policy denoises the probe's images better). */
  mseChange: number;
  /** Training implicit accuracy, mean over the last 10% of steps. */
  trainAcc: number;
  /** The probe step where the rule's criterion was best (for choosing the steps: the last step means it was still improving). */
  bestStep: number;
}

/** Copy a finished run's record (config, metrics, probe) into `dir/runs/<name>`: the evidence the report is built from. */
export function keepTuningRun(runDir: string, dir: string, name: string): void {
  const to = join(dir, 'runs', name);
  // Atomic copies: a sweep killed mid-copy leaves no cut record for the report to read.
  for (const f of ['config.json', 'metrics.jsonl', 'heldout.jsonl']) writeFileAtomic(join(to, f), readFileSync(join(runDir, f)));
}

/**
 * Whether `dir/runs/<name>` keeps a finished run of exactly `config`: its probe reached the last
 * step. A sweep skips such a setting, also when its run folder is gone (another machine, a fresh
 * clone): the kept record is what the report reads, and the run folder is not committed.
 */
export function keptTuningRunFinished(dir: string, name: string, config: PostTrainConfig): boolean {
  const kept = join(dir, 'runs', name);
  if (!existsSync(join(kept, 'config.json')) || !existsSync(join(kept, 'heldout.jsonl'))) return false;
  const info = readJsonFile(join(kept, 'config.json'), 'tuning run config') as { config: PostTrainConfig };
  const probe = new JsonLines(join(kept, 'heldout.jsonl')).read() as unknown as ProbeRecord[];
  return canonicalJson(info.config) === canonicalJson(config) && probe.at(-1)?.step === config.train.steps;
}

export function readTuningRuns(dir: string): TuningRun[] {
  const root = join(dir, 'runs');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((name) => {
      const info = readJsonFile(join(root, name, 'config.json'), 'tuning run config') as { config: PostTrainConfig; command: string | null };
      return {
        name,
        config: info.config,
        command: info.command,
        probe: new JsonLines(join(root, name, 'heldout.jsonl')).read() as unknown as ProbeRecord[],
        metrics: new JsonLines(join(root, name, 'metrics.jsonl')).read() as unknown as PostTrainStepRecord[],
      };
    });
}

/**
 * The runs a tuning choice is made among: one method config (its description names it: configs/
 * has one per method) on one base (its folder's name). A sweep over both bases chooses for each.
 */
export function tuningGroup(config: PostTrainConfig): string {
  return `${basename(config.base)}: ${config.description}`;
}

/** A run's configs/ name, read off its name (`[<base>-]<config>-lr...`, as `npm run tune` names it). */
function tuningConfigName(run: TuningRun): string {
  const base = basename(run.config.base);
  const name = run.name.startsWith(`${base}-`) ? run.name.slice(base.length + 1) : run.name;
  return /^(.+?)-lr/.exec(name)?.[1] ?? run.config.method;
}

/** Whether the rule for a run's method reads its preference (a method with a preference loss) or its winner error alone (SFT). */
function prefersPairs(row: Pick<TuningRow, 'method'>): boolean {
  return row.method !== 'sft';
}

export function tuningRow(run: TuningRun): TuningRow {
  const last = run.probe[run.probe.length - 1];
  if (!last) throw new Error(`tuning run ${run.name}: no probe records`);
  const tail = run.metrics.slice(-Math.max(1, Math.round(run.metrics.length / 10)));
  // The probe step where the run's own criterion peaked (the first such step on a tie).
  const score = (p: ProbeRecord): number => (prefersPairs({ method: run.config.method }) ? p.implicit_acc : -p.mse_w / p.ref_w);
  const best = run.probe.reduce((b, p) => (score(p) > score(b) ? p : b), run.probe[0] as ProbeRecord);
  return {
    name: run.name,
    group: tuningGroup(run.config),
    base: basename(run.config.base),
    config: tuningConfigName(run),
    method: run.config.method,
    downgrade: run.config.downgrade,
    lr: run.config.train.lr,
    beta: run.config.loss.beta,
    steps: last.step,
    probeAcc: last.implicit_acc,
    probeDpo: last.dpo,
    mseChange: 100 * (last.mse_w / last.ref_w - 1),
    trainAcc: tail.reduce((s, m) => s + (m.implicit_acc ?? 0), 0) / tail.length,
    bestStep: best.step,
  };
}

/** The most a preference method's probe winner error may rise over the reference's, in percent. */
export const MAX_MSE_RISE = 2;

/**
 * The rule each choice follows (stated in the report), among the runs of one group, read on the
 * validation side alone:
 * - a method with a preference loss (Diffusion-DPO, Self-DPO and its variants): the highest probe
 *   implicit accuracy among runs whose probe winner error is at most `maxMseRise` percent above
 *   the reference's, so that a preference gained by denoising worse overall does not win; when no
 *   run stays within that bound, the run whose winner error rose least (the nearest to it);
 * - SFT, which has no preference to read: the lowest probe winner error relative to the reference.
 */
export function chooseSetting(rows: readonly TuningRow[], maxMseRise = MAX_MSE_RISE): TuningRow | undefined {
  const byError = [...rows].sort((a, b) => a.mseChange - b.mseChange);
  if (rows.every((r) => !prefersPairs(r))) return byError[0];
  return rows.filter((r) => r.mseChange <= maxMseRise).sort((a, b) => b.probeAcc - a.probeAcc || a.mseChange - b.mseChange)[0] ?? byError[0];
}

/**
 * The choices as the preset takes them (`PresetBase.tuned` in src/repro/reproPresets.ts): per base
 * folder, per configs/ name, the chosen lr, and the beta for a method with a preference loss.
 */
export function presetTuned(rows: readonly TuningRow[]): Record<string, Record<string, { lr: number; beta?: number }>> {
  const out: Record<string, Record<string, { lr: number; beta?: number }>> = {};
  for (const c of chooseByGroup(rows).values()) (out[c.base] ??= {})[c.config] = prefersPairs(c) ? { lr: c.lr, beta: c.beta } : { lr: c.lr };
  return out;
}

/** The methods whose chosen settings, run longer, set a base's steps (docs/PROTOCOL.md, "Tuning"). */
const BUDGET_CONFIGS = ['sft', 'dpo', 'self-dpo'] as const;
/** The most steps a budget may take: what this machine affords for 3 seeds of every method. */
export const STEPS_CAP = 800;

/** A base's training steps and the runs they were read from: the longest run of each budget method's chosen setting. */
export interface StepBudget {
  steps: number;
  runs: TuningRow[];
}

/**
 * Each base's steps (docs/PROTOCOL.md, "Tuning"): the latest probe step at which the longest run
 * of its chosen SFT, Diffusion-DPO or Self-DPO setting peaked on its criterion, at most STEPS_CAP.
 * A base lacking a choice for one of the three has no budget yet.
 */
export function stepBudgets(rows: readonly TuningRow[]): Map<string, StepBudget> {
  const chosen = [...chooseByGroup(rows).values()];
  const budgets = new Map<string, StepBudget>();
  for (const base of new Set(rows.map((r) => r.base))) {
    const runs = BUDGET_CONFIGS.map((config) => {
      const c = chosen.find((r) => r.base === base && r.config === config);
      if (!c) return undefined;
      const same = rows.filter((r) => r.base === base && r.config === config && r.lr === c.lr && (!prefersPairs(r) || r.beta === c.beta));
      return same.reduce((a, b) => (b.steps > a.steps ? b : a));
    });
    if (runs.every((r): r is TuningRow => r !== undefined)) budgets.set(base, { steps: Math.min(STEPS_CAP, Math.max(...runs.map((r) => r.bestStep))), runs });
  }
  return budgets;
}

/** Each group's choice, in the rows' order of groups (a group has at least one run, so it always has one). */
function chooseByGroup(rows: readonly TuningRow[]): Map<string, TuningRow> {
  return new Map([...groupBy(rows, (r) => r.group)].map(([g, rs]) => [g, chooseSetting(rs) as TuningRow]));
}

/** The rule in words, for the report. */
const RULE = (set: string): string =>
  `Rule, per base and method config (each group below chooses for itself), on the ${set} side alone: for a method with a preference loss, the highest ${set} implicit accuracy among settings whose ${set} winner error rose by at most ${MAX_MSE_RISE}% over the reference's (when none did, the setting whose error rose least); for SFT, which has no preference, the lowest ${set} winner error relative to the reference. Steps: a run's "best at step" is the probe step where its criterion peaked (its last step when the curve had not turned); the steps per base below read it off the longest runs of the chosen settings (docs/PROTOCOL.md, "Tuning").`;

/** The steps per base and where each was read, for the report. */
function stepsSection(rows: readonly TuningRow[]): string[] {
  const budgets = stepBudgets(rows);
  if (budgets.size === 0) return ['Steps: no base has a chosen SFT, Diffusion-DPO and Self-DPO yet.'];
  return [
    `Steps per base (\`train.steps\` in the preset): the latest step at which the longest run of the base's chosen SFT, Diffusion-DPO or Self-DPO peaked on its criterion, at most ${STEPS_CAP} (docs/PROTOCOL.md, "Tuning"):`,
    '',
    ...[...budgets].map(([base, b]) => `- ${base}: **${b.steps} steps**, from ${b.runs.map((r) => `${r.config} (best at step ${r.bestStep} of ${r.steps})`).join(', ')}.`),
  ];
}

/** Pointers to the loss-term measurements kept beside the sweep (bench/lossTermRatio.ts writes them), if any. */
function lossTermNotes(dir: string): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^loss-terms-.*\.md$/.test(f)) : [];
  if (files.length === 0) return [];
  return ['', `Loss-term gradient norms per beta (why Table 4 also runs at beta 50): ${files.map((f) => `\`${f}\``).join(', ')}.`];
}

/** results/tuning/README.md, sweep.csv and the probe chart, from every run kept in `dir`. */
export async function writeTuningReport(dir: string, machine: string): Promise<string> {
  const runs = readTuningRuns(dir);
  if (runs.length === 0) throw new Error(`${dir}: no tuning runs`);
  const rows = runs.map(tuningRow);
  const chosen = chooseByGroup(rows);
  const isChosen = (r: TuningRow): boolean => chosen.get(r.group) === r;
  const fmt = (x: number, d = 3): string => x.toFixed(d);
  // The probe's set as the runs' records name it: the validation set, or curated-val in runs made before it.
  const sets = [...new Set(runs.map((r) => r.probe[0]?.set ?? 'validation'))];
  const set = sets.join(' / ');
  const header = `| run | base: method config | lr | beta | steps | probe implicit acc | probe DPO loss | probe winner error vs reference | best at step | train implicit acc (last 10%) |`;
  const table = [
    header,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name}${isChosen(r) ? ' **(chosen)**' : ''} | ${r.group} | ${r.lr} | ${r.beta} | ${r.steps} | ${fmt(r.probeAcc)} | ${fmt(r.probeDpo)} | ${r.mseChange >= 0 ? '+' : ''}${fmt(r.mseChange, 2)}% | ${r.bestStep} | ${fmt(r.trainAcc)} |`,
    ),
  ];
  const csv = [
    'run,group,method,downgrade,lr,beta,steps,probe_implicit_acc,probe_dpo_loss,probe_mse_change_pct,best_step,train_implicit_acc',
    ...rows.map((r) => [r.name, JSON.stringify(r.group), r.method, r.downgrade, r.lr, r.beta, r.steps, r.probeAcc, r.probeDpo, r.mseChange, r.bestStep, r.trainAcc].join(',')),
  ];
  writeFileAtomic(join(dir, 'sweep.csv'), `${csv.join('\n')}\n`);
  const points = runs.flatMap((run, i) => {
    const r = rows[i] as TuningRow;
    return run.probe.map((p) => ({ panel: `${r.base}: ${r.config}`, lr: r.lr, beta: r.beta, step: p.step, implicitAcc: p.implicit_acc }));
  });
  const chart = await writeChart(tuningChartSpec(points, `${set} implicit accuracy during tuning`), join(dir, 'probe-implicit-acc'));
  const commands = [...new Set(runs.map((r) => r.command).filter((c): c is string => c !== null))];
  const text = [
    '# Tuning beta and LR for 32x32 pixel space',
    '',
    "The paper's beta = 5000 and LR 1e-6 at batch 2048 were set for SD latents; here errors are per-pixel v errors of a 32x32 model, so both are re-tuned (docs/PROTOCOL.md).",
    'Every number below is read from the runs kept in `runs/` beside this file (their config, metrics and probe records).',
    '',
    sets.length === 1 && set === 'curated-val'
      ? "What is read: only **curated-val** (one curated image per curated-val concept, captioned with its curated-val prompt, losers made by the run's downgrade): its implicit accuracy (share of pairs where the policy prefers the winner more than the reference does) and its winner denoising error relative to the reference's. No evaluation judge and no test prompt set is involved."
      : `What is read: only each run's own held-out probe (${set}), which no trainer reads: for a run on Emoji-T2I's views the validation set (held-out real images of seen concepts, one per concept, with a fixed training-style caption; losers made by the run's downgrade), for a run on an Emoji-Pick build its validation split (Diffusion-DPO on its labelled pairs, the others on its winners with their own losers). Read from it: the implicit accuracy (share of pairs where the policy prefers the winner more than the reference does) and the winner denoising error relative to the reference's. No evaluation judge and no evaluation prompt is involved.`,
    '',
    RULE(set),
    '',
    ...table,
    '',
    ...[...chosen].map(
      ([g, c]) =>
        `Chosen for ${g}: **lr ${c.lr}, beta ${c.beta}** (${c.name}; its criterion was best at step ${c.bestStep} of ${c.steps})${prefersPairs(c) && c.mseChange > MAX_MSE_RISE ? `. No setting kept its winner error within ${MAX_MSE_RISE}%: this is the one whose error rose least (+${fmt(c.mseChange, 2)}%)` : ''}.`,
    ),
    '',
    "As the preset takes them (`PresetBase.tuned` in `src/repro/reproPresets.ts`, per base folder; the ablations take their Self-DPO's, docs/PROTOCOL.md):",
    '',
    '```json',
    JSON.stringify(presetTuned(rows)),
    '```',
    '',
    ...stepsSection(rows),
    ...lossTermNotes(dir),
    '',
    `Chart: \`${chart.svg.split('/').pop()}\` / \`.png\` (${set} implicit accuracy against step, a panel per base and method config, a line per setting). Table as CSV: \`sweep.csv\`.`,
    '',
    `Machine: ${machine}.`,
    '',
    'Commands:',
    '',
    '```sh',
    ...commands,
    '```',
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'README.md'), text);
  return join(dir, 'README.md');
}
