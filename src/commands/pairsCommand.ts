import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { loadContrastiveJudge } from '../eval/judgeFile.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { alignScorer, annotatorPairPrompts } from '../eval/annotatorPairs.js';
import { buildPreferencePairs } from '../train/pairBuilder.js';
import { numberFlag, stringFlag } from '../util/args.js';
import { defineCommand } from './command.js';
import { BACKEND, BASE, EMOJI_FLAGS, FORCE, generateOptions, SAMPLING_FLAGS, SEED, WORKERS, workersFlag } from './commonFlags.js';
import { openEmojiFromFlags } from './emojiFlags.js';
import { SHIPPED_BASE_S } from './sampleCommand.js';

/**
 * Diffusion-DPO's preference pairs (docs/PROTOCOL.md): one curated caption for each of
 * --prompt-count training concepts, two base-model images each, ranked by the annotator judge's Align.
 */
export const pairsCommand = defineCommand({
  name: 'pairs',
  summary: "build Diffusion-DPO's preference pairs: two base-model images per training caption, ranked by the annotator judge",
  flags: [
    BASE,
    { name: 'judge', value: 'DIR', default: 'data/judges/annotator', help: 'the annotator judge' },
    { name: 'prompt-count', value: 'N', default: '1000', help: 'training captions, one pair each' },
    { ...SEED, default: '0' },
    { name: 'out', value: 'DIR', default: 'data/pairs/annotator', help: 'the pairs' },
    ...SAMPLING_FLAGS,
    FORCE,
    WORKERS,
    BACKEND,
    ...EMOJI_FLAGS,
  ],
  async run(args, argv) {
    const out = stringFlag(args, 'out') as string;
    const judgeDir = stringFlag(args, 'judge') as string;
    const seed = numberFlag(args, 'seed', 0);
    const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
    const { model, schedule } = loadModel(stringFlag(args, 'base') ?? SHIPPED_BASE_S);
    const data = await openEmojiFromFlags(args, model.config.resolution);
    const { judge, file } = loadContrastiveJudge(judgeDir);
    const prompts = annotatorPairPrompts(data, numberFlag(args, 'prompt-count', 1000), seed);
    const scorer = alignScorer(judge);
    const pool = await startPool(model, schedule, workersFlag(args, backend.tfBackend));
    try {
      const report = await buildPreferencePairs(model, schedule, prompts, scorer, out, {
        seed,
        sampling: generateOptions(args),
        scorerName: `annotator judge ${judgeDir} (${file.weightsManifest.sha256.slice(0, 12)}): Align`,
        pool,
        force: args.flags['force'] === true,
        command: `npm run pairs -- ${argv.join(' ')}`.trim(),
        onProgress: (d, n) => {
          if (d % 100 === 0 || d === n) console.error(`pairs: drew ${d}/${n} images`);
        },
      });
      console.log(
        `wrote ${report.pairs} pairs (${report.ties} ties dropped) to ${out} in ${report.seconds.total.toFixed(0)} s (sampling ${report.seconds.sampling.toFixed(0)} s, scoring ${report.seconds.scoring.toFixed(0)} s)`,
      );
    } finally {
      await pool?.stop();
      model.params.dispose();
    }
  },
});
