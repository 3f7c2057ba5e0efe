import { join } from 'node:path';
import { initBackend } from '../backend.js';
import { BatchLoader, type BatchData } from '../data/batchLoader.js';
import type { NoiseSchedule } from '../diffusion/schedule.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { loadModel, saveModel, type LoadedModel } from '../model/modelFile.js';
import { UNET_PREFIX } from '../model/textToImage.js';
import { ModelPool, splitEvenly, type PoolOptimizer } from '../parallel/modelPool.js';
import type { DenoisingJob, PairJob, PairLoss, PairStats } from '../parallel/protocol.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { Adafactor, ADAFACTOR_DEFAULTS } from '../optim/adafactor.js';
import { getDowngrade } from '../methods/downgrades/registry.js';
import { warmupConstant } from '../optim/lrSchedule.js';
import { probeOf, scorePairProbe, type PairProbeScore } from './pairProbe.js';
import { validationPrompts, writeValidationSamples } from './validationSamples.js';
import { predictionErrorWeights } from '../objective/predictionError.js';
import type { PreferencePairSet } from '../data/preferencePairs.js';
import { Progress } from '../runs/progress.js';
import { getMethod } from '../methods/registry.js';
import { methodAndDowngrade, methodSettings, resolvePostTrainConfig, type PostTrainConfig } from './postTrainConfig.js';
import { loadTrainState, saveTrainState, savedStep, type VariableGroups } from '../optim/trainState.js';
import { withRunLock } from '../runs/runLock.js';
import { checkLoggedSteps, invocation, openRunFolder, resumeLogs, writeRunConfig, type SavedRun } from '../runs/runFolder.js';

/** What a post-training run reads. */
export interface PostTrainData {
  /** The winners: an Emoji-T2I view, a user's folder, or the winners of a pair set (all of it for dpo). */
  winners: ImageTextSet;
  /** Concept of a winner id (downgrades draw losers of other concepts). */
  conceptOfId: (id: string) => string;
  /** dpo: the preference pairs whose winners `winners` is. */
  pairs?: PreferencePairSet;
  /**
   * The probe's images, named in heldout.jsonl, with their concept rule: Emoji-T2I's validation set,
   * or an Emoji-Pick build's validation winners with their labelled `pairs` (a method that trains
   * on ranked pairs is probed on them; the others make their own losers from the winners).
   */
  heldout: { name: string; set: ImageTextSet; conceptOfId: (id: string) => string; pairs?: PreferencePairSet };
  /** Where the data came from, recorded in config.json. */
  source: Record<string, unknown>;
}

export interface PostTrainOptions {
  /** Start over even if `runDir` holds a run (deletes it). */
  force?: boolean;
  /** The exact command, recorded beside the run. */
  command?: string;
  /** Stop after this many steps of this process without a final checkpoint (tests simulate a kill with it). */
  stopAfter?: number;
  quiet?: boolean;
  /** Threads computing each step's gradients (default 1); the update equals the 1-thread one up to rounding. */
  workers?: number;
  /** Called after every step with its metrics record (notebooks plot from it). */
  onStep?: (record: PostTrainStepRecord) => void;
  /** Called after every held-out probe. */
  onProbe?: (record: ProbeRecord) => void;
}

/**
 * The first step whose training implicit accuracy is a measurement. A step's record scores the
 * batch before that step's update, so step 1 scores the base against itself: every pair ties, and
 * a tie is no win, so its implicit accuracy is 0 by construction. Likewise the probe at step 0.
 */
export const FIRST_MEASURED_STEP = 2;

/** One line of metrics.jsonl. Errors are means over the batch in the model's prediction space. */
export interface PostTrainStepRecord {
  step: number;
  /** The minimised loss: mean over the batch. */
  loss: number;
  mse_w: number;
  /** Preference methods only: loser error, reference errors and the share of pairs with inside > 0. */
  mse_l?: number;
  ref_w?: number;
  ref_l?: number;
  implicit_acc?: number;
  lr: number;
  grad_norm: number;
  sec: number;
}

/** One line of heldout.jsonl: the probe's scores at a step. */
export interface ProbeRecord extends PairProbeScore {
  step: number;
  set: string;
  downgrade: string;
}

