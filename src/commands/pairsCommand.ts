import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { loadContrastiveJudge } from '../eval/judgeFile.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { alignScorer, annotatorPairPrompts } from '../eval/annotatorPairs.js';
import { buildPreferencePairs } from '../train/pairBuilder.js';
import { numberFlag, parseArgs } from '../util/args.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { generateOptions, SHIPPED_BASE_S, workersFlag } from './sampleCommand.js';

/**
 * Diffusion-DPO's preference pairs (docs/PROTOCOL.md): one curated caption for each of --prompts
 * training concepts, two base-model images each, ranked by the annotator judge's Align.
 */
export async function pairsCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { boolean: ['force'], string: ['base', 'judge', 'prompts', 'seed', 'out', 'workers', 'backend', 'steps', 'guidance', 'sampler', 'eta', ...EMOJI_FLAGS] });
  const out = (args.flags['out'] as string | undefined) ?? join('data', 'pairs', 'annotator');
  const judgeDir = (args.flags['judge'] as string | undefined) ?? join('data', 'judges', 'annotator');
  const seed = numberFlag(args, 'seed', 0);
  const backend = await initBackend({ backend: backendFromEnvAndArgs(argv, process.env) });
  const { model, schedule } = loadModel((args.flags['base'] as string | undefined) ?? SHIPPED_BASE_S);
  const data = await openEmojiFromFlags(args, model.config.resolution);
  const { judge, file } = loadContrastiveJudge(judgeDir);
  const prompts = annotatorPairPrompts(data, numberFlag(args, 'prompts', 1000), seed);
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
}
