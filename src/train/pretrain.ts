import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '../backend.js';
import { BatchLoader, type BatchData } from '../data/batchLoader.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { makeSchedule, type NoiseSchedule } from '../diffusion/schedule.js';
import { loadModel, saveModel } from '../model/modelFile.js';
import type { Params } from '../model/params.js';
import { TextToImageModel } from '../model/textToImage.js';
import { ModelPool, splitEvenly } from '../parallel/modelPool.js';
import type { DenoisingJob } from '../parallel/protocol.js';
import { Tokenizer } from '../text/tokenizer.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { predictionErrorWeights } from '../objective/predictionError.js';
import { heldoutLossByQuartile, makeProbe, type HeldoutProbe } from './heldoutLoss.js';
import { warmupStableDecay } from '../optim/lrSchedule.js';
import { resolvePretrainConfig, type PretrainConfig } from './pretrainConfig.js';
import { Progress } from '../runs/progress.js';
import { loadTrainState, saveTrainState, savedStep } from '../optim/trainState.js';
import { withRunLock } from '../runs/runLock.js';
import { invocation, openRunFolder, resumeLogs, writeRunConfig } from '../runs/runFolder.js';
import { captureLineage, writeLineage } from './lineage.js';

export interface PretrainData {
  /** What the model trains on. */
  train: ImageTextSet;
  /** Texts the vocabulary is built from (every caption word the training data can produce). */
  vocabularyTexts: readonly string[];
  /** Fixed probes for the held-out denoising loss, by name (e.g. unseen concepts, clean captions). */
  heldout: Record<string, ImageTextSet>;
  /** Where the data came from, recorded in config.json. */
  source: Record<string, unknown>;
}

export interface PretrainOptions {
  /** Start over even if `runDir` holds a run (deletes it). */
  force?: boolean;
  /** The exact command, recorded beside the run. */
  command?: string;
  /**
   * A model directory to start from when `runDir` has no saved state (a shipped checkpoint
   * of this run whose full state was lost): weights, EMA and step from it, AdamW restarted.
   */
  initFrom?: string;
  /** Stop after this many steps of this process without a final checkpoint (tests simulate a kill with it). */
  stopAfter?: number;
  quiet?: boolean;
  /**
   * Threads computing each step's gradients (data parallel, see ModelPool). The update
   * equals the single-thread one up to float rounding, so a resumed run should keep the
   * count to reproduce its metrics exactly. Default 1.
   */
  workers?: number;
  /** Called after every step with its metrics record (notebooks plot from it; tests watch memory). */
  onStep?: (record: PretrainStepRecord) => void;
}

/** One line of metrics.jsonl. */
export interface PretrainStepRecord {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  sec: number;
  imagesPerSec: number;
}

export interface PretrainResult {
  runDir: string;
  /** Step reached. */
  step: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
}

/**
 * A resumed run may change its length and cooldown only while the LR has not started to fall:
 * rerunning a run that is in its cooldown with other settings (the bare command, say) would
 * jump its LR back up, or down, from annealed weights.
 */
function checkCooldown(configPath: string, step: number, t: PretrainConfig['train'], saved: PretrainConfig['train'] | undefined): void {
  if (step === 0 || !saved) return;
  const same = t.steps === saved.steps && t.cooldownSteps === saved.cooldownSteps;
  const inCooldown = (c: { steps: number; cooldownSteps: number }): boolean => c.cooldownSteps > 0 && step > c.steps - c.cooldownSteps;
  if (same) return;
  if (inCooldown(saved)) {
    throw new Error(
      `${configPath}: the run is in its cooldown at step ${step} (${saved.steps} steps, the last ${saved.cooldownSteps} with a falling LR); resume it with --steps ${saved.steps} --cooldown ${saved.cooldownSteps}, or pass --force to start over`,
    );
  }
  if (inCooldown(t)) {
    throw new Error(
      `${configPath}: a cooldown of ${t.cooldownSteps} steps ending at step ${t.steps} would start at step ${t.steps - t.cooldownSteps}, before step ${step} where the run resumes; choose --steps and --cooldown with steps - cooldown >= ${step}`,
    );
  }
}

/**
 * The config without train.steps and train.cooldownSteps: a resumed run must match it exactly,
 * but may train longer or end with a cooldown.
 */
function resumeKey(config: PretrainConfig): string {
  // Resolved again: a run saved before a config key existed resumes under that key's default.
  const c = resolvePretrainConfig(config, 'config.json');
  return JSON.stringify({ ...c, train: { ...c.train, steps: undefined, cooldownSteps: undefined } });
}