export interface PostTrainResult {
  runDir: string;
  step: number;
  resumedFrom: number;
}

/** The default run directory of a method and seed. */
export function defaultRunDir(method: string, seed: number): string {
  return join('runs', 'train', method, `seed${seed}`);
}

/**
 * Post-train the base model's UNet with SFT, Diffusion-DPO or Self-DPO (docs/PROTOCOL.md
 * "Methods"): the text encoder stays frozen, the reference is a frozen copy of the base,
 * winner and loser share noise and timestep and the loser takes the winner's caption.
 * AdamW or Adafactor, constant LR after a linear warmup over `warmupFraction` of the steps,
 * gradient accumulation over micro-batches, clipping. The run lives in `runDir`: config.json,
 * metrics.jsonl, heldout.jsonl (a fixed held-out pair probe), state/ (resumable) and model/.
 * Re-running with the same config resumes and reproduces the uninterrupted run's metrics:
 * batches, timesteps, noise and losers all derive from (seed, step).
 */
export function postTrain(config: PostTrainConfig, data: PostTrainData, runDir: string, opts: PostTrainOptions = {}): Promise<PostTrainResult> {
  return withRunLock(runDir, () => postTrainLocked(config, data, runDir, opts));
}

/** `postTrain` with the run folder's lock held. */
async function postTrainLocked(config: PostTrainConfig, data: PostTrainData, runDir: string, opts: PostTrainOptions): Promise<PostTrainResult> {
  const { base, baseSha256, saved } = openPostTrainRun(config, runDir, opts.force);
  const t = config.train;
  const { model, schedule } = base;
  if (data.winners.resolution !== model.config.resolution) {
    model.params.dispose();
    throw new Error(`the training images are ${data.winners.resolution}px but ${config.base} draws ${model.config.resolution}px`);
  }
  const reference = model.params.clone(false);
  const names = model.params.names.filter((n) => n.startsWith(UNET_PREFIX));
  const variables = names.map((n) => model.params.variable(n));
  const pool = await ModelPool.start(model, schedule, names, opts.workers ?? 1, (await initBackend({ quiet: true })).name, reference, poolOptimizer(t));
  try {
    const groups = pool.optimizerState();

    const stateDir = join(runDir, 'state');
    let step = resumeState(stateDir, groups, pool);
    const resumedFrom = step;
    const { metrics, heldout: heldoutLog } = resumeLogs(runDir, step > 0, step, (saved?.invocations[0]?.fromStep ?? 0) + 1);
    if (step > 0) checkLoggedSteps(heldoutLog, probeSteps(step, t.steps, config.log), step);
    writeRunConfig(
      runDir,
      { config, baseSha256, data: data.source, trainedParameters: variables.reduce((n, v) => n + v.size, 0), command: opts.command ?? null },
      saved?.invocations ?? [],
      invocation(opts.command, step, opts.workers ?? 1),
    );

    const log = (msg: string): void => {
      if (!opts.quiet) process.stderr.write(`${msg}\n`);
    };
    const method = getMethod(config.method);
    const settings = methodSettings(config);
    const loss = method.pairLoss(settings);
    const losersOf = method.losers(settings, { winners: data.winners, conceptOfId: data.conceptOfId, pairs: data.pairs, model });
    if (loss !== undefined && losersOf === undefined) throw new Error(`method ${method.name}: a preference loss needs losers`);
    // Each method on its own kind of held-out pairs: ranked pairs for one that trains on them (docs/PROTOCOL.md, "Emoji-Pick").
    const probe = probeOf(data.heldout, getDowngrade(method.probeDowngrade(settings)), model, config.log.evalPairs, t.seed, schedule.steps, method.data === 'pairs');
    const probeLoss: PairLoss = { kind: 'dpo', beta: config.loss.beta };
    const runProbe = (): void => {
      const score = scorePairProbe(model, model.params, reference, schedule, probe, probeLoss);
      const record: ProbeRecord = { step, set: probe.name, downgrade: probe.downgrade, ...score };
      heldoutLog.append({ ...record });
      opts.onProbe?.(record);
      log(`${probe.name} @${step}: mse_w ${score.mse_w.toFixed(4)}  implicit acc ${score.implicit_acc.toFixed(3)}`);
    };

    const loader = new BatchLoader(data.winners, { batchSize: t.batchSize, seed: t.seed });
    const warmupSteps = Math.round(t.warmupFraction * t.steps);
    const progress = new Progress(config.downgrade ? `${config.method}/${config.downgrade}` : config.method, t.steps, step);
    if (resumedFrom > 0) log(`resuming ${runDir} from step ${resumedFrom}`);
    log(`${config.description}: ${methodAndDowngrade(config)} on ${data.winners.size} winners, ${t.steps} steps of ${t.batchSize}, base ${config.base} (${baseSha256.slice(0, 12)})`);

    const samplePrompts = config.log.sampleEvery > 0 ? validationPrompts(data.heldout.set) : [];
    const drawSamples = async (): Promise<void> => {
      if (samplePrompts.length === 0) return;
      log(`validation samples @${step}: ${await writeValidationSamples(model, schedule, samplePrompts, runDir, step)}`);
    };

    // The state is written last: a run killed before it resumes from the previous checkpoint and
    // redoes the model, the probe and the samples, so none of them lags the state.
    const checkpoint = async (): Promise<void> => {
      await saveModel(join(runDir, 'model'), model, schedule, { run: runDir, step, method: config.method, downgrade: config.downgrade, base: config.base, baseSha256, command: opts.command ?? null });
      if (step % config.log.evalEvery === 0 || step === t.steps) runProbe();
      if (step % config.log.sampleEvery === 0 || step === t.steps) await drawSamples();
      await saveTrainState(stateDir, step, groups, { optimizerStep: pool.optimizerStep });
    };

    if (step === 0) {
      runProbe();
      await drawSamples();
    }
    if (pool.size > 1) log(`data-parallel over ${pool.size} threads`);
    let ran = 0;
    const recentAcc: number[] = [];
    while (step < t.steps) {
      if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
      const started = Date.now();
      const batch = loader.batchData(Math.floor(step / loader.batchesPerEpoch), step % loader.batchesPerEpoch);
      const jobs = stepJobs(batch, losersOf?.(batch, step), loss, deriveSeed(t.seed, 'step', step), { t, schedule, prediction: model.config.prediction, threads: pool.size });
      const lr = warmupConstant(step, t.lr, warmupSteps);
      const result = await pool.trainStep(model, schedule, jobs, reference, { lr, clipNorm: t.clipNorm });
      step += 1;
      ran += 1;
      const sec = (Date.now() - started) / 1000;
      const record = stepRecord(step, result, t.batchSize, lr, sec);
      metrics.append({ ...record });
      if (record.implicit_acc !== undefined) recentAcc.push(record.implicit_acc);
      if (step % config.log.every === 0 || step === t.steps) {
        // The implicit accuracy shown is the mean since the last report: one batch's share is too noisy to read.
        const acc: Record<string, string> = recentAcc.length > 0 ? { acc: (recentAcc.reduce((a, b) => a + b, 0) / recentAcc.length).toFixed(2) } : {};
        recentAcc.length = 0;
        progress.report(step, { loss: record.loss.toFixed(4), ...acc, lr: lr.toExponential(1) });
      }
      if (step % config.log.checkpointEvery === 0 || step === t.steps) await checkpoint();
      opts.onStep?.(record);
    }
    progress.end();
    return { runDir, step, resumedFrom };
  } finally {
    await pool.stop();
    reference.dispose();
    model.params.dispose();
  }
}

