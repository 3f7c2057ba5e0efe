/**
 * How long one model's evaluation takes (the evaluation issue's goal: one model on curated-val,
 * 500 prompts, in at most 10 minutes here): `evaluate()` from scratch, with a fresh image cache,
 * timed as its two parts: drawing the images (the kit's default sampling unless --sampler,
 * --sample-steps, --guidance say otherwise, split over the threads) and scoring them with the judges
 * (Align, R@k over all concepts, Real, FID).
 *
 *   node --no-liftoff --import tsx bench/evaluate.ts [--model data/base-s] [--prompts curated-val]
 *        [--judges data/judges] [--workers N] [--out results/bench] [--force]
 *
 * Writes <out>/evaluate-<model folder name>.md and .json (earlier results are kept unless --force).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { initBackend } from '../src/backend.js';
import { openEmojiFromFlags } from '../src/commands/emojiFlags.js';
import { loadEvalContext } from '../src/eval/evalContext.js';
import { evaluate, promptImages } from '../src/eval/evaluate.js';
import { readPromptSet } from '../src/eval/promptSets.js';
import { EMOJI_FLAGS, generateOptions, JUDGES, SAMPLING_FLAGS, WORKERS } from '../src/commands/commonFlags.js';
import { samplingLabel } from '../src/model/generate.js';
import { loadModel } from '../src/model/modelFile.js';
import { defaultWorkerCount, startPool } from '../src/parallel/modelPool.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { reportDir, reportFlags } from './benchReport.js';
import { cpuModel, cpuSample, loadavg, otherCores } from './machineLoad.js';

/** The evaluation issue's budget for one model on curated-val. */
const GOAL_SECONDS = 600;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [
    { name: 'model', value: 'DIR', help: 'default: data/base-s' },
    { name: 'prompts', value: 'SET', help: 'a prompt set (default: curated-val)' },
    JUDGES,
    WORKERS,
    ...reportFlags('results/bench'),
    ...SAMPLING_FLAGS,
    ...EMOJI_FLAGS,
  ]);
  const modelDir = (args.flags['model'] as string | undefined) ?? join('data', 'base-s');
  const name = `evaluate-${basename(modelDir)}`;
  const out = reportDir(args, 'results/bench', [`${name}.md`, `${name}.json`]);
  const setName = (args.flags['prompts'] as string | undefined) ?? 'curated-val';
  const backend = await initBackend({ backend: 'wasm', quiet: true });
  const threads = numberFlag(args, 'workers', defaultWorkerCount(backend.tfBackend));
  const { model, schedule, file } = loadModel(modelDir);
  const data = await openEmojiFromFlags(args, model.config.resolution);
  const prompts = readPromptSet(setName);
  const sampling = generateOptions(args);
  const cacheDir = mkdtempSync(join(tmpdir(), 'selfdpo-eval-bench-'));
  const loadStart = loadavg();
  const before = cpuSample();
  const t0 = performance.now();
  // Judges and references load once per session in real use; timed apart from the model's share.
  const { context, hashes } = loadEvalContext(data, args.flags['judges'] as string);
  const t1 = performance.now();
  const pool = await startPool(model, schedule, threads);
  const info = { dir: modelDir, sha256: file.weightsManifest.sha256 };
  let result;
  let t2: number;
  try {
    await promptImages(model, schedule, info.sha256, setName, prompts, { sampling, cacheDir, pool, onProgress: (d, n) => d % 100 === 0 && process.stderr.write(`drew ${d}/${n}\n`) });
    t2 = performance.now();
    result = await evaluate(model, schedule, info, setName, prompts, context, hashes, { sampling, cacheDir, pool });
  } finally {
    await pool?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const t3 = performance.now();
  const others = otherCores(before, cpuSample());
  if (!result.cached) throw new Error('the scoring pass did not read the images just drawn from the cache');
  const seconds = { judges: (t1 - t0) / 1000, sampling: (t2 - t1) / 1000, scoring: (t3 - t2) / 1000 };
  const total = seconds.sampling + seconds.scoring;
  const command =
    process.env['npm_lifecycle_event'] === 'bench' ? 'npm run bench' : `node ${process.execArgv.join(' ')} ${relative(process.cwd(), process.argv[1] as string)} ${argv.join(' ')}`.trim();
  const record = {
    date: new Date().toISOString(),
    command,
    machine: { cpus: defaultWorkerCount('wasm'), model: cpuModel(), node: process.version, loadAtStart: loadStart, otherProcessesCores: others },
    backend: `tfjs ${backend.tfBackend} (${backend.detail})`,
    model: modelDir,
    modelSha256: info.sha256,
    promptSet: setName,
    prompts: prompts.length,
    sampling,
    threads,
    seconds,
    imagesPerSecond: prompts.length / seconds.sampling,
    wholeImagesPerSecond: prompts.length / total,
    scores: { align: result.align, r1: result.r1, r5: result.r5, real: result.real, fid: result.fid },
  };
  writeFileAtomic(join(out, `${name}.json`), `${JSON.stringify(record, null, 1)}\n`);
  const md = [
    '# Evaluation time',
    '',
    `Made by \`${command}\` on ${record.date}. Machine: ${record.machine.cpus} x ${record.machine.model}; Node ${record.machine.node}; ${record.backend} in each of ${threads} worker thread(s). Load average at the start: ${loadStart}; other processes used ${others === null ? 'an unknown share of' : others.toFixed(2)} cores meanwhile${others !== null && others > 0.2 ? ' (DISTURBED: the times are too long)' : ''}.`,
    '',
    `\`evaluate()\` of \`${modelDir}\` (sha256 ${info.sha256.slice(0, 12)}) on ${setName} (${prompts.length} prompts), from scratch with a fresh image cache: ${samplingLabel(sampling)}, one fixed seed per prompt.`,
    '',
    '| part | seconds |',
    '| --- | ---: |',
    `| drawing ${prompts.length} images (${record.imagesPerSecond.toFixed(2)} images/s) | ${seconds.sampling.toFixed(1)} |`,
    `| scoring them: Align, R@1/R@5 over all concepts, Real, FID | ${seconds.scoring.toFixed(1)} |`,
    `| **one model, in all** | **${total.toFixed(1)}** (${record.wholeImagesPerSecond.toFixed(2)} images/s from prompt to scores; ${(total / 60).toFixed(1)} min, goal at most ${GOAL_SECONDS / 60} min: ${total <= GOAL_SECONDS ? 'met' : 'NOT met'}) |`,
    `| loading the judges and the real reference images (once per session, shared by every model) | ${seconds.judges.toFixed(1)} |`,
    '',
    `Scores of this run (the same as \`npm run eval\` gives): Align ${result.align.toFixed(2)}, R@1 ${(100 * result.r1).toFixed(1)}%, R@5 ${(100 * result.r5).toFixed(1)}%, Real ${result.real.toFixed(1)}, FID ${result.fid.toFixed(3)}.`,
    '',
  ].join('\n');
  writeFileAtomic(join(out, `${name}.md`), md);
  console.log(md);
  model.params.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
