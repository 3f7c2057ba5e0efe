import type { BackendName } from '../backend.js';
import type { GenerateOptions } from '../model/generate.js';
import type { ScheduleKind } from '../diffusion/schedule.js';
import type { ModelConfig } from '../model/textToImage.js';
import type { TokenizerSpec } from '../text/tokenizer.js';
import type { AdamWHyper } from '../optim/flatAdamW.js';

/** What a gradient worker builds its own copy of the model from. */
export interface WorkerSetup {
  backend: BackendName;
  model: ModelConfig;
  tokenizer: TokenizerSpec;
  schedule: { kind: ScheduleKind; steps: number };
  /** Parameter names in the order of the flat weight and gradient buffers (the trained ones). */
  names: string[];
  /**
   * Every parameter of the model at the start, flat in `model.params.names` order: the worker's
   * starting weights (including frozen ones such as the text encoder) and, for preference
   * jobs, its frozen reference copy.
   */
  initial: Float32Array;
  /**
   * The frozen reference of preference jobs, flat like `initial`, when it differs from the
   * starting weights (a resumed post-training run starts from its policy, not from the base).
   */
  reference?: Float32Array;
  /** Flat float32 weights, written by the main thread before every job (all of `names`). */
  weights: SharedArrayBuffer;
  /** This worker's flat float32 gradient output. */
  grads: SharedArrayBuffer;
  /** Present when the pool also runs the optimizer, each thread updating its share of the parameters. */
  optimizer?: SharedOptimizerBuffers;
}

/** The shared buffers of a pool's flat AdamW (see `flatAdamW.ts`), all in the layout of `names`. */
export interface SharedOptimizerBuffers {
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  /** The EMA of the weights, when the run keeps one (pretraining). */
  ema?: SharedArrayBuffer;
  /** Uint8: 1 where weight decay applies. */
  decay: SharedArrayBuffer;
  /** Every thread's gradient buffer, the main thread's first; their sum is formed in the first. */
  grads: SharedArrayBuffer[];
}

/**
 * One share of a batch for the denoising loss: the gradient of weight · sum_i error_i, where
 * error_i is image i's denoising error. With weight = 1/B over all shares, the shares' gradients
 * add up to the gradient of the batch's mean error.
 */
export interface DenoisingJob {
  kind: 'denoising';
  /** [n,R,R,3] in [-1, 1], flat. */
  x0: Float32Array;
  /** [n,R,R,3] noise, flat. */
  eps: Float32Array;
  t: number[];
  captions: string[];
  weight: number;
  /**
   * Per-image loss weights (default 1): 1/alphaBar_t turns the eps error into the v error
   * that v-predicting models train on.
   */
  imageWeights?: number[];
  /** Images per forward/backward pass inside the worker. */
  microBatch: number;
}

/** Which preference loss a pair job takes its gradient of. */
export type PairLoss = { kind: 'dpo'; beta: number } | { kind: 'selfDpo'; beta: number; lambda1: number; lambda2: number };

/**
 * One share of a batch of preference pairs (winner, loser) sharing noise and timestep, the
 * loser conditioned on the winner's caption: the gradient of weight · sum over pairs of the
 * loss, the policy's errors against the frozen reference's (docs/DESIGN.md convention 5).
 */
export interface PairJob {
  kind: 'pairs';
  /** [n,R,R,3] winners and losers in [-1, 1], flat. */
  winners: Float32Array;
  losers: Float32Array;
  /** [n,R,R,3] noise shared by each pair. */
  eps: Float32Array;
  t: number[];
  captions: string[];
  weight: number;
  /**
   * Per-pair weights of all four errors (default 1): 1/alphaBar_t compares a v-predicting
   * model in its own prediction space (`predictionErrorWeights`).
   */
  imageWeights?: number[];
  /** Pairs per forward/backward pass. */
  microBatch: number;
  loss: PairLoss;
}

/** Sums over a pair job's pairs, for logging: errors of policy and reference, and wins. */
export interface PairStats {
  pairs: number;
  modelW: number;
  modelL: number;
  refW: number;
  refL: number;
  wins: number;
}

/** Images for captions[i] from seeds[i] (an image depends only on its caption and seed). */
export interface SampleJob {
  kind: 'sample';
  captions: string[];
  seeds: number[];
  options: Omit<GenerateOptions, 'onStep'>;
  /** Images per generation batch. */
  chunk: number;
}

export type WorkerJob = DenoisingJob | PairJob | SampleJob;

export type WorkerRequest =
  /** `pull`: load the shared weights first (false when a 'pull' since their last change did). */
  | { type: 'job'; id: number; job: WorkerJob; pull: boolean }
  /** Load the shared weights into the worker's variables now (no reply: messages run in order). */
  | { type: 'pull' }
  /** Sum every thread's gradients over [range) into the first buffer; reply with the sum of squares there. */
  | { type: 'reduce'; id: number; range: [number, number] }
  /** AdamW (and the EMA) on [range) of the shared buffers. */
  | { type: 'update'; id: number; range: [number, number]; hyper: AdamWHyper; ema?: { decay: number; updates: number } }
  | { type: 'stop' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; loss: number; stats?: PairStats }
  | { type: 'images'; id: number; images: Uint8Array[] }
  | { type: 'reduced'; id: number; squares: number }
  | { type: 'updated'; id: number }
  | { type: 'error'; id: number; message: string };
