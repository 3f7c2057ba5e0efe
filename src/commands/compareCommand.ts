import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { curatedValPrompts } from '../data/evalPrompts.js';
import { evaluateWithImages, type EvalResult } from '../eval/evaluate.js';
import { loadEvalContext } from '../eval/evalContext.js';
import { pairedChange } from '../eval/pairedChange.js';
import { readPromptSet } from '../eval/promptSets.js';
import type { Interval } from '../eval/winRate.js';
import { withModel } from '../parallel/withModel.js';
import { renderMethodGrid, type GridModel } from '../report/methodGrid.js';
import { sampleImages } from '../report/sampleGrid.js';
import { readTrainRun, trainSummaryTable, writeTrainReport, type TrainRunRecord } from '../report/trainReport.js';
import { numberFlag, stringFlag, UsageError, type Flag, type ParsedArgs } from '../util/args.js';
import { machineLine } from '../util/machine.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { defineCommand } from './command.js';
import { EVALUATION_FLAGS, generateOptions, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { samplingLabel } from '../model/generate.js';

/** --runs "Label=dir,Label=dir": post-training runs under the labels their charts show. */
function parseRuns(value: unknown): Array<{ label: string; dir: string }> {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('give --runs "SFT=runs/train/sft/seed1,Self-DPO=runs/train/self-dpo/seed1"');
  return value.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new Error(`--runs: "${part}" is not Label=dir`);
    return { label: part.slice(0, eq).trim(), dir: part.slice(eq + 1).trim() };
  });
}

/**
 * Compare post-training runs: implicit-accuracy, probe and loss charts, a summary table,
 * the runs' records, and (with --grid) samples of the base and every run's model for the same
 * curated-val prompts and seeds side by side; all into --out with a README naming the commands.
 */
const COMPARE_FLAGS = [
  { name: 'runs', value: 'L=DIR,..', help: 'the runs under the labels their charts show: "SFT=runs/train/sft/seed1,Self-DPO=runs/train/self-dpo/seed1" (required)' },
  { name: 'out', value: 'DIR', help: 'the report folder (required)' },
  { name: 'smooth', value: 'N', default: '20', help: "the charts' moving-average window, in logged steps" },
  { name: 'grid', help: 'also draw curated-val samples of the base and every run side by side' },
  { name: 'grid-prompts', value: 'N', default: '8', help: "the grid's prompts (rows)" },
  { name: 'seeds', value: 'COUNT', default: '2', help: "the grid's seeds per prompt" },
  { name: 'eval', value: 'SET', help: 'also evaluate the base and every run on this prompt set, each run against the base prompt by prompt' },
  { name: 'eval-prompts', value: 'N', help: "the set's first N prompts (default: all)" },
  ...EVALUATION_FLAGS,
] as const satisfies readonly Flag[];

export const compareCommand = defineCommand({
  name: 'compare',
  summary: 'compare post-training runs: charts, a table and records; with --grid samples side by side; with --eval SET each model against the base',
  flags: COMPARE_FLAGS,
  async run(args, argv) {
    const out = stringFlag(args, 'out');
    if (out === undefined) throw new UsageError('give --out DIR (e.g. results/post-training)');
    if (existsSync(join(out, 'README.md')) && args.flags['force'] !== true) throw new Error(`${out} holds a report; pass --force to replace it`);
    const runs = parseRuns(args.flags['runs']).map(({ label, dir }) => readTrainRun(dir, label));
    const names = runs.map((r) => `${basename(join(r.dir, '..'))}-${basename(r.dir)}`);
    const files = await writeTrainReport(runs, out, { smooth: numberFlag(args, 'smooth', 20), names });
    const command = `npm run compare -- ${argv.map((a) => (/[ ,=]/.test(a) ? `"${a}"` : a)).join(' ')}`;
    let gridNote: string[] = [];
    if (args.flags['grid'] === true) {
      const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
      const workers = workersFlag(args, backend.tfBackend);
      const opts = generateOptions(args);
      const seeds = Array.from({ length: numberFlag(args, 'seeds', 2) }, (_, i) => i);
      const data = await openEmojiFromFlags(args);
      const prompts = curatedValPrompts(data)
        .slice(0, numberFlag(args, 'grid-prompts', 8))
        .map((p) => p.prompt);
      const base = runs[0]?.config.base as string;
      const sources = [{ label: basename(base), dir: base }, ...runs.map((r) => ({ label: r.label, dir: join(r.dir, 'model') }))];
      const models: GridModel[] = sources.map(({ label, dir }) => ({
        label,
        draw: (ps, ss) => withModel(dir, workers, ({ model, schedule }, pool) => sampleImages(model, schedule, ps, ss, { ...opts, pool })),
      }));
      const png = await renderMethodGrid(models, prompts, seeds, data.resolution, `Same curated-val prompts and seeds; ${samplingLabel(opts)}`);
      writeFileAtomic(join(out, 'samples.png'), png);
      gridNote = [
        '',
        `\`samples.png\`: the first ${prompts.length} curated-val prompts (rows) drawn by ${sources.map((s) => s.label).join(', ')} (columns), seeds ${seeds.join(', ')} each: the same noise for every model.`,
      ];
    }
    const evalNote = typeof args.flags['eval'] === 'string' ? await pairedEvaluation(args, argv, runs) : [];
    const machine = machineLine();
    writeFileAtomic(
      join(out, 'README.md'),
      [
        '# Post-training runs compared',
        '',
        `Real runs from the base model \`${runs[0]?.config.base}\`, read from the records kept in \`runs/\` beside this file. Implicit accuracy is the share of pairs where the policy lowered its winner error relative to its loser error more than the frozen reference (ties are not wins); the probe scores fixed held-out pairs (an Emoji-Pick build's validation split for runs on its train split: Diffusion-DPO on its labelled pairs, the others on its winners; else the validation set, or curated-val in runs made before it; losers made by each run's own downgrade, random-image for SFT, and for DPO without labelled held-out pairs).`,
        '',
        trainSummaryTable(runs),
        '',
        `Charts: ${files
          .filter((f) => f.endsWith('.svg'))
          .map((f) => `\`${basename(f)}\``)
          .join(', ')} (each also as .png).`,
        ...gridNote,
        ...evalNote,
        '',
        `Machine: ${machine}.`,
        '',
        'Commands (each run, then this report):',
        '',
        '```sh',
        ...runs.flatMap((r) => r.commands),
        command,
        '```',
        '',
      ].join('\n'),
    );
    console.log(`wrote ${join(out, 'README.md')}`);
  },
});

