import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { curatedValPrompts } from '../data/evalPrompts.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { renderMethodGrid, type GridModel } from '../report/methodGrid.js';
import { sampleImages } from '../report/sampleGrid.js';
import { readTrainRun, trainSummaryTable, writeTrainReport } from '../report/trainReport.js';
import { numberFlag, parseArgs } from '../util/args.js';
import { machineLine } from '../util/machine.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { generateOptions, workersFlag } from './sampleCommand.js';

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
export async function compareCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force', 'grid'], string: ['runs', 'out', 'prompts', 'seeds', 'smooth', 'workers', 'backend', 'steps', 'guidance', 'sampler', 'eta', ...EMOJI_FLAGS] });
  const out = args.flags['out'];
  if (typeof out !== 'string') throw new Error('give --out DIR (e.g. results/post-training)');
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
      .slice(0, numberFlag(args, 'prompts', 8))
      .map((p) => p.prompt);
    const base = runs[0]?.config.base as string;
    const sources = [{ label: basename(base), dir: base }, ...runs.map((r) => ({ label: r.label, dir: join(r.dir, 'model') }))];
    const models: GridModel[] = sources.map(({ label, dir }) => ({
      label,
      draw: async (ps, ss) => {
        const { model, schedule } = loadModel(dir);
        const pool = await startPool(model, schedule, workers);
        try {
          return await sampleImages(model, schedule, ps, ss, { ...opts, pool });
        } finally {
          await pool?.stop();
          model.params.dispose();
        }
      },
    }));
    const png = await renderMethodGrid(models, prompts, seeds, data.resolution, `Same curated-val prompts and seeds; DDIM ${opts.steps} steps, guidance ${opts.guidance}`);
    writeFileAtomic(join(out, 'samples.png'), png);
    gridNote = [
      '',
      `\`samples.png\`: the first ${prompts.length} curated-val prompts (rows) drawn by ${sources.map((s) => s.label).join(', ')} (columns), seeds ${seeds.join(', ')} each: the same noise for every model.`,
    ];
  }
  const machine = machineLine();
  writeFileAtomic(
    join(out, 'README.md'),
    [
      '# Post-training runs compared',
      '',
      `Real runs from the base model \`${runs[0]?.config.base}\`, read from the records kept in \`runs/\` beside this file. Implicit accuracy is the share of pairs where the policy lowered its winner error relative to its loser error more than the frozen reference (ties are not wins); the probe scores fixed held-out pairs (the validation set; curated-val in runs made before it; losers made by each run's own downgrade, random-image for SFT and DPO).`,
      '',
      trainSummaryTable(runs),
      '',
      `Charts: ${files
        .filter((f) => f.endsWith('.svg'))
        .map((f) => `\`${basename(f)}\``)
        .join(', ')} (each also as .png).`,
      ...gridNote,
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
}
