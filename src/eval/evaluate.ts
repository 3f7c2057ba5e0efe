import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateOptions } from '../model/generate.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { TextToImageModel } from '../model/textToImage.js';
import type { ModelPool } from '../parallel/modelPool.js';
import { SAMPLE_CHUNK, sampleBytes } from '../parallel/sampleBytes.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { deriveSeed } from '../util/rng.js';
import { sha256 } from '../util/sha256.js';
import type { ContrastiveJudge } from './contrastiveJudge.js';
import type { Prompt } from '../data/evalPrompts.js';
import { frechetDistance } from './frechetDistance.js';
import { alignScores, conceptRanks, embedImages, embedTexts, realismInputs, realScores, recallAt } from './judgeMetrics.js';
import type { RealismJudge } from './realismJudge.js';
import type { Metric } from './metrics/metric.js';
import { metrics } from './metrics/registry.js';

/** The seed every model draws prompt `id` from: the same for all models, so scores pair up per prompt. */
export const EVAL_SEED = 1128;

/**
 * The sample seed of prompt `id`'s `draw`-th image: the same for every model, so scores pair up
 * per (prompt, draw). Draw 0 is the one seed per prompt that every evaluation before several
 * draws used, so its images (and their cache) stay what they were.
 */
export function promptSeed(id: string, draw = 0): number {
  return draw === 0 ? deriveSeed(EVAL_SEED, 'prompt', id) : deriveSeed(EVAL_SEED, 'prompt', id, 'draw', draw);
}

/** What a model is scored against: the frozen judges and the references they need. */
export interface EvalContext {
  contrastive: ContrastiveJudge;
  realism: RealismJudge;
  /** One caption per concept, every concept the judge ranks among (R@k is "retrieved among all concepts"). */
  conceptKeys: readonly string[];
  conceptCaptions: readonly string[];
  /** Real generator-style images by concept, FID's reference for the prompts' concepts. */
  realImages: (concept: string) => readonly Uint8Array[];
}

export interface EvalOptions {
  sampling: Omit<GenerateOptions, 'onStep'>;
  /** Generated images are cached here per (model hash, prompt set, sampling, draw), so rescoring is cheap. */
  cacheDir: string;
  /**
   * Images per prompt, each from its own sample seed (`promptSeed(id, draw)`); default 1. More
   * draws average out the sampler's noise within a prompt, which paired tests over prompts
   * would otherwise count as the prompts' spread.
   */
  draws?: number;
  pool?: ModelPool;
  onProgress?: (done: number, total: number) => void;
}

/** One prompt's scores. */
export interface PromptScore {
  id: string;
  concept: string;
  seed: number;
  /** Which of the prompt's draws (its `draw`-th sample seed); absent for draw 0, as in evaluations made before several draws. */
  draw?: number;
  /** 100·cosine(image, prompt) under the evaluation judge. */
  align: number;
  /** Rank of the prompt's concept among all concepts for the image (1 = retrieved first). */
  rank: number;
  /** 100·P(real) under the realism judge. */
  real: number;
  /** Scores of registered metrics that compute their own (`Metric.score`), by metric name. */
  extra?: Record<string, number>;
}

export interface EvalResult {
  model: string;
  modelSha256: string;
  promptSet: string;
  prompts: number;
  /** Images per prompt (absent: 1, as every evaluation before several draws); `perPrompt` holds prompts x draws entries, draw-major. */
  draws?: number;
  /** How many concepts R@k ranks each image's concept among. */
  concepts: number;
  sampling: Omit<GenerateOptions, 'onStep'>;
  judges: { contrastive: string; realism: string };
  align: number;
  r1: number;
  r5: number;
  real: number;
  fid: number;
  /** Means of the registered metrics that compute their own scores, by name. */
  extra?: Record<string, number>;
  /** Whether the images came from the cache. */
  cached: boolean;
  perPrompt: PromptScore[];
}

/**
 * The images of `prompts` from `model`, each from its prompt's fixed seed for draw `draw`: read
 * from the cache when this model (by weights hash), prompt set, sampling and draw were drawn
 * before. Draw 0's cache file keeps the name it had before draws existed.
 */
export async function promptImages(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  modelSha256: string,
  setName: string,
  prompts: readonly Prompt[],
  opts: EvalOptions,
  draw = 0,
): Promise<{ images: Uint8Array[]; cached: boolean }> {
  const keyOf = { set: setName, ids: prompts.map((p) => [p.id, p.prompt]), sampling: opts.sampling, seed: EVAL_SEED, ...(draw > 0 ? { draw } : {}) };
  const key = sha256(JSON.stringify(keyOf)).slice(0, 16);
  const dir = join(opts.cacheDir, modelSha256.slice(0, 16));
  const file = join(dir, `${setName}-${key}.rgb`);
  const R = model.config.resolution;
  const per = R * R * 3;
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    if (bytes.length === prompts.length * per) return { images: prompts.map((_, i) => new Uint8Array(bytes.buffer, bytes.byteOffset + i * per, per)), cached: true };
  }
  const captions = prompts.map((p) => p.prompt);
  const seeds = prompts.map((p) => promptSeed(p.id, draw));
  const images = opts.pool
    ? await opts.pool.sample(model, schedule, captions, seeds, opts.sampling, SAMPLE_CHUNK, opts.onProgress)
    : await sampleBytes(model, schedule, { kind: 'sample', captions, seeds, options: opts.sampling, chunk: SAMPLE_CHUNK }, (d) => opts.onProgress?.(d, captions.length));
  mkdirSync(dir, { recursive: true });
  const all = new Uint8Array(prompts.length * per);
  images.forEach((img, i) => all.set(img, i * per));
  writeFileAtomic(file, all);
  return { images, cached: false };
}

