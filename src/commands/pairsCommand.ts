import { join } from 'node:path';
import { backendFromEnvAndArgs, initBackend } from '../backend.js';
import { alignScores, embedImages, embedTexts } from '../eval/judgeMetrics.js';
import { loadContrastiveJudge } from '../eval/judgeFile.js';
import { loadModel } from '../model/modelFile.js';
import { startPool } from '../parallel/modelPool.js';
import { emojiConceptOfId } from '../train/downgrades/imagePool.js';
import { buildPreferencePairs, type ImageScorer } from '../train/pairBuilder.js';
import { numberFlag, parseArgs } from '../util/args.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { EMOJI_FLAGS, openEmojiFromFlags } from './emojiFlags.js';
import { generateOptions, SHIPPED_BASE_S, workersFlag } from './sampleCommand.js';

/**
 * Diffusion-DPO's preference pairs (PROTOCOL.md): one curated caption for each of --prompts
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
  // One training caption per concept: a curated image's caption, drawn from the pairs' seed.
  const curated = data.view('curated');
  const firstOf = new Map<string, number>();
  for (let i = 0; i < curated.size; i++) if (!firstOf.has(emojiConceptOfId(curated.id(i)))) firstOf.set(emojiConceptOfId(curated.id(i)), i);
  const concepts = new Rng(deriveSeed(seed, 'pair-concepts')).sample([...firstOf.keys()], Math.min(numberFlag(args, 'prompts', 1000), firstOf.size));
  const prompts = concepts.map((c) => ({ concept: c, prompt: curated.caption(firstOf.get(c) as number, new Rng(deriveSeed(seed, 'pair-caption', c))) }));
  const scorer: ImageScorer = (images, captions) => alignScores(embedImages(judge, images), embedTexts(judge, captions), judge.config.embed);
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
    console.log(`wrote ${report.pairs} pairs (${report.ties} ties dropped) to ${out} in ${report.seconds.total.toFixed(0)} s (sampling ${report.seconds.sampling.toFixed(0)} s, scoring ${report.seconds.scoring.toFixed(0)} s)`);
  } finally {
    await pool?.stop();
    model.params.dispose();
  }
}
