import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { mergeDeep } from '../config.js';
import { alignScorer } from '../eval/alignScorer.js';
import { evaluate } from '../eval/evaluate.js';
import { loadContrastiveJudge } from '../eval/judgeFile.js';
import { validationImages } from '../data/validationSet.js';
import { annotatorNoise } from '../pick/annotatorNoise.js';
import { loadEvalContext } from '../eval/evalContext.js';
import { readPromptSet } from '../eval/promptSets.js';
import { samplingLabel } from '../model/generate.js';
import { withModel } from '../parallel/withModel.js';
import { buildEmojiPick } from '../pick/buildEmojiPick.js';
import { writeEmojiPickCard, type GeneratorStrength } from '../pick/pickCard.js';
import { resolveEmojiPickConfig, type EmojiPickConfig } from '../pick/pickConfig.js';
import { formatDuration } from '../runs/progress.js';
import { numberFlag, stringFlag, type Flag, type ParsedArgs } from '../util/args.js';
import { readJsonFile } from '../util/jsonFile.js';
import { defineCommand } from './command.js';
import { EVALUATION_FLAGS, generateOptions, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { EMOJI_PICK_DIR } from '../repro/reproPresets.js';

/** The prompts each generator's strength is measured on (drawn with the sampling flags, DEFAULT_SAMPLING unless told). */
const STRENGTH = { promptSet: 'curated-val', prompts: 200 };

const PICK_FLAGS = [
  { name: 'config', value: 'FILE', help: 'an Emoji-Pick config (JSON) over the defaults' },
  { name: 'train', value: 'N', help: 'training pairs (config pairs.train)' },
  { name: 'validation', value: 'N', help: 'validation pairs (config pairs.validation)' },
  { name: 'generators', value: 'N=DIR,..', help: 'the pool: "weak=data/weak,base-S=data/base-s,base-L=data/base-l" (config generators)' },
  { name: 'out', value: 'DIR', default: EMOJI_PICK_DIR, help: 'the build' },
  ...EVALUATION_FLAGS,
] as const satisfies readonly Flag[];

/** The build's config: the defaults, then --config FILE, then --train/--validation/--generators. */
function pickConfigFromArgs(args: ParsedArgs<(typeof PICK_FLAGS)[number]['name']>): EmojiPickConfig {
  const file = args.flags['config'];
  let override: Record<string, unknown> = typeof file === 'string' ? (readJsonFile(file, 'Emoji-Pick config') as Record<string, unknown>) : {};
  const pairs: Record<string, number> = {};
  if (args.flags['train'] !== undefined) pairs['train'] = numberFlag(args, 'train', 0);
  if (args.flags['validation'] !== undefined) pairs['validation'] = numberFlag(args, 'validation', 0);
  if (Object.keys(pairs).length > 0) override = mergeDeep(override, { pairs }) as Record<string, unknown>;
  const generators = args.flags['generators'];
  if (typeof generators === 'string') {
    override = {
      ...override,
      generators: generators.split(',').map((entry) => {
        const eq = entry.indexOf('=');
        if (eq <= 0 || eq === entry.length - 1) throw new Error(`--generators: expected name=model_dir[,name=model_dir...], got "${entry}"`);
        return { name: entry.slice(0, eq), model: entry.slice(eq + 1) };
      }),
    };
  }
  return resolveEmojiPickConfig(override, typeof file === 'string' ? file : 'flags');
}

/**
 * `npm run pick`: build Emoji-Pick (resumable), then measure each generator's strength under the
 * evaluation judges and write the card.
 */
export const pickCommand = defineCommand({
  name: 'pick',
  summary: 'build Emoji-Pick, the Pick-a-Pic v2 analog, into data/emoji-pick (resumable), and its card',
  details: "the sampling flags set how each generator's strength is measured on curated-val for the card; the pool's own sampler is the config's settings.sampler.",
  flags: PICK_FLAGS,
  async run(args, argv) {
    const config = pickConfigFromArgs(args);
    const sampling = generateOptions(args);
    const out = stringFlag(args, 'out') as string;
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const workers = workersFlag(args, backend.tfBackend);
    const data = await openEmojiFromFlags(args);
    const started = Date.now();
    const record = await buildEmojiPick(data, config, out, { workers, backend: backend.name, force: args.flags['force'] === true, command: `npm run pick -- ${argv.join(' ')}`.trim() });
    if (!record.complete) return;
    const { context, hashes } = loadEvalContext(data, stringFlag(args, 'judges') as string);
    const annotator = loadContrastiveJudge(config.annotator).judge;
    try {
      const prompts = readPromptSet(STRENGTH.promptSet).slice(0, STRENGTH.prompts);
      const strength: GeneratorStrength[] = [];
      for (const g of config.generators) {
        const r = await withModel(g.model, workers, ({ model, schedule, file }, pool) =>
          evaluate(model, schedule, { dir: g.model, sha256: file.weightsManifest.sha256 }, STRENGTH.promptSet, prompts, context, hashes, {
            sampling,
            cacheDir: stringFlag(args, 'cache') as string,
            ...(pool ? { pool } : {}),
          }),
        );
        strength.push({
          name: g.name,
          r5: 100 * r.r5,
          real: r.real,
          align: r.align,
          prompts: prompts.length,
          promptSet: STRENGTH.promptSet,
          sampling: samplingLabel(sampling),
        });
      }
      const noise = await annotatorNoise(alignScorer(annotator), validationImages(data), config.jpegQuality);
      await writeEmojiPickCard(out, record, { strength, judges: hashes, noise }, data.resolution);
    } finally {
      annotator.params.dispose();
      context.contrastive.params.dispose();
      context.realism.params.dispose();
    }
    console.log(`Emoji-Pick in ${out}: ${record.shards.reduce((n, s) => n + s.pairs, 0)} pairs; card in ${join(out, 'README.md')} (this run ${formatDuration((Date.now() - started) / 1000)})`);
  },
});