/**
 * One step's jobs, a share of the batch per thread (each share's gradient is of sum(losses)/B):
 * pairs when the method has losers and a preference loss, else winners alone. Timesteps and
 * noise come from `stepSeed`, so a resumed run redraws them exactly.
 */
function stepJobs(
  batch: BatchData,
  losers: Float32Array | undefined,
  loss: PairLoss | undefined,
  stepSeed: number,
  on: { t: PostTrainConfig['train']; schedule: NoiseSchedule; prediction: 'eps' | 'v'; threads: number },
): Array<DenoisingJob | PairJob> {
  const { t, schedule } = on;
  const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
  const rng = new Rng(stepSeed);
  const timesteps = Array.from({ length: t.batchSize }, () => rng.int(schedule.steps));
  const noise = new Float32Array(t.batchSize * per);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
  return splitEvenly(t.batchSize, on.threads).map(([a, b]): DenoisingJob | PairJob => {
    const part = (x: Float32Array): Float32Array => x.subarray(a * per, b * per);
    const imageWeights = predictionErrorWeights(on.prediction, schedule, timesteps.slice(a, b));
    const common = { eps: part(noise), t: timesteps.slice(a, b), captions: batch.captions.slice(a, b), weight: 1 / t.batchSize, imageWeights, microBatch: t.microBatch };
    return losers && loss ? { kind: 'pairs', winners: part(batch.pixels), losers: part(losers), loss, ...common } : { kind: 'denoising', x0: part(batch.pixels), ...common };
  });
}