/**
 * --eval SET: the base and every run's model evaluated on the set's first --eval-prompts prompts
 * (each prompt's fixed seed, shared by every model), and each run against the base prompt by
 * prompt: how far its images moved (mean |pixel difference|) and its paired score differences
 * with 95% intervals. Returns the README's section.
 */
async function pairedEvaluation(args: ParsedArgs<(typeof COMPARE_FLAGS)[number]['name']>, argv: string[], runs: readonly TrainRunRecord[]): Promise<string[]> {
  const set = args.flags['eval'] as string;
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const workers = workersFlag(args, backend.tfBackend);
  const data = await openEmojiFromFlags(args);
  const { context, hashes } = loadEvalContext(data, stringFlag(args, 'judges') as string);
  const all = readPromptSet(set);
  const prompts = all.slice(0, numberFlag(args, 'eval-prompts', all.length));
  const sampling = generateOptions(args);
  const cacheDir = stringFlag(args, 'cache') as string;
  const base = runs[0]?.config.base as string;
  const sources = [{ label: basename(base), dir: base }, ...runs.map((r) => ({ label: r.label, dir: join(r.dir, 'model') }))];
  const evaluated: Array<{ label: string; result: EvalResult; images: Uint8Array[] }> = [];
  for (const { label, dir } of sources) {
    await withModel(dir, workers, async ({ model, schedule, file }, pool) => {
      if (evaluated.length === 0) checkSameBase(runs, base, file.weightsManifest.sha256);
      const info = { dir, sha256: file.weightsManifest.sha256 };
      const onProgress = (done: number, total: number): void => {
        if (done % 100 === 0 || done === total) console.error(`compare: ${label} on ${set}: ${done}/${total} images`);
      };
      const opts = { sampling, cacheDir, onProgress, ...(pool ? { pool } : {}) };
      evaluated.push({ label, ...(await evaluateWithImages(model, schedule, info, set, prompts, context, hashes, opts)) });
    });
  }
  context.contrastive.params.dispose();
  context.realism.params.dispose();
  const first = evaluated[0] as (typeof evaluated)[number];
  const ci = (x: Interval, digits = 2): string => `${x.mean >= 0 ? '+' : ''}${x.mean.toFixed(digits)} [${x.low.toFixed(digits)}, ${x.high.toFixed(digits)}]`;
  const rows = evaluated.map((e, i) => {
    const scores = `${e.result.align.toFixed(2)} | ${(100 * e.result.r5).toFixed(1)} | ${e.result.real.toFixed(1)}`;
    if (i === 0) return `| ${e.label} (base) | ${scores} | – | – | – | – |`;
    const c = pairedChange(first, e);
    return `| ${e.label} | ${scores} | ${c.pixelChange.toFixed(2)} | ${ci(c.alignDiff)} | ${ci(c.r5Diff, 1)} | ${ci(c.realDiff, 1)} |`;
  });
  return [
    '',
    `## Against the base on ${set}`,
    '',
    `${prompts.length} prompts of \`data/prompts/${set}.jsonl\`, one image each from the prompt's fixed seed (the same noise for every model), ${samplingLabel(sampling)}; judges \`${hashes.contrastive.slice(0, 12)}\` (evaluation) and \`${hashes.realism.slice(0, 12)}\` (realism). Pixel change: the mean |difference| from the base's image of the same prompt, in byte levels of 255. Differences are model - base per prompt, with 95% bootstrap intervals over prompts.`,
    '',
    '| model | Align | R@5 % | Real | pixel change | Align diff | R@5 diff (pts) | Real diff |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

/** Every run must start from `base` as it is now (by weights hash): else "against the base" would compare with another model. */
function checkSameBase(runs: readonly TrainRunRecord[], base: string, sha256: string): void {
  for (const r of runs) {
    if (r.config.base !== base) throw new Error(`--eval: run ${r.label} (${r.dir}) started from ${r.config.base}, the first from ${base}; compare runs of one base`);
    if (r.baseSha256 !== undefined && r.baseSha256 !== sha256)
      throw new Error(`--eval: run ${r.label} (${r.dir}) started from base weights ${r.baseSha256.slice(0, 12)}, but ${base} now holds ${sha256.slice(0, 12)}`);
  }
}
