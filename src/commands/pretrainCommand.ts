import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { mergeDeep } from '../config.js';
import { concatSets } from '../data/concatSets.js';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { pretrain, type PretrainData } from '../train/pretrain.js';
import { BASE_L_OVERRIDE, resolvePretrainConfig, SMOKE_OVERRIDE, WEAK_OVERRIDE, type PretrainConfig } from '../train/pretrainConfig.js';
import { numberFlag, stringFlag, UsageError } from '../util/args.js';
import { defineCommand } from './command.js';
import { BACKEND, EMOJI_FLAGS, FORCE, WORKERS, workersFlag } from './commonFlags.js';
import { readJsonFile } from '../util/jsonFile.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { loadFolderDataset } from '../data/folderDataset.js';
import { splitHeldout } from '../data/heldoutSplit.js';
import { Rng } from '../util/rng.js';

/** Named pretraining presets: the overrides of pretrainConfig.ts over base-S's config. */
const PRETRAIN_PRESETS: Record<string, unknown> = {
  'base-s': {},
  'base-l': BASE_L_OVERRIDE,
  weak: WEAK_OVERRIDE,
  smoke: SMOKE_OVERRIDE,
};

/** Training data, vocabulary and held-out probes from an Emoji-T2I build. */
function emojiPretrainData(data: EmojiT2I, view: Exclude<PretrainConfig['data']['view'], 'folder'>): PretrainData {
  const seen = data.manifest.concepts.filter((c) => c.split === 'seen');
  const train = view === 'web+curated' ? concatSets([data.view('web'), data.view('curated')]) : data.view(view);
  return {
    train,
    // Every word a training caption can hold: names, groups and all keywords of seen concepts.
    vocabularyTexts: seen.map((c) => [c.name, c.subgroup, c.group, ...c.keywords].join(', ')),
    // Unseen concepts, and seen concepts in their held-out designs (real images no trainer reads).
    heldout: { unseen: data.view('unseen'), seen: data.view('heldout') },
    source: { emojiT2I: data.dir, view, images: train.size, heldoutImages: data.heldoutImages.size },
  };
}

/** Training data, vocabulary (from its own captions) and a held-out probe (1 in 20 of its images) from a user's folder. */
async function folderPretrainData(config: PretrainConfig): Promise<PretrainData> {
  const { set } = await loadFolderDataset(config.data.folder, { resolution: config.model.resolution, onProgress: (d, n) => d === n && console.error(`${config.data.folder}: ${n} images`) });
  const { train, heldout } = splitHeldout(set);
  return {
    train,
    vocabularyTexts: Array.from({ length: train.size }, (_, i) => train.caption(i, new Rng(i))),
    heldout: { heldout },
    source: { folder: config.data.folder, images: train.size, heldoutImages: heldout.size },
  };
}

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  summary: 'pretrain a base model (resumable: rerun the same command after a kill)',
  details: 'example: npx selfdpo pretrain --preset base-l (runs/pretrain/base-l); --steps N continues a finished run longer.',
  flags: [
    { name: 'preset', value: 'NAME', default: 'base-s', help: Object.keys(PRETRAIN_PRESETS).join('|') },
    { name: 'config', value: 'FILE', help: "a config (JSON) over the preset's" },
    { name: 'out', value: 'DIR', help: 'the run folder (default: runs/pretrain/<preset>)' },
    { name: 'steps', value: 'N', help: "training steps (the preset's unless given)" },
    { name: 'cooldown', value: 'N', help: 'the LR falls linearly over the last N steps, to lr/N at the last; allowed on resume before the fall begins' },
    { name: 'init-from', value: 'DIR', help: "start from this model folder's weights (a shipped base) instead of random ones" },
    { name: 'data', value: 'DIR', help: 'pretrain on your own folder of images with captions.jsonl' },
    FORCE,
    WORKERS,
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    const preset = stringFlag(args, 'preset') as string;
    if (!(preset in PRETRAIN_PRESETS)) throw new UsageError(`--preset: unknown preset "${preset}" (known: ${Object.keys(PRETRAIN_PRESETS).join(', ')})`);
    let config = resolvePretrainConfig(PRETRAIN_PRESETS[preset], `preset ${preset}`);
    const file = args.flags['config'];
    if (typeof file === 'string') config = resolvePretrainConfig(mergeDeep(PRETRAIN_PRESETS[preset], readJsonFile(file, 'config')), file);
    if (args.flags['steps'] !== undefined) config = { ...config, train: { ...config.train, steps: numberFlag(args, 'steps', config.train.steps) } };
    if (args.flags['cooldown'] !== undefined) config = { ...config, train: { ...config.train, cooldownSteps: numberFlag(args, 'cooldown', 0) } };
    if (typeof args.flags['data'] === 'string') config = { ...config, data: { view: 'folder', folder: args.flags['data'] } };
    config = resolvePretrainConfig(config, '--steps/--cooldown/--data');
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const workers = workersFlag(args, backend.tfBackend);
    const view = config.data.view;
    const data = view === 'folder' ? await folderPretrainData(config) : emojiPretrainData(await openEmojiFromFlags(args, config.model.resolution), view);
    const out = stringFlag(args, 'out') ?? join('runs', 'pretrain', preset);
    const result = await pretrain(config, data, out, {
      force: args.flags['force'] === true,
      workers,
      initFrom: stringFlag(args, 'init-from'),
      command: `npm run pretrain -- ${argv.join(' ')}`.trim(),
    });
    console.log(`pretrained to step ${result.step} in ${result.runDir} (EMA model in ${join(result.runDir, 'model')})`);
  },
});
