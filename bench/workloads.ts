/**
 * The workloads the benches time, shared by trainStep.ts and ceiling.ts: a model's SFT and
 * Self-DPO steps and DDIM sampling through the kit's own data-parallel paths (src/parallel),
 * and the random inputs they run on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model/modelFile.js';
import { BASE_L_OVERRIDE, BASE_S, resolvePretrainConfig } from '../src/train/pretrainConfig.js';
import type { NoiseSchedule } from '../src/diffusion/schedule.js';
import type { Params } from '../src/model/params.js';
import { TextToImageModel } from '../src/model/textToImage.js';
import { ModelPool, splitEvenly } from '../src/parallel/modelPool.js';
import { SAMPLE_CHUNK, sampleBytes } from '../src/parallel/sampleBytes.js';
import type { DenoisingJob, PairJob } from '../src/parallel/protocol.js';
import { Rng } from '../src/util/rng.js';
import type { WorkersPeakRss, WorkersRun } from './benchReport.js';

/** Diffusion-DPO's beta·T scale; any value gives the same work. */
export const DPO_BETA = 2500;

export const LR = 1e-4;

export const CLIP = BASE_S.train.clipNorm;

/** AdamW's settings in every trainer's defaults. */
export const BENCH_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

export interface Shapes {
  sftBatch: number;
  dpoPairs: number;
  sampleBatch: number;
  sampleSteps: number;
  /** DDIM steps actually run; the time is scaled to sampleSteps (each step costs the same). */
  sampleStepsTimed: number;
  guidance: number;
}

export interface Reps {
  /** Untimed steps before timing (at the same shapes, or `warmBatch` when set). */
  warm: number;
  /** Warm up at this smaller batch / pair count instead (the cpu backend, where a full step takes minutes). */
  warmBatch?: number;
  sft: number;
  dpo: number;
  sample: number;
}

export const FULL: Shapes = { sftBatch: 16, dpoPairs: 16, sampleBatch: 2 * SAMPLE_CHUNK, sampleSteps: 25, sampleStepsTimed: 25, guidance: 3 };

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * The model a bench times for `base`: its shipped checkpoint when there is one, else a fresh
 * model of its preset with base-S's tokenizer (the same shapes and FLOPs as a trained one).
 */
export function benchModel(base: 'base-s' | 'base-l'): { model: TextToImageModel; source: string } {
  const shipped = join('data', base);
  if (existsSync(join(shipped, 'model.json'))) return { model: loadModel(shipped).model, source: `checkpoint ${shipped}` };
  const config = base === 'base-s' ? BASE_S : resolvePretrainConfig(BASE_L_OVERRIDE);
  return { model: TextToImageModel.create(config.model, loadModel(join('data', 'base-s')).model.tokenizer, 0), source: `fresh model of the ${base} preset` };
}

/** n captions of 3..8 words of the model's vocabulary. */
export function captions(model: TextToImageModel, n: number, rng: Rng): string[] {
  const vocab = model.tokenizer.spec.vocab;
  return Array.from({ length: n }, () => Array.from({ length: 3 + rng.int(6) }, () => vocab[2 + rng.int(vocab.length - 2)] as string).join(' '));
}

/**
 * A Self-DPO job of P pairs as the trainers send it (the Eq. 9 loss, one micro-batch): random
 * winners, random-image losers (the other winners, rotated by one: a derangement), noise,
 * timesteps and captions, weighted 1/P.
 */
export function selfDpoPairJob(model: TextToImageModel, P: number, rng: Rng): PairJob {
  const per = model.config.resolution ** 2 * 3;
  const winners = Float32Array.from({ length: P * per }, () => 2 * rng.next() - 1);
  const losers = new Float32Array(winners.length);
  losers.set(winners.subarray(per), 0);
  losers.set(winners.subarray(0, per), (P - 1) * per);
  return {
    kind: 'pairs',
    winners,
    losers,
    eps: Float32Array.from({ length: P * per }, () => rng.normal()),
    t: Array.from({ length: P }, () => rng.int(1000)),
    captions: captions(model, P, rng),
    weight: 1 / P,
    microBatch: P,
    loss: { kind: 'selfDpo', beta: 2 * DPO_BETA, lambda1: 0.5, lambda2: 0.5 },
  };
}

/** A pretraining-style job: B images, their noise, timesteps and captions, weighted 1/B (the batch mean). */
export function sftJob(model: TextToImageModel, B: number, rng: Rng): DenoisingJob {
  const n = B * model.config.resolution ** 2 * 3;
  return {
    kind: 'denoising',
    x0: Float32Array.from({ length: n }, () => 2 * rng.next() - 1),
    eps: Float32Array.from({ length: n }, () => rng.normal()),
    t: Array.from({ length: B }, () => rng.int(1000)),
    captions: captions(model, B, rng),
    weight: 1 / B,
    microBatch: Math.min(B, BASE_S.train.microBatch),
  };
}

/** Split a flat per-example array into `shares` of `per` values per example. */
export function shareOf(a: Float32Array, [s, e]: [number, number], per: number): Float32Array {
  return a.slice(s * per, e * per);
}

/**
 * The three workloads through src/parallel (ModelPool) with `threads` threads, as the trainers
 * and samplers run them: SFT and Self-DPO (pairGradients, the Eq. 9 loss with a random-image
 * loser) steps with clip + AdamW (ModelPool.trainStep, the optimizer spread over the threads
 * too), and DDIM sampling with the prompts split over the threads. threads = 1 is a pool
 * without workers.
 */
