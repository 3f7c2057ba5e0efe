import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkIntegerRange, checkLogCadence, checkOptimizerKeys, checkRange, ConfigError, mergeDeep, resolveConfig, type DeepPartial } from '../config.js';
import { readJsonFile } from '../util/jsonFile.js';
import type { MethodSettings } from '../methods/method.js';
import { getMethod, registeredMethodNames } from '../methods/registry.js';

export const OPTIMIZERS = ['adamw', 'adafactor'] as const;
const DATA_VIEWS: ReadonlyArray<PostTrainConfig['data']['view']> = ['curated', 'web', 'pairs', 'folder'];
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * One post-training run of a method on a base model: everything that decides its result.
 * The files in configs/ are overrides of POST_TRAIN_DEFAULTS, one per method of the paper.
 */
export interface PostTrainConfig {
  /** One line for tables. */
  description: string;
  /** A registered method (src/methods/registry.ts): sft, dpo, self-dpo. */
  method: string;
  /** Registered downgrade making the losers (Eq. 8) for methods that use one (self-dpo); '' otherwise. */
  downgrade: string;
  loss: {
    /** DPO scale: C = -beta/2 in Eq. 8 (the paper's beta = 5000 for SD latents; re-tuned here). */
    beta: number;
    /** Eq. 9's weights: lambda1 on the winner's MSE (0 = the "w/o MSE" ablation), lambda2 on the DPO term. */
    lambda1: number;
    lambda2: number;
  };
  /** The base model directory (the policy's start and the frozen reference). */
  base: string;
  data: {
    /**
     * Where the winners come from: 'pairs', the winners of `pairs` and their captions (Emoji-Pick,
     * as the paper's SFT and Self-DPO use Pick-a-Pic's preferred images: configs/ for the paper's
     * methods), an Emoji-T2I view, 'curated' (the extra real-image regime) or 'web' (Table 5), or
     * 'folder': a user's folder of images with captions.jsonl (`folder`).
     */
    view: 'curated' | 'web' | 'pairs' | 'folder';
    /** view 'folder': the folder (about 1 in 20 of its images is held out as the probe). */
    folder: string;
    /**
     * The preference pairs: an Emoji-Pick build (its train split trains, its validation split is the
     * probe), Pick-a-Pic v2 Parquet (a file or a folder of shards) or pairs.jsonl. dpo trains on
     * them, other methods on their winners when view is 'pairs'.
     */
    pairs: string;
  };
  train: {
    seed: number;
    steps: number;
    /** Pairs (images for sft) per optimiser step. */
    batchSize: number;
    /** Pairs per forward/backward pass inside each thread; gradients accumulate over them. */
    microBatch: number;
    optimizer: OptimizerName;
    lr: number;
    /** Share of the steps with linear LR warmup, then constant (the paper's 25%). */
    warmupFraction: number;
    weightDecay: number;
    /** AdamW's moments (Adafactor keeps no first moment: the paper's default, ADAFACTOR_DEFAULTS). */
    beta1: number;
    beta2: number;
    epsilon: number;
    /** Global gradient-norm clip (the paper's 1.0; 0 = none). */
    clipNorm: number;
  };
  log: {
    every: number;
    checkpointEvery: number;
    /** Held-out probe (denoising error and implicit accuracy) every N steps, a multiple of checkpointEvery. */
    evalEvery: number;
    /** Pairs in the held-out probe. */
    evalPairs: number;
    /**
     * Validation samples (src/train/validationSamples.ts) at step 0, at the checkpoints on multiples
     * of N and at the last step, into samples/ of the run folder; 0: none.
     */
    sampleEvery: number;
  };
}

/**
 * lr 1e-5 and beta 5000 were chosen by `npm run tune` on curated-val only (results/tuning/):
 * among lr 3e-6..3e-5 and beta 1000..20000, 150 steps of Self-DPO from base-S, they gave the
 * highest curated-val implicit accuracy (0.805) with the winner error unchanged.
 */
export const POST_TRAIN_DEFAULTS: PostTrainConfig = {
  description: 'Self-DPO with random-image losers (the paper default)',
  method: 'self-dpo',
  downgrade: 'randomImage',
  loss: { beta: 5000, lambda1: 0.5, lambda2: 0.5 },
  base: 'data/base-s',
  data: { view: 'curated', pairs: '', folder: '' },
  train: {
    seed: 1,
    steps: 400,
    batchSize: 16,
    microBatch: 16,
    optimizer: 'adamw',
    lr: 1e-5,
    warmupFraction: 0.25,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    clipNorm: 1,
  },
  log: { every: 10, checkpointEvery: 50, evalEvery: 50, evalPairs: 128, sampleEvery: 200 },
};

