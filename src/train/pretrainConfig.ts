import { checkIntegerRange, checkLogCadence, checkOptimizerKeys, checkRange, ConfigError, resolveConfig, type DeepPartial } from '../config.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../diffusion/schedule.js';
import type { ModelConfig } from '../model/textToImage.js';

export const PRETRAIN_VIEWS = ['web', 'curated', 'web+curated', 'folder'] as const;
export type PretrainView = (typeof PRETRAIN_VIEWS)[number];

/** A pretraining run: the network, the noise schedule, the data and the optimisation. */
export interface PretrainConfig {
  model: ModelConfig;
  schedule: { kind: ScheduleKind; steps: number };
  /**
   * Which Emoji-T2I part to train on: 'web' (noisy captions and images: base-S, our SD 1.5),
   * 'curated' (clean), or 'web+curated', both each epoch (base-L: better data, as SDXL had).
   */
  /** An Emoji-T2I view, or 'folder': a user's folder of images with captions.jsonl (`folder`; 1 in 20 held out as the probe). */
  data: { view: PretrainView; folder: string };
  /** Words seen fewer times than this in the training captions become the unknown token. */
  tokenizer: { minCount: number };
  train: {
    seed: number;
    /** Total optimiser steps; a resumed run may raise it to train longer. */
    steps: number;
    batchSize: number;
    /** Images per forward/backward pass; gradients of batchSize/microBatch passes are averaged. */
    microBatch: number;
    lr: number;
    warmupSteps: number;
    /**
     * The LR falls linearly to 0 over the last N steps (0 = none). Like `steps`, a resumed run
     * may change it: a run trained at constant LR for as long as it kept improving is ended
     * with `--steps S --cooldown N`.
     */
    cooldownSteps: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    /** Global gradient-norm clip (0 = none). */
    clipNorm: number;
    emaDecay: number;
    /** Share of captions replaced by '' so the model also learns the unconditional eps (CFG). */
    captionDropout: number;
  };
  log: {
    /** Progress line every N steps. */
    every: number;
    /** Resumable state and the EMA model every N steps (and at the end). */
    checkpointEvery: number;
    /** Held-out denoising loss per timestep quartile every N steps (a multiple of checkpointEvery). */
    evalEvery: number;
    /** Images per held-out set. */
    evalImages: number;
  };
}

/**
 * base-S (docs/PROTOCOL.md: our SD 1.5): about 5.9M parameters and 0.29 GFLOP per 32x32 forward,
 * the parameters at 8x8 and 4x4 and the 32x32 level thin (16 channels).
 */
export const BASE_S: PretrainConfig = {
  model: {
    resolution: 32,
    maxWords: 16,
    text: { width: 128, layers: 2, heads: 4 },
    unet: { channels: [16, 48, 96, 192], resBlocks: [1, 1, 1, 1], attentionLevels: [2, 3], heads: 4, groups: 8, embedWidth: 256 },
    // v, not eps: docs/DESIGN.md, "Why v-prediction and the scaled-linear schedule".
    prediction: 'v',
  },
  // SD's scaled-linear schedule (docs/DESIGN.md, same section).
  schedule: { kind: 'scaled-linear', steps: 1000 },
  data: { view: 'web', folder: '' },
  tokenizer: { minCount: 1 },
  train: {
    seed: 0,
    steps: 20000,
    batchSize: 32,
    microBatch: 32,
    lr: 3e-4,
    warmupSteps: 200,
    cooldownSteps: 0,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    clipNorm: 1,
    emaDecay: 0.999,
    captionDropout: 0.1,
  },
  log: { every: 10, checkpointEvery: 100, evalEvery: 500, evalImages: 64 },
};

