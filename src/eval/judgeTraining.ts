import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ImageTextSet } from '../data/imageTextSet.js';
import type { Params } from '../model/params.js';
import { AdamW } from '../optim/adamw.js';
import { clipByGlobalNorm } from '../optim/gradients.js';
import { warmupConstant } from '../optim/lrSchedule.js';
import { byName } from '../optim/optimizer.js';
import { Progress } from '../runs/progress.js';
import { invocation, openRunFolder, resumeLogs, writeRunConfig } from '../runs/runFolder.js';
import { withRunLock } from '../runs/runLock.js';
import { loadTrainState, saveTrainState, savedStep } from '../optim/trainState.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { augmentImage } from './augment.js';
import { infoNceLoss, type ContrastiveJudge } from './contrastiveJudge.js';
import { realismLoss, type RealismJudge } from './realismJudge.js';
import { bytesToUnit } from '../data/pixels.js';

export interface JudgeTrainConfig {
  seed: number;
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  log: { every: number; checkpointEvery: number };
}

export interface JudgeFitOptions {
  quiet?: boolean;
  /** The exact command, recorded in the run's config.json. */
  command?: string;
  /** Stop after this many steps of this process (tests simulate a kill with it). */
  stopAfter?: number;
  /** Start over: the run folder is emptied under its lock (never while another process trains in it). */
  force?: boolean;
}

/**
 * The judges' training loop: AdamW, linear warmup, clipping at 1, in a run folder like every
 * trainer's (docs/DESIGN.md convention 7): locked while it runs, config.json compared on resume
 * and holding every invocation, `metrics.jsonl` and a resumable state (a killed run resumes
 * from its last checkpoint and reproduces the uninterrupted run: every batch derives from
 * (seed, step)).
 */
function fit(name: string, params: Params, cfg: JudgeTrainConfig, runDir: string, lossAt: (step: number) => tf.Scalar, opts: JudgeFitOptions): Promise<number> {
  return withRunLock(runDir, () => fitLocked(name, params, cfg, runDir, lossAt, opts));
}

async function fitLocked(name: string, params: Params, cfg: JudgeTrainConfig, runDir: string, lossAt: (step: number) => tf.Scalar, opts: JudgeFitOptions): Promise<number> {
  const saved = openRunFolder(runDir, cfg, { force: opts.force === true, sameRun: (a, b) => JSON.stringify(a) === JSON.stringify(b) });
  const names = params.names;
  const variables = params.variables;
  const optimizer = new AdamW(variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: cfg.weightDecay });
  const groups = { weights: byName(names, variables), ...optimizer.stateGroups(names) };
  const stateDir = join(runDir, 'state');
  let step = 0;
  if (savedStep(stateDir) !== undefined) {
    const state = loadTrainState(stateDir, groups);
    step = state.step;
    optimizer.step = step;
  }
  const { metrics } = resumeLogs(runDir, step > 0, step, (saved?.invocations[0]?.fromStep ?? 0) + 1);
  writeRunConfig(runDir, { judge: name, config: cfg, command: opts.command ?? null }, saved?.invocations ?? [], invocation(opts.command, step, 1));
  const progress = new Progress(name, cfg.steps, step);
  let ran = 0;
  while (step < cfg.steps) {
    if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
    const started = Date.now();
    const { value, grads } = tf.variableGrads(() => lossAt(step), variables);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    const clipped = clipByGlobalNorm(
      variables.map((v) => grads[v.name] as tf.Tensor),
      1,
    );
    const lr = warmupConstant(step, cfg.lr, cfg.warmupSteps);
    optimizer.apply(clipped.grads, lr);
    tf.dispose(clipped.grads);
    step += 1;
    ran += 1;
    metrics.append({ step, loss, grad_norm: clipped.norm, lr, sec: (Date.now() - started) / 1000 });
    if (!opts.quiet && (step % cfg.log.every === 0 || step === cfg.steps)) progress.report(step, { loss: loss.toFixed(4), lr: lr.toExponential(1) });
    if (step % cfg.log.checkpointEvery === 0 || step === cfg.steps) await saveTrainState(stateDir, step, groups);
  }
  if (!opts.quiet) progress.end();
  optimizer.dispose();
  return step;
}

