/**
 * How few steps of DPM-Solver++(2M) match DDIM-25: one model's evaluation on a prompt set with
 * DDIM at 25 steps (the reference), DDIM at 10 (a control: what cutting DDIM's steps costs) and
 * DPM-Solver++(2M) at several step counts, every image from its prompt's fixed seed (the same
 * starting noise for every sampler), drawn from scratch and timed. Align, R@5 and Real get 95%
 * bootstrap intervals over prompts, FID one over the generated images (the real reference
 * held fixed). A setting matches when its FID, Align and R@5 fall inside DDIM-25's intervals.
 *
 *   node --no-liftoff --import tsx bench/samplerSteps.ts [--model data/base-s] [--prompts curated-val]
 *        [--sample-steps 5,8,10,15,20] [--workers N] [--out results/bench] [--force]
 *
 * Writes <out>/sampler-steps-<model name>.md and .json (earlier results kept unless --force).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { initBackend } from '../src/backend.js';
import { openEmojiFromFlags } from '../src/commands/emojiFlags.js';
import { loadEvalContext } from '../src/eval/evalContext.js';
import { evaluate, promptImages, type EvalResult } from '../src/eval/evaluate.js';
import { frechetDistance } from '../src/eval/frechetDistance.js';
import { embedImages } from '../src/eval/judgeMetrics.js';
import { readPromptSet } from '../src/eval/promptSets.js';
import { bootstrapMean, type Interval } from '../src/eval/winRate.js';
import type { GenerateOptions } from '../src/model/generate.js';
import { loadModel } from '../src/model/modelFile.js';
import { defaultWorkerCount, startPool } from '../src/parallel/modelPool.js';
import { numberFlag, parseArgs } from '../src/util/args.js';
import { EMOJI_FLAGS, JUDGES, WORKERS } from '../src/commands/commonFlags.js';
import { writeFileAtomic } from '../src/util/atomicWrite.js';
import { Rng } from '../src/util/rng.js';
import { reportDir, reportFlags } from './benchReport.js';
import { cpuModel, cpuSample, otherCores } from './machineLoad.js';

const GUIDANCE = 3;
const RESAMPLES = 1000;

interface SettingResult {
  sampling: Omit<GenerateOptions, 'onStep'>;
  seconds: number;
  imagesPerSecond: number;
  /** Mean |difference| from DDIM-25's image of the same prompt and seed, in byte levels of 255. */
  pixelChange: number;
  align: Interval;
  r5: Interval;
  real: Interval;
  fid: Interval;
  /** Inside DDIM-25's interval on FID, Align and R@5 (the reference matches itself). */
  matches: { fid: boolean; align: boolean; r5: boolean };
}

/** Percentile bootstrap 95% interval of FID, resampling the generated images (the real reference fixed). */
function fidInterval(generated: Float32Array, reference: Float32Array, embed: number, seed: number): Interval {
  const n = generated.length / embed;
  const rng = new Rng(seed);
  const values: number[] = [];
  const sample = new Float32Array(generated.length);
  for (let r = 0; r < RESAMPLES / 5; r++) {
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      sample.set(generated.subarray(j * embed, (j + 1) * embed), i * embed);
    }
    values.push(frechetDistance(reference, sample, embed));
  }
  values.sort((a, b) => a - b);
  const estimate = frechetDistance(reference, generated, embed);
  const bias = values.reduce((a, b) => a + b, 0) / values.length - estimate;
  const q = (p: number): number => (values[Math.min(values.length - 1, Math.floor(p * values.length))] as number) - bias;
  return { mean: estimate, low: q(0.025), high: q(0.975) };
}

function meanAbsDifference(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  let sum = 0;
  let n = 0;
  a.forEach((img, k) => {
    const other = b[k] as Uint8Array;
    for (let i = 0; i < img.length; i++) sum += Math.abs((img[i] as number) - (other[i] as number));
    n += img.length;
  });
  return sum / n;
}

const inside = (x: number, i: Interval): boolean => x >= i.low && x <= i.high;

