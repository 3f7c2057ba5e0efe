import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { mergeDeep } from '../config.js';
import { readModelFile } from '../model/modelFile.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { defaultRunDir, postTrain } from '../train/postTrain.js';
import { methodAndDowngrade, methodNames, OPTIMIZERS, readMethodConfig, resolvePostTrainConfig, type PostTrainConfig } from '../train/postTrainConfig.js';
import { numberFlag, stringFlag, type Flag, type ParsedArgs } from '../util/args.js';
import { readJsonFile } from '../util/jsonFile.js';
import { presetMethodConfig } from '../repro/presetMethodConfig.js';
import { REPRO_PRESETS } from '../repro/reproPresets.js';
import { defineCommand } from './command.js';
import { BACKEND, BASE, EMOJI_FLAGS, FORCE, SEED, WORKERS, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';

/** The flags that make a post-training config (post-train's, and tune's for its base setting). */
export const POST_TRAIN_CONFIG_FLAGS = [
  { name: 'method', value: 'NAME', default: 'self-dpo', help: `a method: configs/NAME.json (${methodNames().join('|')})` },
  { name: 'config', value: 'FILE', help: "a config (JSON) over the method's" },
  { ...SEED, help: "the run's seed (config train.seed)" },
  { name: 'steps', value: 'N', help: 'training steps (train.steps)' },
  { name: 'lr', value: 'X', help: 'learning rate (train.lr)' },
  { name: 'beta', value: 'X', help: 'DPO beta (loss.beta)' },
  { name: 'lambda1', value: 'X', help: "weight of the winner's MSE term (loss.lambda1; 0 is the w/o-MSE ablation)" },
  { name: 'lambda2', value: 'X', help: 'weight of the DPO term (loss.lambda2)' },
  { name: 'batch', value: 'N', help: 'pairs per step (train.batchSize)' },
  { name: 'micro-batch', value: 'N', help: 'pairs per gradient pass (train.microBatch)' },
  { name: 'optimizer', value: 'NAME', help: `${OPTIMIZERS.join('|')} (train.optimizer)` },
  { ...BASE, help: 'the base model (default: data/base-s; config base)' },
  { name: 'pairs', value: 'PATH', help: 'train on preference pairs (an Emoji-Pick build, FILE.parquet, a folder of shards, or pairs.jsonl): dpo on its pairs, other methods on its winners' },
  { name: 'data', value: 'DIR', help: 'train on your own folder of images with captions.jsonl' },
] as const satisfies readonly Flag[];

/** Flags that set one config key each (a sweep changes these without writing a file). */
const KEY_FLAGS: Record<'seed' | 'steps' | 'lr' | 'beta' | 'lambda1' | 'lambda2' | 'batch' | 'micro-batch', (c: PostTrainConfig, v: number) => void> = {
  seed: (c, v) => (c.train.seed = v),
  steps: (c, v) => (c.train.steps = v),
  lr: (c, v) => (c.train.lr = v),
  beta: (c, v) => (c.loss.beta = v),
  lambda1: (c, v) => (c.loss.lambda1 = v),
  lambda2: (c, v) => (c.loss.lambda2 = v),
  batch: (c, v) => (c.train.batchSize = v),
  'micro-batch': (c, v) => (c.train.microBatch = v),
};

/**
 * The run's config: configs/<method>.json over the defaults (or `start`, a preset's setting of the
 * method), then --config FILE on top, then the key flags (--seed, --steps, --lr, --beta, ...),
 * --base, --pairs and --data, checked once at the end.
 */
export function postTrainConfigFromArgs(args: ParsedArgs<(typeof POST_TRAIN_CONFIG_FLAGS)[number]['name']>, start?: PostTrainConfig): PostTrainConfig {
  const method = stringFlag(args, 'method') as string;
  let config = start;
  if (!config) {
    const { override, source } = readMethodConfig(method);
    config = resolvePostTrainConfig(override, source);
  }
  const file = args.flags['config'];
  if (typeof file === 'string') config = resolvePostTrainConfig(mergeDeep(config, readJsonFile(file, 'config')), file);
  const copy = structuredClone(config);
  for (const [flag, set] of Object.entries(KEY_FLAGS) as Array<[keyof typeof KEY_FLAGS, (c: PostTrainConfig, v: number) => void]>)
    if (args.flags[flag] !== undefined) set(copy, numberFlag(args, flag, 0));
  if (typeof args.flags['base'] === 'string') copy.base = args.flags['base'];
  if (typeof args.flags['optimizer'] === 'string') copy.train.optimizer = args.flags['optimizer'] as PostTrainConfig['train']['optimizer'];
  // --pairs: train on a pair file: dpo on its pairs, every other method on its winners.
  if (typeof args.flags['pairs'] === 'string') {
    copy.data = { view: 'pairs', pairs: args.flags['pairs'], folder: '' };
    copy.description = `${methodAndDowngrade(copy)} on the pairs of ${args.flags['pairs']}`;
  }
  // --data: train on a user's folder of images with captions.jsonl (1 in 20 held out as the probe).
  if (typeof args.flags['data'] === 'string') {
    copy.data = { view: 'folder', pairs: '', folder: args.flags['data'] };
    copy.description = `${methodAndDowngrade(copy)} on the folder ${args.flags['data']}`;
  }
  return resolvePostTrainConfig(copy, 'flags');
}

export const postTrainCommand = defineCommand({
  name: 'post-train',
  summary: 'post-train a base model with a method of configs/ (SFT, Diffusion-DPO, Self-DPO and its ablations)',
  details:
    "resumable: rerun the same command after a kill. Example: npx selfdpo post-train --method self-dpo-blur --seed 2 --steps 800. With --preset, the method starts from that reproduction's setting on the base --base names (its budget, tuned lr and beta, Emoji-Pick build), and any other flag changes it: npx selfdpo post-train --preset paper --method self-dpo-blur --base data/base-l --seed 4",
  flags: [
    ...POST_TRAIN_CONFIG_FLAGS,
    { name: 'preset', value: 'NAME', help: `start from a reproduction preset's setting of the method on the base --base names (${Object.keys(REPRO_PRESETS).join('|')})` },
    { name: 'out', value: 'DIR', help: 'the run folder (default: runs/train/<method>/seed<N>; with --preset, runs/train/<preset>/<base>/<method>/seed<N>)' },
    FORCE,
    WORKERS,
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    const method = stringFlag(args, 'method') as string;
    const presetName = stringFlag(args, 'preset');
    const baseDir = stringFlag(args, 'base');
    // --seed, like every key flag, is applied over the preset's setting by postTrainConfigFromArgs.
    const fromPreset = presetName === undefined ? undefined : presetMethodConfig(presetName, method, baseDir !== undefined ? { baseDir } : {});
    const config = postTrainConfigFromArgs(args, fromPreset?.config);
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const workers = workersFlag(args, backend.tfBackend);
    const resolution = readModelFile(config.base).file.model.resolution;
    // A user's folder needs no Emoji-T2I (its probe is its own held-out share).
    const data = config.data.view === 'folder' ? undefined : await openEmojiFromFlags(args, resolution);
    const out =
      stringFlag(args, 'out') ?? (fromPreset ? join('runs', 'train', fromPreset.preset.name, fromPreset.base.name, method, `seed${config.train.seed}`) : defaultRunDir(method, config.train.seed));
    const result = await postTrain(config, await emojiTrainData(data, config, resolution), out, {
      force: args.flags['force'] === true,
      workers,
      command: `npm run post-train -- ${argv.join(' ')}`.trim(),
    });
    console.log(`trained ${method} to step ${result.step} in ${result.runDir} (model in ${join(result.runDir, 'model')}, metrics in ${join(result.runDir, 'metrics.jsonl')})`);
  },
});
