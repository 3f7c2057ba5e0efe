#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareCommand } from './commands/compareCommand.js';
import { evalCommand } from './commands/evalCommand.js';
import { judgesCommand } from './commands/judgesCommand.js';
import { pairsCommand } from './commands/pairsCommand.js';
import { pretrainCommand } from './commands/pretrainCommand.js';
import { pickCommand } from './commands/pickCommand.js';
import { sampleCommand } from './commands/sampleCommand.js';
import { shipCommand } from './commands/shipCommand.js';
import { reproduceCommand } from './commands/reproduceCommand.js';
import { startCommand } from './commands/startCommand.js';
import { postTrainCommand } from './commands/postTrainCommand.js';
import { tuneCommand } from './commands/tuneCommand.js';
import { workerCommand } from './commands/workerCommand.js';
import { queueCommand } from './commands/queueCommand.js';
import { buildEmojiT2I, defaultDataRoot, ensureEmojiT2I } from './data/emojiBuilder.js';
import { resolveEmojiDataConfig, type EmojiDataConfig } from './data/emojiConfig.js';
import { renderEmojiDataCard, summarizeEmojiManifest } from './data/emojiDataCard.js';
import { EmojiT2I } from './data/emojiDataset.js';
import { renderEmojiSampleSheet } from './report/emojiSampleSheet.js';
import { loadFolderDataset } from './data/folderDataset.js';
import { PROMPTS_DIR, writePromptSets } from './eval/promptSets.js';
import { renderImageSheet } from './report/imageSheet.js';
import { Rng } from './util/rng.js';
import { numberFlag, parseArgs, UsageError, type ParsedArgs } from './util/args.js';
import { writeFileAtomic } from './util/atomicWrite.js';
import { readJsonFile } from './util/jsonFile.js';

const log = (message: string): void => console.error(message);

/**
 * The data config from --config FILE (JSON) and --resolution, validated here so that an
 * error names the file it came from.
 */
function dataOverride(args: ParsedArgs): EmojiDataConfig {
  const file = args.flags['config'];
  let override = (typeof file === 'string' ? readJsonFile(file, 'config') : {}) as Record<string, unknown>;
  if (args.flags['resolution'] !== undefined) override = { ...override, resolution: numberFlag(args, 'resolution', 32) };
  return resolveEmojiDataConfig(override, typeof file === 'string' ? file : 'flags');
}

/** Refuse to replace a file without --force (results are never overwritten silently). */
function writeOutput(path: string, data: string | Uint8Array, force: boolean): void {
  if (existsSync(path) && !force) throw new Error(`${path} exists; pass --force to replace it`);
  writeFileAtomic(path, data);
  log(`wrote ${path}`);
}