/**
 * Pretrain a text-to-image model (text encoder and UNet together) with the epsilon-prediction
 * loss. The run lives in `runDir`: config.json, metrics.jsonl (one line per step), heldout.jsonl,
 * state/ (resumable: weights, EMA, AdamW moments, step) and model/ (the EMA model to ship).
 * Re-running with the same config resumes from state/ and reproduces the uninterrupted run's
 * metrics exactly: batches, timesteps, dropout and noise all derive from (seed, step).
 */
export function pretrain(config: PretrainConfig, data: PretrainData, runDir: string, opts: PretrainOptions = {}): Promise<PretrainResult> {
  return withRunLock(runDir, () => pretrainLocked(config, data, runDir, opts));
}

/** `pretrain` with the run folder's lock held. */
async function pretrainLocked(config: PretrainConfig, data: PretrainData, runDir: string, opts: PretrainOptions): Promise<PretrainResult> {
  const configPath = join(runDir, 'config.json');
  // A resumed run must match its config, but may train longer or end with a cooldown.
  const saved = openRunFolder(runDir, config, { force: opts.force, sameRun: (a, b) => resumeKey(a) === resumeKey(b) });
  const t = config.train;
  const schedule = makeSchedule(config.schedule.kind, config.schedule.steps);
  const tokenizer = Tokenizer.fromCaptions(data.vocabularyTexts, { maxLength: config.model.maxWords, minCount: config.tokenizer.minCount });
  const model = TextToImageModel.create(config.model, tokenizer, deriveSeed(t.seed, 'init'));
  // The EMA as a model (for checkpoints and the held-out probe); training keeps it in the pool's shared buffers.
  const ema: Params = model.params.clone(false);
  const stateDir = join(runDir, 'state');
  const resuming = savedStep(stateDir) !== undefined;
  const init = !resuming && opts.initFrom !== undefined ? initFrom(opts.initFrom, config, model, ema, runDir) : undefined;
  let step = init?.step ?? 0;
  const initialisedFrom = init?.note ?? null;
  // Every thread computes gradients for its share of a batch and updates its share of the
  // parameters (AdamW and the EMA on shared buffers, see ModelPool.trainStep).
  const pool = await ModelPool.start(model, schedule, model.params.names, opts.workers ?? 1, (await initBackend({ quiet: true })).name, undefined, {
    kind: 'shared-adamw',
    adam: { beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon, weightDecay: t.weightDecay },
    ema: true,
  });
  try {
    const groups = pool.optimizerState();
    if (resuming) {
      const saved = loadTrainState(stateDir, groups);
      step = saved.step;
      // Run folders written before the two trainers shared one key call it adamStep.
      const optimizerStep = saved.extra['optimizerStep'] ?? saved.extra['adamStep'];
      pool.optimizerStep = typeof optimizerStep === 'number' ? optimizerStep : step;
      pool.pullWeights();
    }
    const resumedFrom = step;
    checkCooldown(configPath, step, t, saved?.config.train);
    const { metrics, heldout: heldoutLog } = resumeLogs(runDir, resuming, step, (saved?.invocations[0]?.fromStep ?? step) + 1);
    const counts = model.parameterCounts();
    writeRunConfig(
      runDir,
      {
        config,
        data: data.source,
        tokenizer: { vocabSize: tokenizer.vocabSize },
        parameters: counts,
        unetGflopPerImage: model.unetFlopsPerImage() / 1e9,
        command: opts.command ?? null,
        backend: tf.getBackend(),
      },
      saved?.invocations ?? [],
      invocation(opts.command, step, opts.workers ?? 1, { steps: t.steps, cooldownSteps: t.cooldownSteps, ...(initialisedFrom ? { initialisedFrom } : {}) }),
    );

    const loader = new BatchLoader(data.train, { batchSize: t.batchSize, seed: t.seed });
    const probes: HeldoutProbe[] = Object.entries(data.heldout).map(([name, set]) => makeProbe(name, set, config.log.evalImages, t.seed));
    const progress = new Progress('pretrain', t.steps, step);
    const log = (msg: string): void => {
      if (!opts.quiet) process.stderr.write(`${msg}\n`);
    };
    if (resumedFrom > 0) log(`resuming ${runDir} from step ${resumedFrom}`);
    log(`model: ${(counts.unet / 1e6).toFixed(2)}M UNet + ${(counts.text / 1e6).toFixed(2)}M text parameters; ${data.train.size} training images`);

    // The state is written last: a run killed before it resumes from the previous checkpoint and
    // redoes the model and the held-out losses, so neither ever lags the state.
    const checkpoint = async (): Promise<void> => {
      ema.assign(pool.emaWeights());
      await saveModel(join(runDir, 'model'), model, schedule, { run: runDir, step, weights: 'ema', command: opts.command ?? null }, ema);
      if (step % config.log.evalEvery === 0 || step === t.steps) {
        for (const probe of probes) {
          const quartiles = heldoutLossByQuartile(model, schedule, probe, ema);
          heldoutLog.append({ step, set: probe.name, quartiles, mean: quartiles.reduce((a, b) => a + b, 0) / 4 });
          log(`held-out ${probe.name} @${step}: ${quartiles.map((q) => q.toFixed(4)).join(' ')}`);
        }
      }
      await saveTrainState(stateDir, step, groups, { optimizerStep: pool.optimizerStep });
    };

    if (pool.size > 1) log(`data-parallel over ${pool.size} threads`);
    let ran = 0;
    while (step < t.steps) {
      if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
      const started = Date.now();
      const batch = loader.batchData(Math.floor(step / loader.batchesPerEpoch), step % loader.batchesPerEpoch);
      const jobs = pretrainJobs(batch, deriveSeed(t.seed, 'step', step), config, schedule, pool.size);
      const lr = warmupStableDecay(step, t.lr, t.warmupSteps, t.steps, t.cooldownSteps);
      const { loss: lossSum, gradNorm } = await pool.trainStep(model, schedule, jobs, undefined, { lr, clipNorm: t.clipNorm, emaDecay: t.emaDecay });
      step += 1;
      ran += 1;
      const sec = (Date.now() - started) / 1000;
      const record: PretrainStepRecord = { step, loss: lossSum, gradNorm, lr, sec, imagesPerSec: t.batchSize / sec };
      metrics.append({ ...record });
      if (step % config.log.every === 0 || step === t.steps) {
        progress.report(step, { loss: lossSum.toFixed(4), 'img/s': (t.batchSize / sec).toFixed(1), lr: lr.toExponential(1) });
      }
      if (step % config.log.checkpointEvery === 0 || step === t.steps) await checkpoint();
      opts.onStep?.(record);
    }
    progress.end();
    return { runDir, step, resumedFrom };
  } finally {
    await pool.stop();
    ema.dispose();
    model.params.dispose();
  }
}