export async function measureWorkers(
  model: TextToImageModel,
  schedule: NoiseSchedule,
  shapes: Shapes,
  reps: Reps,
  threads: number,
  seed: number,
  shareOfThreads?: number,
): Promise<Pick<WorkersRun, 'timings' | 'dpoShare'> & { peakRssMiB: WorkersPeakRss }> {
  const rng = new Rng(seed);
  const R = model.config.resolution;
  const per = R * R * 3;
  // The trainers' step: gradients over the threads, then clipping and AdamW spread over them too (ModelPool.trainStep).
  const hyper = { lr: LR, clipNorm: CLIP };
  const step = async (pool: ModelPool, jobs: Array<DenoisingJob | PairJob>, reference?: Params): Promise<void> => {
    await pool.trainStep(model, schedule, jobs, reference, hyper);
  };
  const timeAsync = async (label: string, n: number, fn: () => Promise<void>): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
      log(`  ${threads} thread(s) ${label} ${i + 1}/${n}: ${ms[i]?.toFixed(0)} ms`);
    }
    return ms;
  };

  // SFT over text encoder + UNet.
  const all = model.params.names;
  let pool = await ModelPool.start(model, schedule, all, threads, 'wasm', undefined, { kind: 'shared-adamw', adam: BENCH_ADAM, ema: false });
  const job = sftJob(model, shapes.sftBatch, rng);
  const sftJobs = splitEvenly(shapes.sftBatch, threads).map((share): DenoisingJob => ({
    ...job,
    x0: shareOf(job.x0, share, per),
    eps: shareOf(job.eps, share, per),
    t: job.t.slice(...share),
    captions: job.captions.slice(...share),
  }));
  for (let i = 0; i < reps.warm; i++) await step(pool, sftJobs);
  const sft = await timeAsync(`SFT B=${shapes.sftBatch}`, reps.sft, () => step(pool, sftJobs));
  const peakRss = (): number => process.resourceUsage().maxRSS / 1024;
  const peakAfterSft = peakRss();

  // Sampling with the prompts split over the threads.
  const caps = captions(model, shapes.sampleBatch, rng);
  const seeds = caps.map((_, i) => i);
  const options = { steps: shapes.sampleStepsTimed, guidance: shapes.guidance };
  const sampleOnce = async (): Promise<void> => {
    if (threads > 1) await pool.sample(model, schedule, caps, seeds, options, SAMPLE_CHUNK);
    else await sampleBytes(model, schedule, { kind: 'sample', captions: caps, seeds, options, chunk: SAMPLE_CHUNK });
  };
  if (reps.warm > 0) await sampleOnce();
  const smp = await timeAsync(`DDIM B=${shapes.sampleBatch}`, reps.sample, sampleOnce);
  const peakAfterSample = peakRss();
  await pool.stop();

  // Self-DPO over the UNet, the text encoder frozen, against a frozen reference.
  const unet = all.filter((n) => n.startsWith('unet/'));
  const reference = model.params.clone(false);
  pool = await ModelPool.start(model, schedule, unet, threads, 'wasm', reference, { kind: 'shared-adamw', adam: BENCH_ADAM, ema: false });
  const P = shapes.dpoPairs;
  const pair = selfDpoPairJob(model, P, rng);
  const { winners, losers } = pair;
  const pairJobs = splitEvenly(P, threads).map((share): PairJob => ({
    ...pair,
    winners: shareOf(winners, share, per),
    losers: shareOf(losers, share, per),
    eps: shareOf(pair.eps, share, per),
    t: pair.t.slice(...share),
    captions: pair.captions.slice(...share),
  }));
  for (let i = 0; i < reps.warm; i++) await step(pool, pairJobs, reference);
  const dpo = await timeAsync(`Self-DPO ${P} pairs`, reps.dpo, () => step(pool, pairJobs, reference));
  const peakRssMiB = { sft: peakAfterSft, sample: peakAfterSample, dpo: peakRss() };
  // One thread's share of an N-thread step, alone (see WorkersRun.dpoShare).
  let dpoShare: WorkersRun['dpoShare'];
  if (shareOfThreads !== undefined && threads === 1) {
    const [a, b] = splitEvenly(P, shareOfThreads)[0] as [number, number];
    const job: PairJob = {
      ...pair,
      winners: shareOf(winners, [a, b], per),
      losers: shareOf(losers, [a, b], per),
      eps: shareOf(pair.eps, [a, b], per),
      t: pair.t.slice(a, b),
      captions: pair.captions.slice(a, b),
    };
    await step(pool, [job], reference);
    dpoShare = { pairs: b - a, ms: await timeAsync(`Self-DPO share ${b - a} pairs`, reps.dpo, () => step(pool, [job], reference)) };
  }
  await pool.stop();
  reference.dispose();
  const k = shapes.sampleStepsTimed;
  return {
    timings: {
      sft: { batch: shapes.sftBatch, ms: sft },
      dpo: { pairs: P, ms: dpo },
      sample: { batch: shapes.sampleBatch, steps: shapes.sampleSteps, stepsTimed: k, guidance: shapes.guidance, ms: smp.map((m) => (m * shapes.sampleSteps) / k) },
    },
    ...(dpoShare ? { dpoShare } : {}),
    peakRssMiB,
  };
}