function printSummary(data: EmojiT2I): void {
  const summary = summarizeEmojiManifest(data.manifest);
  console.log(`Emoji-T2I at ${data.resolution}x${data.resolution} in ${data.dir}`);
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(22)} ${v}`);
  for (const s of data.manifest.styles) console.log(`  ${s.name.padEnd(13)} ${s.role.padEnd(9)} ${String(s.images).padStart(5)}  ${s.license}`);
}

const DATA_FLAGS = {
  boolean: ['force', 'verify', 'skip-bad', 'prompts'],
  string: ['resolution', 'config', 'data-root', 'sample-sheet', 'card', 'folder'],
};

/** Check a user's folder of images + captions.jsonl, report what loads, optionally draw it. */
async function folderCommand(args: ParsedArgs, folder: string): Promise<void> {
  const skipBad = args.flags['skip-bad'] === true;
  const { set, skipped } = await loadFolderDataset(folder, { resolution: numberFlag(args, 'resolution', 32), skipBad });
  console.log(`${folder}: ${set.size} examples at ${set.resolution}x${set.resolution}${skipBad ? `, ${skipped.length} bad skipped` : ''}`);
  for (const bad of skipped.slice(0, 10)) console.log(`  skipped ${bad.file}${bad.line ? ` (line ${bad.line})` : ''}: ${bad.reason}`);
  if (skipped.length > 10) console.log(`  ... and ${skipped.length - 10} more`);
  const sheet = args.flags['sample-sheet'];
  if (typeof sheet === 'string') {
    const n = Math.min(set.size, 12);
    const rng = new Rng(0);
    const png = await renderImageSheet({
      resolution: set.resolution,
      title: `${folder}: first ${n} examples`,
      rowLabels: [''],
      columnLabels: Array.from({ length: n }, (_, i) => `${i + 1}`),
      cells: [Array.from({ length: n }, (_, i) => set.pixels(i))],
      footer: Array.from({ length: n }, (_, i) => `${i + 1}. ${set.id(i)}: ${set.caption(i, rng)}`),
    });
    writeOutput(sheet, png, args.flags['force'] === true);
  }
}

async function dataCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, DATA_FLAGS);
  if (typeof args.flags['folder'] === 'string') {
    const emojiOnly = ['config', 'data-root', 'card', 'verify', 'prompts'].filter((f) => args.flags[f] !== undefined);
    if (emojiOnly.length > 0) throw new Error(`--folder does not take ${emojiOnly.map((f) => `--${f}`).join(', ')} (they are for Emoji-T2I builds)`);
    return folderCommand(args, args.flags['folder']);
  }
  const force = args.flags['force'] === true;
  const dataRoot = (args.flags['data-root'] as string | undefined) ?? defaultDataRoot();
  const override = dataOverride(args);
  const { dir } = force ? await buildEmojiT2I(override, { dataRoot, force, log }) : await ensureEmojiT2I(override, { dataRoot, log });
  const data = EmojiT2I.open(dir, args.flags['verify'] === true);
  printSummary(data);
  const command = `npm run data -- ${argv.join(' ')}`.trim();
  if (typeof args.flags['sample-sheet'] === 'string') writeOutput(args.flags['sample-sheet'], await renderEmojiSampleSheet(data), force);
  if (typeof args.flags['card'] === 'string') writeOutput(args.flags['card'], renderEmojiDataCard(data, command), force);
  if (args.flags['prompts'] === true) for (const path of writePromptSets(data, PROMPTS_DIR, force)) log(`wrote ${path}`);
}

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  data: {
    run: dataCommand,
    help:
      'build Emoji-T2I (--force --resolution 64 --config FILE --data-root DIR --verify --sample-sheet PNG --card MD --prompts (writes data/prompts/)),\n' +
      '                 or check your own folder (--folder DIR [--skip-bad] [--resolution N] [--sample-sheet PNG])',
  },
  pretrain: {
    run: pretrainCommand,
    help: 'pretrain a base model (--preset base-s|base-l|weak|smoke --config FILE --out DIR --steps N --cooldown N (the LR falls linearly over the last N steps, to lr/N at the last; allowed on resume before the fall begins) --workers N (default: cores) --init-from MODEL_DIR --force --backend NAME --data-root DIR --data-config FILE)',
  },
  sample: {
    run: sampleCommand,
    help: 'draw a grid from a model (--prompt TEXT | --prompts FILE, --seed N --seeds COUNT --model DIR (or --base DIR; default data/base-s) --sampler dpm++2m|ddim|ddpm (default dpm++2m) --steps 10 --guidance 3 --eta 0 (DDIM only) --out PNG --workers N --force)',
  },
  ship: {
    run: shipCommand,
    help: 'ship a pretraining run: model into data/, report into results/ (--run DIR --to data/base-s --results results/base-s --name base-S --weights ema|raw --dtype float16|float32 (default float16) --force)',
  },
  'post-train': {
    run: postTrainCommand,
    help:
      'post-train a base model with a method of configs/ (--method sft|dpo|self-dpo|self-dpo-blur|self-dpo-grid|self-dpo-no-mse|self-dpo-nearest|... --seed N\n' +
      '                 --steps N --lr X --beta X --lambda1 X --lambda2 X --batch N --micro-batch N --optimizer adamw|adafactor --config FILE --base MODEL_DIR\n' +
      '                 --pairs FILE.parquet|DIR|pairs.jsonl (dpo: train on its pairs; other methods: on its winners and their captions)\n' +
      '                 --out DIR (default runs/train/<method>/seed<N>) --workers N --force --backend NAME --data-root DIR --data-config FILE)',
  },
  compare: {
    run: compareCommand,
    help: 'compare post-training runs: charts, table, records, with --grid samples side by side, with --eval SET each model against the base prompt by prompt (--runs "SFT=DIR,Self-DPO=DIR" --out DIR --grid --prompts 8 --seeds 2 --smooth 20 --eval curated-val --eval-prompts N --judges DIR --workers N --force)',
  },
  pairs: {
    run: pairsCommand,
    help: "build Diffusion-DPO's preference pairs: base-model images ranked by the annotator judge (--base DIR --judge data/judges/annotator --prompts 1000 --seed N --out data/pairs/annotator --workers N --force)",
  },
  eval: {
    run: evalCommand,
    help: 'evaluate a model on a prompt set with the judges: Align, R@1, R@5, Real, FID (--run DIR | --model DIR | --base DIR, --prompts curated-val|unseen-concepts|keyword-only --judges data/judges --out JSON --cache DIR --workers N --force)',
  },
  judges: {
    run: judgesCommand,
    help: 'train the evaluation, annotator and realism judges into data/judges/ with validity reports in results/judges/ (--which eval,annotator,realism --base MODEL_DIR --workers N --force)',
  },
  tune: {
    run: tuneCommand,
    help: 'sweep LR x beta for a method on curated-val only, report in results/tuning (--method NAME --lrs 1e-5,3e-5 --betas 2500,5000 --steps N --seed N --base DIR --out runs/tuning --results results/tuning --workers N --force; --report-only redraws the report; --queue redis://HOST:PORT makes each setting a job for queue workers, --attempts 3)',
  },
  reproduce: {
    run: reproduceCommand,
    help:
      'the whole protocol: pairs, every method x seed, evaluation, Tables 1-5, Figure 5 and the grids into results/<preset> (--preset quick|paper --out DIR --work runs/reproduce/<preset> --base DIR --judges DIR --workers N --force; --report-only redraws;\n' +
      '                 --queue redis://HOST:PORT: enqueue the units for queue workers and write their records as they land, --attempts 3 per unit)',
  },
  worker: {
    run: workerCommand,
    help: 'take reproduction units and tuning runs from a queue one at a time until Ctrl-C (--queue redis://[user:password@]HOST:PORT[/DB] (rediss:// for TLS; or SELFDPO_REDIS_PASSWORD, SELFDPO_REDIS_TLS=1, SELFDPO_REDIS_CA=FILE) --work runs/worker --workers N --base DIR --judges DIR --stalled-seconds 30 --backend NAME --data-root DIR --data-config FILE)',
  },
  queue: {
    run: queueCommand,
    help: 'what a queue holds: `queue status` (done, running, waiting, failed, time left) or `queue retry` (requeue the failed jobs) (--queue redis://HOST:PORT)',
  },
  pick: {
    run: pickCommand,
    help: 'build Emoji-Pick, the Pick-a-Pic v2 analog, into data/emoji-pick (resumable) and its card (--config FILE --train N --validation N --generators "weak=data/weak,base-S=data/base-s,base-L=data/base-l" --out DIR --judges DIR --workers N --force --data-root DIR --data-config FILE; --sampler --steps --guidance: how the generators\' strength is measured, default dpm++2m 10 steps)',
  },
  start: {
    run: startCommand,
    help: 'the main job: the quick reproduction on the default data, shipped base-S and judges, into runs/start (--force --preset quick|paper --workers N --backend NAME --data-root DIR --data-config FILE)',
  },
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const entry = command ? COMMANDS[command] : undefined;
  const usage = Object.entries(COMMANDS)
    .map(([name, c]) => `  selfdpo ${name.padEnd(10)} ${c.help}`)
    .join('\n');
  if (command === '--version' || command === '-V') {
    console.log(packageVersion());
    return;
  }
  if (!entry) {
    if (command === 'train') throw new UsageError('the command "train" is now "post-train" (the name of its npm script)');
    if (command && !['help', '--help', '-h'].includes(command)) throw new UsageError(`unknown command "${command}"\n${usage}`);
    console.log(`usage:\n${usage}`);
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage:\n  selfdpo ${command} ${entry.help}`);
    return;
  }
  await entry.run(rest);
}

/** "selfdpo-lab 0.1.0", from the package.json beside src/ and dist/. */
function packageVersion(): string {
  const pkg = readJsonFile(join(__dirname, '..', 'package.json'), 'package.json') as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`selfdpo: ${err instanceof Error ? err.message : String(err)}`);
  // 2 for a command line the program cannot read, 1 for everything that failed after.
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