/**
 * base-L (docs/PROTOCOL.md: our SDXL): 15.95M UNet parameters (3.1x base-S's 5.13M) and a
 * text encoder of width 160 with 3 layers (1.67M against 0.99M), the extra width at 8x8 and 4x4
 * where it costs few FLOPs: 0.83 GFLOP per 32x32 forward (2.9x). Measured on this 2-core
 * machine with the native kernels, 2 threads, in one session (median step after warm-up):
 *
 * | candidate (channels; resBlocks) | UNet params | GFLOP | images/s |
 * | --- | ---: | ---: | ---: |
 * | base-S [16,48,96,192]; 1 each | 5.13M | 0.29 | 66.4 |
 * | [16,48,128,320]; 1,1,1,2 | 19.4M | 0.76 | 39.4 |
 * | [16,48,160,320]; 1,1,2,2 | 22.0M | 1.04 | 30.4 |
 * | [16,64,160,384]; 1,1,1,2 | 27.6M | 1.03 | 26.7 |
 * | **[32,64,160,352]; 1 each (chosen)** | 15.95M | 0.83 | 32.5 |
 *
 * Chosen: 2.0x base-S's cost per image, and the smallest UNet at 3x, because the shipped file
 * is float16 and every ship stays in git history (17.6M parameters, about 35 MB); the FLOPs
 * that the parameter budget leaves go to 32 channels at 32x32, where base-S has 16. Planned
 * as 22,000 steps of 64 images (about 12 hours at 32.5 images/s); shipped at 14,000 (896k
 * images, 0.97x base-S's 928k, 11.0 h of training), the last 2,000 with a falling LR: the run
 * could not carry its state (280 MB) across sessions, so its end was moved to finish within
 * one, while the held-out loss fell by only 0.9-1.5% per 1,000 steps (results/base-l/README.md).
 * These are the shipped run's settings, so this preset alone remakes it. Data: the web set and the curated set together each epoch (better data, as SDXL had: half
 * the captions exact and every image clean, the other half web-like, so loose prompts still
 * work). A cooldown ends it.
 */
export const BASE_L_OVERRIDE: DeepPartial<PretrainConfig> = {
  model: {
    text: { width: 160, layers: 3, heads: 4 },
    unet: { channels: [32, 64, 160, 352], resBlocks: [1, 1, 1, 1], attentionLevels: [2, 3], heads: 8, groups: 8, embedWidth: 384 },
  },
  data: { view: 'web+curated' },
  train: { steps: 14000, batchSize: 64, microBatch: 32, lr: 3e-4, warmupSteps: 500, cooldownSteps: 2000, emaDecay: 0.9995 },
  log: { every: 10, checkpointEvery: 200, evalEvery: 1000, evalImages: 128 },
};

/**
 * weak: Emoji-Pick's weakest generator (docs/PROTOCOL.md, "Emoji-Pick"), an early checkpoint of a small model:
 * base-S's design at half its width (2.2M UNet parameters against 5.1M; a 0.4M text encoder) on
 * base-S's data, stopped after 8,000 steps of 32 images (256k, 28% of base-S's), a cooldown
 * ending it. Small because every shipped checkpoint stays in git history (about 5 MB as
 * float16). A first try stopped at 1,000 steps (32k images) drew only coloured noise for every
 * prompt: not a generator of a preference dataset.
 */
export const WEAK_OVERRIDE: DeepPartial<PretrainConfig> = {
  model: {
    text: { width: 64, layers: 2, heads: 4 },
    unet: { channels: [16, 32, 64, 128], resBlocks: [1, 1, 1, 1], attentionLevels: [2, 3], heads: 4, groups: 8, embedWidth: 128 },
  },
  train: { steps: 8000, cooldownSteps: 1000 },
};

/** Smallest useful run, for tests and smoke checks: a tiny network, a few steps. */
export const SMOKE_OVERRIDE: DeepPartial<PretrainConfig> = {
  model: {
    text: { width: 16, layers: 1, heads: 2 },
    unet: { channels: [8, 16], resBlocks: [1, 1], attentionLevels: [1], heads: 2, groups: 4, embedWidth: 16 },
  },
  train: { steps: 6, batchSize: 4, microBatch: 2, warmupSteps: 2 },
  log: { every: 1, checkpointEvery: 2, evalEvery: 2, evalImages: 4 },
};