/**
 * Evaluate a model on a prompt set (docs/PROTOCOL.md "What the kit reports"): DDIM with guidance
 * from fixed per-prompt seeds, then Align, R@1 and R@5 among all concepts, Real, and FID in
 * the evaluation judge's embedding against real images of the prompts' concepts.
 */
export async function evaluate(...args: Parameters<typeof evaluateWithImages>): Promise<EvalResult> {
  return (await evaluateWithImages(...args)).result;
}

/** `evaluate`, also giving the images it scored (paired comparisons with the base need them). */
export async function evaluateWithImages(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  modelInfo: { dir: string; sha256: string },
  setName: string,
  single: readonly Prompt[],
  context: EvalContext,
  judgeHashes: { contrastive: string; realism: string },
  opts: EvalOptions,
): Promise<{ result: EvalResult; images: Uint8Array[] }> {
  if (single.length === 0) throw new Error(`evaluate: prompt set ${setName} is empty`);
  const draws = opts.draws ?? 1;
  if (!(Number.isInteger(draws) && draws >= 1)) throw new Error(`evaluate: draws must be a whole number of at least 1, got ${draws}`);
  // Every prompt once per draw, draw-major: each draw is one cache file, and draw 0 alone is an evaluation as it was before draws.
  const drawn: Array<{ images: Uint8Array[]; cached: boolean }> = [];
  for (let d = 0; d < draws; d++) drawn.push(await promptImages(model, schedule, modelInfo.sha256, setName, single, opts, d));
  const images = drawn.flatMap((x) => x.images);
  const cached = drawn.every((x) => x.cached);
  // The prompt of each image.
  const prompts = Array.from({ length: draws }, () => single).flat();
  const judge = context.contrastive;
  const E = judge.config.embed;
  const imageEmb = embedImages(judge, images);
  const align = alignScores(
    imageEmb,
    embedTexts(
      judge,
      prompts.map((p) => p.prompt),
    ),
    E,
  );
  const conceptIndex = new Map(context.conceptKeys.map((k, i) => [k, i]));
  const own = prompts.map((p) => {
    const i = conceptIndex.get(p.concept);
    if (i === undefined) throw new Error(`evaluate: concept '${p.concept}' of ${p.id} is not among the judge's concepts`);
    return i;
  });
  const ranks = conceptRanks(imageEmb, embedTexts(judge, context.conceptCaptions), own, E);
  const real = realScores(context.realism, await realismInputs(context.realism, images)).map((p) => 100 * p);
  const reference = [...new Set(prompts.map((p) => p.concept))].flatMap((c) => [...context.realImages(c)]);
  const fid = frechetDistance(embedImages(judge, reference), imageEmb, E);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Metrics beyond the built-in scores compute their own, per prompt (registered in eval/metrics).
  const ownScorers = metrics().filter((m) => m.score);
  const extra = ownScorers.map((m) => {
    const scores = (m.score as NonNullable<Metric['score']>)({ images, prompts, context, imageEmbeddings: imageEmb });
    if (scores.length !== prompts.length) throw new Error(`metric ${m.name}: ${scores.length} scores for ${prompts.length} prompts`);
    return scores;
  });
  const extras = (i: number): { extra?: Record<string, number> } => (ownScorers.length > 0 ? { extra: Object.fromEntries(ownScorers.map((m, k) => [m.name, extra[k]?.[i] as number])) } : {});
  const result: EvalResult = {
    model: modelInfo.dir,
    modelSha256: modelInfo.sha256,
    promptSet: setName,
    prompts: single.length,
    ...(draws > 1 ? { draws } : {}),
    concepts: context.conceptKeys.length,
    sampling: opts.sampling,
    judges: judgeHashes,
    align: mean(align),
    r1: recallAt(ranks, 1),
    r5: recallAt(ranks, 5),
    real: mean(real),
    fid,
    ...(ownScorers.length > 0 ? { extra: Object.fromEntries(ownScorers.map((m, k) => [m.name, mean(extra[k] as number[])])) } : {}),
    cached,
    perPrompt: prompts.map((p, i) => {
      const draw = Math.floor(i / single.length);
      return { id: p.id, concept: p.concept, seed: promptSeed(p.id, draw), ...(draw > 0 ? { draw } : {}), align: align[i] as number, rank: ranks[i] as number, real: real[i] as number, ...extras(i) };
    }),
  };
  return { result, images };
}
