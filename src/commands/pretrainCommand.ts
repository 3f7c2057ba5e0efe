import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { mergeDeep } from '../config.js';
import { concatSets } from '../data/concatSets.js';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { pretrain, type PretrainData } from '../train/pretrain.js';
import { BASE_L_OVERRIDE, resolvePretrainConfig, SMOKE_OVERRIDE, type PretrainConfig } from '../train/pretrainConfig.js';
import { numberFlag, parseArgs } from '../util/args.js';
import { readJsonFile } from '../util/jsonFile.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { workersFlag } from './sampleCommand.js';

/** Named pretraining presets (configs/ holds the same as JSON overrides for reading). */
const PRETRAIN_PRESETS: Record<string, unknown> = {
  'base-s': {},
  'base-l': BASE_L_OVERRIDE,
  smoke: SMOKE_OVERRIDE,
};

/** Training data, vocabulary and held-out probes from an Emoji-T2I build. */
function emojiPretrainData(data: EmojiT2I, config: PretrainConfig): PretrainData {
  const seen = data.manifest.concepts.filter((c) => c.split === 'seen');
  const train = config.data.view === 'web+curated' ? concatSets([data.view('web'), data.view('curated')]) : data.view(config.data.view);
  return {
    train,
    // Every word a training caption can hold: names, groups and all keywords of seen concepts.
    vocabularyTexts: seen.map((c) => [c.name, c.subgroup, c.group, ...c.keywords].join(', ')),
    // Unseen concepts, and seen concepts in their held-out designs (real images no trainer reads).
    heldout: { unseen: data.view('unseen'), seen: data.view('heldout') },
    source: { emojiT2I: data.dir, view: config.data.view, images: train.size, heldoutImages: data.heldoutImages.size },
  };
}

export async function pretrainCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force'], string: ['preset', 'config', 'out', 'steps', 'cooldown', 'workers', 'init-from', 'backend', 'data-root', 'data-config'] });
  const preset = (args.flags['preset'] as string | undefined) ?? 'base-s';
  if (!(preset in PRETRAIN_PRESETS)) throw new Error(`--preset: unknown preset "${preset}" (known: ${Object.keys(PRETRAIN_PRESETS).join(', ')})`);
  let config = resolvePretrainConfig(PRETRAIN_PRESETS[preset], `preset ${preset}`);
  const file = args.flags['config'];
  if (typeof file === 'string') config = resolvePretrainConfig(mergeDeep(PRETRAIN_PRESETS[preset], readJsonFile(file, 'config')), file);
  if (args.flags['steps'] !== undefined) config = { ...config, train: { ...config.train, steps: numberFlag(args, 'steps', config.train.steps) } };
  if (args.flags['cooldown'] !== undefined) config = { ...config, train: { ...config.train, cooldownSteps: numberFlag(args, 'cooldown', 0) } };
  config = resolvePretrainConfig(config, '--steps/--cooldown');
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const workers = workersFlag(args, backend.tfBackend);
  const data = await openEmojiFromFlags(args, config.model.resolution);
  const out = (args.flags['out'] as string | undefined) ?? join('runs', 'pretrain', preset);
  const result = await pretrain(config, emojiPretrainData(data, config), out, {
    force: args.flags['force'] === true,
    workers,
    initFrom: args.flags['init-from'] as string | undefined,
    command: `npm run pretrain -- ${argv.join(' ')}`.trim(),
  });
  console.log(`pretrained to step ${result.step} in ${result.runDir} (EMA model in ${join(result.runDir, 'model')})`);
}
