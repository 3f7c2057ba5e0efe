import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { mergeDeep } from '../config.js';
import { readModelFile } from '../model/modelFile.js';
import { emojiTrainData } from '../train/emojiTrainData.js';
import { defaultRunDir, postTrain } from '../train/postTrain.js';
import { methodAndDowngrade, readMethodConfig, resolvePostTrainConfig, type PostTrainConfig } from '../train/postTrainConfig.js';
import { numberFlag, parseArgs, type ParsedArgs } from '../util/args.js';
import { readJsonFile } from '../util/jsonFile.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { workersFlag } from './sampleCommand.js';

/** Flags that set one config key each (a sweep changes these without writing a file). */
const KEY_FLAGS: Record<string, (c: PostTrainConfig, v: number) => void> = {
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
 * The run's config: configs/<method>.json over the defaults, then --config FILE on top, then
 * the key flags (--seed, --steps, --lr, --beta, ...), --base, --pairs and --data, checked once at the end.
 */
export function postTrainConfigFromArgs(args: ParsedArgs): PostTrainConfig {
  const method = (args.flags['method'] as string | undefined) ?? 'self-dpo';
  const { override, source } = readMethodConfig(method);
  let config = resolvePostTrainConfig(override, source);
  const file = args.flags['config'];
  if (typeof file === 'string') config = resolvePostTrainConfig(mergeDeep(config, readJsonFile(file, 'config')), file);
  const copy = structuredClone(config);
  for (const [flag, set] of Object.entries(KEY_FLAGS)) if (args.flags[flag] !== undefined) set(copy, numberFlag(args, flag, 0));
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

export async function postTrainCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force'], string: ['method', 'config', 'out', 'workers', 'backend', 'base', 'optimizer', 'pairs', 'data', ...Object.keys(KEY_FLAGS), ...EMOJI_FLAGS] });
  const config = postTrainConfigFromArgs(args);
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const workers = workersFlag(args, backend.tfBackend);
  const resolution = readModelFile(config.base).file.model.resolution;
  // A user's folder needs no Emoji-T2I (its probe is its own held-out share).
  const data = config.data.view === 'folder' ? undefined : await openEmojiFromFlags(args, resolution);
  const method = (args.flags['method'] as string | undefined) ?? 'self-dpo';
  const out = (args.flags['out'] as string | undefined) ?? defaultRunDir(method, config.train.seed);
  const result = await postTrain(config, await emojiTrainData(data, config, resolution), out, {
    force: args.flags['force'] === true,
    workers,
    command: `npm run post-train -- ${argv.join(' ')}`.trim(),
  });
  console.log(`trained ${method} to step ${result.step} in ${result.runDir} (model in ${join(result.runDir, 'model')}, metrics in ${join(result.runDir, 'metrics.jsonl')})`);
}