/** Where the method configs live: the kit's own configs/, wherever the command runs from (src/train or dist/train is two levels down). */
export const CONFIGS_DIR = join(__dirname, '..', '..', 'configs');

/** The method configs in `dir`: file names without .json. */
export function methodNames(dir = CONFIGS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** configs/<method>.json as an override, or an error listing the known methods. */
export function readMethodConfig(method: string, dir = CONFIGS_DIR): { override: DeepPartial<PostTrainConfig>; source: string } {
  const source = join(dir, `${method}.json`);
  if (!existsSync(source)) throw new Error(`unknown method "${method}": no ${source} (known: ${methodNames(dir).join(', ') || 'none'})`);
  return { override: readJsonFile(source, 'method config') as DeepPartial<PostTrainConfig>, source };
}

/**
 * A method's config with changes on top (a notebook's or a preset's), checked: configs/<method>.json
 * over the defaults, then `changes`. Errors name the key and both sources.
 */
export function methodConfig(method: string, changes: DeepPartial<PostTrainConfig> = {}, dir = CONFIGS_DIR): PostTrainConfig {
  const { override, source } = readMethodConfig(method, dir);
  return resolvePostTrainConfig(mergeDeep(override, changes), `${source} with changes`);
}

/** Defaults + override, checked (errors name the key and `source`). */
export function resolvePostTrainConfig(override: unknown = {}, source = 'config'): PostTrainConfig {
  const c = resolveConfig(POST_TRAIN_DEFAULTS, override, source);
  if (!registeredMethodNames().includes(c.method)) throw new ConfigError('method', `must be one of ${registeredMethodNames().join(', ')}, got "${c.method}"`, source);
  getMethod(c.method).check(methodSettings(c), source);
  if (!DATA_VIEWS.includes(c.data.view)) throw new ConfigError('data.view', `must be one of ${DATA_VIEWS.join(', ')}, got "${c.data.view}"`, source);
  if (c.data.view === 'pairs' && c.data.pairs === '') throw new ConfigError('data.pairs', 'must name a pair file when data.view is "pairs"', source);
  if ((c.data.view === 'folder') !== (c.data.folder !== '')) throw new ConfigError('data.folder', 'names the folder exactly when data.view is "folder"', source);
  if (c.data.view === 'folder' && getMethod(c.method).data === 'pairs') throw new ConfigError('data.view', `${c.method} trains on preference pairs (data.pairs), not a folder of images`, source);
  if (getMethod(c.method).data === 'winners' && c.data.pairs !== '' && c.data.view !== 'pairs') {
    throw new ConfigError('data.pairs', `${c.method} trains on winners: set data.view to "pairs" to train on this file's winners, or data.pairs to ""`, source);
  }
  if (!(c.loss.beta > 0)) throw new ConfigError('loss.beta', `must be > 0, got ${c.loss.beta}`, source);
  checkRange('loss.lambda1', c.loss.lambda1, 0, 1e6, source);
  checkRange('loss.lambda2', c.loss.lambda2, 0, 1e6, source);
  const t = c.train;
  checkIntegerRange('train.seed', t.seed, 0, 2 ** 31, source);
  checkIntegerRange('train.steps', t.steps, 1, 1e9, source);
  checkIntegerRange('train.batchSize', t.batchSize, 1, 4096, source);
  checkIntegerRange('train.microBatch', t.microBatch, 1, t.batchSize, source);
  if (!(OPTIMIZERS as readonly string[]).includes(t.optimizer)) throw new ConfigError('train.optimizer', `must be one of ${OPTIMIZERS.join(', ')}, got "${t.optimizer}"`, source);
  checkRange('train.warmupFraction', t.warmupFraction, 0, 1, source);
  checkOptimizerKeys(t, source);
  checkLogCadence(c.log, source);
  checkIntegerRange('log.sampleEvery', c.log.sampleEvery, 0, 1e9, source);
  checkIntegerRange('log.evalPairs', c.log.evalPairs, 1, 100000, source);
  return c;
}

/** The method and its downgrade, as run logs and descriptions name them: "self-dpo (blur)". */
export function methodAndDowngrade(c: Pick<PostTrainConfig, 'method' | 'downgrade'>): string {
  return c.downgrade ? `${c.method} (${c.downgrade})` : c.method;
}

/** What the config's method reads of it. */
export function methodSettings(c: PostTrainConfig): MethodSettings {
  return { downgrade: c.downgrade, loss: c.loss, pairs: c.data.pairs, seed: c.train.seed };
}