/** A step's metrics line: batch means of the errors, and for pairs the implicit accuracy. */
function stepRecord(step: number, result: { loss: number; stats?: PairStats; gradNorm: number }, B: number, lr: number, sec: number): PostTrainStepRecord {
  const s = result.stats;
  return s
    ? { step, loss: result.loss, mse_w: s.modelW / B, mse_l: s.modelL / B, ref_w: s.refW / B, ref_l: s.refL / B, implicit_acc: s.wins / B, lr, grad_norm: result.gradNorm, sec }
    : { step, loss: result.loss, mse_w: result.loss, lr, grad_norm: result.gradNorm, sec };
}

/**
 * The base model and the run folder of a post-training run: a resumed run must have the same
 * config and start from the same base weights (by hash). The base is disposed on refusal.
 */
function openPostTrainRun(config: PostTrainConfig, runDir: string, force: boolean | undefined): { base: LoadedModel; baseSha256: string; saved: SavedRun<PostTrainConfig> | undefined } {
  const base = loadModel(config.base);
  const baseSha256 = base.file.weightsManifest.sha256;
  try {
    // The saved config is resolved again first: a run written before a config key existed resumes under its default.
    const sameRun = (a: PostTrainConfig, b: PostTrainConfig): boolean => {
      try {
        return JSON.stringify(resolvePostTrainConfig(a, 'config.json')) === JSON.stringify(b);
      } catch {
        return false;
      }
    };
    const saved = openRunFolder(runDir, config, { force, sameRun });
    const savedBase = saved?.record['baseSha256'];
    if (typeof savedBase === 'string' && savedBase !== baseSha256) {
      throw new Error(
        `${join(runDir, 'config.json')}: the run started from base weights ${savedBase.slice(0, 12)}, but ${config.base} now holds ${baseSha256.slice(0, 12)}; pass --force to start over`,
      );
    }
    return { base, baseSha256, saved };
  } catch (err) {
    base.model.params.dispose();
    throw err;
  }
}

/** The steps up to `upTo` at which a run of `steps` steps probes (step 0, then at checkpoints that are evaluation steps, and the last). */
function probeSteps(upTo: number, steps: number, log: PostTrainConfig['log']): number[] {
  const out = [0];
  for (let s = 1; s <= upTo; s++) if ((s % log.checkpointEvery === 0 || s === steps) && (s % log.evalEvery === 0 || s === steps)) out.push(s);
  return out;
}

/** The pool's optimizer: AdamW spread over the threads, or Adafactor on the main thread. */
function poolOptimizer(t: PostTrainConfig['train']): PoolOptimizer {
  if (t.optimizer === 'adamw') return { kind: 'shared-adamw', adam: { beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon, weightDecay: t.weightDecay }, ema: false };
  return { kind: 'main-thread', create: (variables) => new Adafactor(variables, { ...ADAFACTOR_DEFAULTS, weightDecay: t.weightDecay }) };
}

/** Load the saved state into the pool's optimizer; the step it reached, 0 for a new run. */
function resumeState(stateDir: string, groups: VariableGroups, pool: ModelPool): number {
  if (savedStep(stateDir) === undefined) return 0;
  const saved = loadTrainState(stateDir, groups);
  pool.optimizerStep = typeof saved.extra['optimizerStep'] === 'number' ? saved.extra['optimizerStep'] : saved.step;
  pool.pullWeights();
  return saved.step;
}