/** Defaults + override, checked (errors name the key and `source`). */
export function resolvePretrainConfig(override: unknown = {}, source = 'config'): PretrainConfig {
  const c = resolveConfig(BASE_S, override, source);
  const m = c.model;
  if (![32, 64].includes(m.resolution)) throw new ConfigError('model.resolution', `must be 32 or 64, got ${m.resolution}`, source);
  checkIntegerRange('model.maxWords', m.maxWords, 1, 256, source);
  if (m.unet.channels.length === 0 || m.unet.channels.some((ch) => !Number.isInteger(ch) || ch <= 0 || ch % m.unet.groups !== 0)) {
    throw new ConfigError('model.unet.channels', `must be positive integers divisible by groups (${m.unet.groups}), got [${m.unet.channels}]`, source);
  }
  if (m.resolution % 2 ** (m.unet.channels.length - 1) !== 0) throw new ConfigError('model.unet.channels', `${m.unet.channels.length} levels do not fit ${m.resolution}px`, source);
  if (m.unet.resBlocks.length !== m.unet.channels.length || m.unet.resBlocks.some((r) => !Number.isInteger(r) || r < 1)) {
    throw new ConfigError('model.unet.resBlocks', `needs one integer >= 1 per level (${m.unet.channels.length}), got [${m.unet.resBlocks}]`, source);
  }
  if (m.unet.attentionLevels.some((l) => !Number.isInteger(l) || l < 0 || l >= m.unet.channels.length)) {
    throw new ConfigError('model.unet.attentionLevels', `must index levels 0..${m.unet.channels.length - 1}, got [${m.unet.attentionLevels}]`, source);
  }
  if (m.unet.channels.some((ch, l) => m.unet.attentionLevels.includes(l) && ch % m.unet.heads !== 0)) {
    throw new ConfigError('model.unet.heads', `${m.unet.heads} heads do not divide the attention levels' channels`, source);
  }
  if (m.text.width % m.text.heads !== 0) throw new ConfigError('model.text.heads', `${m.text.heads} heads do not divide width ${m.text.width}`, source);
  if (m.unet.embedWidth % 4 !== 0) throw new ConfigError('model.unet.embedWidth', 'must be a multiple of 4', source);
  if (m.prediction !== 'eps' && m.prediction !== 'v') throw new ConfigError('model.prediction', `must be "eps" or "v", got "${String(m.prediction)}"`, source);
  if (!SCHEDULE_KINDS.includes(c.schedule.kind)) throw new ConfigError('schedule.kind', `must be one of ${SCHEDULE_KINDS.join(', ')}, got "${c.schedule.kind}"`, source);
  checkIntegerRange('schedule.steps', c.schedule.steps, 2, 100000, source);
  if (!PRETRAIN_VIEWS.includes(c.data.view)) throw new ConfigError('data.view', `must be one of ${PRETRAIN_VIEWS.join(', ')}, got "${c.data.view}"`, source);
  if ((c.data.view === 'folder') !== (c.data.folder !== '')) throw new ConfigError('data.folder', 'names the folder exactly when data.view is "folder"', source);
  const t = c.train;
  checkIntegerRange('train.steps', t.steps, 1, 1e9, source);
  checkIntegerRange('train.batchSize', t.batchSize, 1, 4096, source);
  checkIntegerRange('train.microBatch', t.microBatch, 1, t.batchSize, source);
  if (t.batchSize % t.microBatch !== 0) throw new ConfigError('train.microBatch', `must divide batchSize ${t.batchSize}, got ${t.microBatch}`, source);
  checkIntegerRange('train.warmupSteps', t.warmupSteps, 0, 1e9, source);
  checkIntegerRange('train.cooldownSteps', t.cooldownSteps, 0, t.steps, source);
  checkOptimizerKeys(t, source);
  checkRange('train.emaDecay', t.emaDecay, 0, 0.999999, source);
  checkRange('train.captionDropout', t.captionDropout, 0, 1, source);
  checkLogCadence(c.log, source);
  checkIntegerRange('log.evalImages', c.log.evalImages, 1, 100000, source);
  return c;
}
