import type { BackendName } from '../backend.js';
import type { GenerateOptions } from '../diffusion/generate.js';
import type { ScheduleKind } from '../diffusion/schedule.js';
import type { ModelConfig } from '../model/textToImage.js';
import type { TokenizerSpec } from '../text/tokenizer.js';

/** What a gradient worker builds its own copy of the model from. */
export interface WorkerSetup {
  backend: BackendName;
  model: ModelConfig;
  tokenizer: TokenizerSpec;
  schedule: { kind: ScheduleKind; steps: number };
  /** Parameter names in the order of the flat weight and gradient buffers. */
  names: string[];
  /** Flat float32 weights, written by the main thread before every job (all of `names`). */
  weights: SharedArrayBuffer;
  /** This worker's flat float32 gradient output. */
  grads: SharedArrayBuffer;
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
  /** Images per forward/backward pass inside the worker. */
  microBatch: number;
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

export type WorkerJob = DenoisingJob | SampleJob;

export type WorkerRequest = { type: 'job'; id: number; job: WorkerJob } | { type: 'stop' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; loss: number }
  | { type: 'images'; id: number; images: Uint8Array[] }
  | { type: 'error'; id: number; message: string };