/** Image `i` of `set` in [-1, 1], augmented with `rng`, written at `out[offset...]`. */
function augmentedInto(pixels: Uint8Array, out: Float32Array, offset: number, R: number, rng: Rng): void {
  const src = new Float32Array(pixels.length);
  bytesToUnit(pixels, src);
  augmentImage(src, out.subarray(offset, offset + pixels.length), R, rng);
}

/**
 * Train the contrastive judge with InfoNCE on (image, caption) pairs of `set`. Each batch holds
 * distinct concepts (one drawn image each), so no row of the batch is a false negative for
 * another: per epoch the concepts are shuffled and cut into batches.
 */
export async function trainContrastiveJudge(
  judge: ContrastiveJudge,
  set: ImageTextSet,
  conceptOfId: (id: string) => string,
  cfg: JudgeTrainConfig,
  runDir: string,
  opts: JudgeFitOptions = {},
): Promise<number> {
  const byConcept = new Map<string, number[]>();
  for (let i = 0; i < set.size; i++) {
    const c = conceptOfId(set.id(i));
    byConcept.set(c, [...(byConcept.get(c) ?? []), i]);
  }
  const concepts = [...byConcept.keys()];
  const B = Math.min(cfg.batchSize, concepts.length);
  const perEpoch = Math.floor(concepts.length / B);
  const R = set.resolution;
  const per = R * R * 3;
  return fit(
    'contrastive judge',
    judge.params,
    cfg,
    runDir,
    (step) => {
      const epoch = Math.floor(step / perEpoch);
      const order = new Rng(deriveSeed(cfg.seed, 'concepts', epoch)).shuffle([...concepts]);
      const batch = order.slice((step % perEpoch) * B, ((step % perEpoch) + 1) * B);
      const rng = new Rng(deriveSeed(cfg.seed, 'batch', step));
      const pixels = new Float32Array(B * per);
      const captions = batch.map((c, b) => {
        const i = rng.pick(byConcept.get(c) as number[]);
        augmentedInto(set.pixels(i), pixels, b * per, R, rng);
        return set.caption(i, rng);
      });
      return tf.tidy(() => infoNceLoss(judge.imageEmbedding(tf.tensor4d(pixels, [B, R, R, 3])), judge.textEmbedding(captions), judge.logitScale()));
    },
    opts,
  );
}

/**
 * Train the realism judge: half of every batch real images of `real`, half generated images
 * from `generated` (RGB bytes at the same resolution), both augmented alike so that position
 * and orientation carry no signal.
 */
export async function trainRealismJudge(judge: RealismJudge, real: ImageTextSet, generated: readonly Uint8Array[], cfg: JudgeTrainConfig, runDir: string, opts: JudgeFitOptions = {}): Promise<number> {
  if (generated.length === 0) throw new Error('trainRealismJudge: no generated images');
  const R = real.resolution;
  const per = R * R * 3;
  const half = Math.max(1, Math.floor(cfg.batchSize / 2));
  return fit(
    'realism judge',
    judge.params,
    cfg,
    runDir,
    (step) => {
      const rng = new Rng(deriveSeed(cfg.seed, 'batch', step));
      const pixels = new Float32Array(2 * half * per);
      const isReal: boolean[] = [];
      for (let b = 0; b < 2 * half; b++) {
        const fromReal = b < half;
        const src = fromReal ? real.pixels(rng.int(real.size)) : (generated[rng.int(generated.length)] as Uint8Array);
        if (src.length !== per) throw new Error(`realism judge: an image has ${src.length} bytes, expected ${per}`);
        augmentedInto(src, pixels, b * per, R, rng);
        isReal.push(fromReal);
      }
      return tf.tidy(() => realismLoss(judge.logits(tf.tensor4d(pixels, [2 * half, R, R, 3])), isReal));
    },
    opts,
  );
}
