import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { evaluate, type EvalResult } from '../eval/evaluate.js';
import { loadEvalContext } from '../eval/evalContext.js';
import { writeEvalIndex } from '../eval/evalIndex.js';
import { readPromptSet } from '../eval/promptSets.js';
import { PROMPT_SETS } from '../data/evalPrompts.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { stringFlag, UsageError } from '../util/args.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { withRunLocks } from '../runs/runLock.js';
import { defineCommand } from './command.js';
import { BASE, EVALUATION_FLAGS, generateOptions, MODEL, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { modelDirFlag } from './modelFlag.js';
import { metricCells } from '../eval/metrics/metric.js';
import { metrics } from '../eval/metrics/registry.js';

/** A result as one markdown table row: | model | set | then every registered metric |. */
function resultRow(r: EvalResult): string {
  return `| ${[r.model, r.promptSet, ...metricCells(r, metrics())].join(' | ')} |`;
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'evaluate a model on a prompt set with the judges: Align, R@1, R@5, Real, FID',
  details: 'give one of --run, --model or --base. Writes the scores as JSON and prints one table row.',
  flags: [
    { name: 'run', value: 'DIR', help: 'a post-training or pretraining run folder (its model/)' },
    MODEL,
    { ...BASE, help: 'the same as --model' },
    { name: 'prompts', value: 'SET', default: 'curated-val', help: PROMPT_SETS.join('|') },
    { name: 'out', value: 'JSON', help: 'the scores (default: eval-<set>.json in the run or model folder)' },
    ...EVALUATION_FLAGS,
  ],
  async run(args, argv) {
    const run = stringFlag(args, 'run');
    const modelDir = modelDirFlag(args, run ? join(run, 'model') : undefined);
    if (!modelDir) throw new Error('give --run RUN_DIR, or --model (or --base) MODEL_DIR');
    const setName = stringFlag(args, 'prompts') as string;
    if (!(PROMPT_SETS as readonly string[]).includes(setName)) throw new UsageError(`--prompts: unknown prompt set "${setName}" (known: ${PROMPT_SETS.join(', ')})`);
    const out = stringFlag(args, 'out') ?? join(run ?? modelDir, `eval-${setName}.json`);
    // Held before any work: a run folder still training would be judged mid-change, and two
    // evaluations writing into one folder would race on its scores and its index.
    return withRunLocks([...(run ? [run] : []), dirname(out)], async () => {
      if (existsSync(out) && args.flags['force'] !== true) throw new Error(`${out} exists; pass --force to replace it`);
      const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
      const { model, schedule, file } = loadModel(modelDir);
      const data = await openEmojiFromFlags(args, model.config.resolution);
      const { context, hashes } = loadEvalContext(data, stringFlag(args, 'judges') as string);
      const pool = await startPool(model, schedule, workersFlag(args, backend.tfBackend));
      const started = Date.now();
      try {
        const result = await evaluate(model, schedule, { dir: modelDir, sha256: file.weightsManifest.sha256 }, setName, readPromptSet(setName), context, hashes, {
          sampling: generateOptions(args),
          cacheDir: stringFlag(args, 'cache') as string,
          pool,
          onProgress: (d, n) => {
            if (d % 50 === 0 || d === n) console.error(`${basename(modelDir)} on ${setName}: ${d}/${n} images`);
          },
        });
        writeFileAtomic(out, `${JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000, command: `npm run eval -- ${argv.join(' ')}` }, null, 1)}\n`);
        console.log(
          `| model | prompts | ${metrics()
            .map((m) => m.column)
            .join(' | ')} |\n| --- | --- | ${metrics()
            .map(() => '---:')
            .join(' | ')} |`,
        );
        console.log(resultRow(result));
        console.log(`wrote ${out} (${((Date.now() - started) / 1000).toFixed(0)} s${result.cached ? ', images from the cache' : ''})`);
        // A results folder named by --out gets a README indexing its evaluations (never a model card).
        if (args.flags['out'] !== undefined) {
          const dir = dirname(out);
          console.log(writeEvalIndex(dir) ? `updated ${join(dir, 'README.md')}` : `left ${join(dir, 'README.md')} alone: not an evaluation index`);
        }
      } finally {
        await pool?.stop();
        model.params.dispose();
      }
    });
  },
});