/**
 * Continue from a model directory (a shipped checkpoint) when the full state is gone: weights
 * and EMA from it, the step it reached; AdamW starts afresh (and counts its own steps from 0
 * for its bias correction). The lineage file keeps the prior model's records.
 */
function initFrom(dir: string, config: PretrainConfig, model: TextToImageModel, ema: Params, runDir: string): { step: number; note: string } {
  const init = loadModel(dir);
  try {
    if (JSON.stringify(init.file.model) !== JSON.stringify(config.model)) throw new Error(`${dir}: its model config differs from this run's`);
    if (JSON.stringify(init.file.tokenizer) !== JSON.stringify(model.tokenizer.toJSON())) throw new Error(`${dir}: its vocabulary differs from this run's data`);
    model.params.copyFrom(init.model.params);
    ema.copyFrom(init.model.params);
    const step = Number(init.file.about['step'] ?? 0);
    writeLineage(runDir, captureLineage(dir, step, init.file.weightsManifest.sha256));
    return { step, note: `${dir} (step ${step}, AdamW moments reset)` };
  } finally {
    init.model.params.dispose();
  }
}

/**
 * One pretraining step's jobs, a share of the batch per thread (each share's gradient is of
 * sum(errors)/B, so the shares add up to the batch mean's). Timesteps, caption dropout and
 * noise come from `stepSeed`, in that order, so a resumed run redraws them exactly.
 */
function pretrainJobs(batch: BatchData, stepSeed: number, config: PretrainConfig, schedule: NoiseSchedule, threads: number): DenoisingJob[] {
  const t = config.train;
  const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
  const rng = new Rng(stepSeed);
  const timesteps = Array.from({ length: t.batchSize }, () => rng.int(schedule.steps));
  const captions = batch.captions.map((c) => (rng.next() < t.captionDropout ? '' : c));
  const noise = new Float32Array(t.batchSize * per);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
  return splitEvenly(t.batchSize, threads).map(([a, b]) => ({
    kind: 'denoising',
    x0: batch.pixels.subarray(a * per, b * per),
    eps: noise.subarray(a * per, b * per),
    t: timesteps.slice(a, b),
    captions: captions.slice(a, b),
    weight: 1 / t.batchSize,
    // A v-predicting model trains on the v error (docs/DESIGN.md).
    imageWeights: predictionErrorWeights(config.model.prediction, schedule, timesteps.slice(a, b)),
    microBatch: t.microBatch,
  }));
}