function cell(i: Interval, digits: number): string {
  return `${i.mean.toFixed(digits)} [${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}]`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, [
    { name: 'model', value: 'DIR', help: 'default: data/base-s' },
    { name: 'prompts', value: 'SET', help: 'a prompt set (default: curated-val)' },
    { name: 'sample-steps', value: 'N,M', default: '5,8,10,15,20', help: "DPM-Solver++'s step counts to measure against DDIM-25" },
    WORKERS,
    ...reportFlags('results/bench'),
    JUDGES,
    ...EMOJI_FLAGS,
  ]);
  const modelDir = (args.flags['model'] as string | undefined) ?? join('data', 'base-s');
  const setName = (args.flags['prompts'] as string | undefined) ?? 'curated-val';
  const name = `sampler-steps-${basename(modelDir)}`;
  const file = join(reportDir(args, 'results/bench', [`${name}.md`, `${name}.json`]), name);
  const steps = (args.flags['sample-steps'] as string).split(',').map((s) => {
    const n = Number(s);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) throw new Error(`--sample-steps: expected integers in [1, 1000] separated by commas, got "${s}"`);
    return n;
  });
  const settings: Array<Omit<GenerateOptions, 'onStep'>> = [
    { sampler: 'ddim', steps: 25, guidance: GUIDANCE },
    { sampler: 'ddim', steps: 10, guidance: GUIDANCE },
    ...steps.map((s) => ({ sampler: 'dpm++2m' as const, steps: s, guidance: GUIDANCE })),
  ];

  const backend = await initBackend({ backend: 'wasm', quiet: true });
  const threads = numberFlag(args, 'workers', defaultWorkerCount(backend.tfBackend));
  const { model, schedule, file: modelFile } = loadModel(modelDir);
  const data = await openEmojiFromFlags(args, model.config.resolution);
  const prompts = readPromptSet(setName);
  const { context, hashes } = loadEvalContext(data, args.flags['judges'] as string);
  const embed = context.contrastive.config.embed;
  const reference = embedImages(
    context.contrastive,
    [...new Set(prompts.map((p) => p.concept))].flatMap((c) => [...context.realImages(c)]),
  );
  const info = { dir: modelDir, sha256: modelFile.weightsManifest.sha256 };
  const cacheDir = mkdtempSync(join(tmpdir(), 'selfdpo-sampler-bench-'));
  const pool = await startPool(model, schedule, threads);
  const probe = cpuSample();
  const results: SettingResult[] = [];
  let ddim25: SettingResult | undefined;
  let ddim25Images: Uint8Array[] | undefined;
  try {
    for (const sampling of settings) {
      const t0 = performance.now();
      const { images } = await promptImages(model, schedule, info.sha256, setName, prompts, { sampling, cacheDir, pool });
      const seconds = (performance.now() - t0) / 1000;
      const r: EvalResult = await evaluate(model, schedule, info, setName, prompts, context, hashes, { sampling, cacheDir, pool });
      ddim25Images ??= images;
      const row: Omit<SettingResult, 'matches'> = {
        sampling,
        seconds,
        pixelChange: meanAbsDifference(images, ddim25Images),
        imagesPerSecond: prompts.length / seconds,
        align: bootstrapMean(
          r.perPrompt.map((p) => p.align),
          RESAMPLES,
          1,
        ),
        r5: bootstrapMean(
          r.perPrompt.map((p) => (p.rank <= 5 ? 100 : 0)),
          RESAMPLES,
          2,
        ),
        real: bootstrapMean(
          r.perPrompt.map((p) => p.real),
          RESAMPLES,
          3,
        ),
        fid: fidInterval(embedImages(context.contrastive, images), reference, embed, 4),
      };
      const ref = ddim25 ?? { ...row, matches: { fid: true, align: true, r5: true } };
      const result: SettingResult = { ...row, matches: { fid: inside(row.fid.mean, ref.fid), align: inside(row.align.mean, ref.align), r5: inside(row.r5.mean, ref.r5) } };
      ddim25 ??= result;
      results.push(result);
      console.error(
        `${sampling.sampler} ${sampling.steps}: ${result.imagesPerSecond.toFixed(2)} images/s, pixel change ${result.pixelChange.toFixed(2)}, Align ${cell(result.align, 2)}, R@5 ${cell(result.r5, 1)}, FID ${cell(result.fid, 4)}`,
      );
    }
  } finally {
    await pool?.stop();
    model.params.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const others = otherCores(probe, cpuSample());
  const base = results[0] as SettingResult;
  const fewest = results.filter((r) => r.sampling.sampler === 'dpm++2m' && r.matches.fid && r.matches.align && r.matches.r5).sort((a, b) => (a.sampling.steps ?? 0) - (b.sampling.steps ?? 0))[0];
  const command = `node --no-liftoff --import tsx ${relative(process.cwd(), __filename)} ${argv.join(' ')}`.trim();
  const md = [
    `# Sampler steps: DPM-Solver++(2M) against DDIM-25, ${modelDir} on ${setName}`,
    '',
    `Made by \`${command}\` on ${new Date().toISOString()} (${cpuModel()}, ${threads} thread(s); other processes used ${others === null ? '?' : others.toFixed(1)} cores meanwhile, so images/s are comparable within this table only).`,
    '',
    `${prompts.length} prompts, one image each from its prompt's fixed seed (the same starting noise for every sampler), guidance ${GUIDANCE}; judges \`${hashes.contrastive.slice(0, 12)}\` and \`${hashes.realism.slice(0, 12)}\`. Intervals: 95% percentile bootstrap over prompts (${RESAMPLES} resamples; FID ${RESAMPLES / 5}, resampling the generated images against the fixed real reference, shifted by the resampling's bias). Pixel change: the mean |difference| from DDIM-25's image of the same prompt and seed, in byte levels of 255: how far a setting lands from the reference's images, which the judges' scores alone do not show. "within" marks FID, Align and R@5 inside DDIM-25's interval.`,
    '',
    '| sampler | steps | images/s | speed-up | pixel change from DDIM-25 | Align | R@5 % | Real | FID | within DDIM-25 (FID, Align, R@5) |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.sampling.sampler} | ${r.sampling.steps} | ${r.imagesPerSecond.toFixed(2)} | ${(r.imagesPerSecond / base.imagesPerSecond).toFixed(2)}x | ${r.pixelChange.toFixed(2)} | ${cell(r.align, 2)} | ${cell(r.r5, 1)} | ${cell(r.real, 1)} | ${cell(r.fid, 4)} | ${[r.matches.fid, r.matches.align, r.matches.r5].map((m) => (m ? 'yes' : 'no')).join(', ')} |`,
    ),
    '',
    fewest
      ? `Fewest DPM-Solver++(2M) steps within DDIM-25's intervals on all three: **${fewest.sampling.steps}**, at ${(fewest.imagesPerSecond / base.imagesPerSecond).toFixed(2)}x DDIM-25's images/s.`
      : 'No DPM-Solver++(2M) setting here falls within all three of DDIM-25 intervals.',
    '',
  ].join('\n');
  writeFileAtomic(`${file}.md`, md);
  writeFileAtomic(`${file}.json`, `${JSON.stringify({ command, model: modelDir, modelSha256: info.sha256, promptSet: setName, threads, results }, null, 1)}\n`);
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
