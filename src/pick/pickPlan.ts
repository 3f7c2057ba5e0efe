import type { EmojiT2I } from '../data/emojiDataset.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import { groupBy } from '../util/groupBy.js';
import { sha256 } from '../util/sha256.js';
import { deriveSeed, Rng, stableHash32 } from '../util/rng.js';
import type { PickSplit } from '../data/pickBuild.js';
import type { EmojiPickConfig } from './pickConfig.js';

/** How one image of a pair is drawn: by which generator (index into the pool), from which seed, with which setting. */
export interface PickDraw {
  generator: number;
  seed: number;
  steps: number;
  guidance: number;
  uid: string;
}

/** One planned pair: its prompt, the prompt's concept, and its two draws. */
export interface PlannedPair {
  caption: string;
  concept: string;
  draws: [PickDraw, PickDraw];
}

/**
 * Every pair of a split, in order, from the config's seed alone: so a resumed or repeated build
 * draws exactly the same images. A prompt is a training caption of a seen concept (the curated
 * view's captions: never an evaluation prompt string); concepts are drawn uniformly, prompts are
 * distinct across both splits, and a prompt's split is a stable hash of its string (1 in 20 goes
 * to validation), so no prompt string is in both.
 */
export function planPairs(data: EmojiT2I, config: EmojiPickConfig): Record<PickSplit, PlannedPair[]> {
  const curated = data.view('curated');
  const imagesOf = groupBy(
    Array.from({ length: curated.size }, (_, i) => i),
    (i) => emojiConceptOfId(curated.id(i)),
  );
  const concepts = [...imagesOf.keys()].sort();
  const out: Record<PickSplit, PlannedPair[]> = { train: [], validation: [] };
  const seen = new Set<string>();
  const rng = new Rng(deriveSeed(config.seed, 'pick-prompts'));
  // Distinct captions run out for no realistic size (each concept has hundreds); the cap turns a bad config into an error, not a hang.
  const maxTries = 50 * (config.pairs.train + config.pairs.validation);
  for (let tries = 0; out.train.length < config.pairs.train || out.validation.length < config.pairs.validation; tries++) {
    if (tries > maxTries)
      throw new Error(`emoji-pick: found only ${out.train.length} + ${out.validation.length} distinct training captions for ${config.pairs.train} + ${config.pairs.validation} pairs`);
    const concept = rng.pick(concepts);
    const image = rng.pick(imagesOf.get(concept) as number[]);
    const caption = curated.caption(image, rng);
    if (seen.has(caption)) continue;
    seen.add(caption);
    const split: PickSplit = stableHash32(`pick-split|${caption}`) % 20 === 0 ? 'validation' : 'train';
    if (out[split].length >= config.pairs[split]) continue;
    const index = out[split].length;
    out[split].push({ caption, concept, draws: [draw(config, split, index, 0), draw(config, split, index, 1)] });
  }
  return out;
}

/** Image k of pair `index`: generator, seed and setting drawn from (seed, split, index, k). */
function draw(config: EmojiPickConfig, split: PickSplit, index: number, k: 0 | 1): PickDraw {
  const rng = new Rng(deriveSeed(config.seed, 'pick-draw', split, index, k));
  const generator = rng.int(config.generators.length);
  const steps = rng.pick(config.settings.steps);
  const guidance = rng.pick(config.settings.guidance);
  const seed = deriveSeed(config.seed, 'pick-image', split, index, k);
  const h = sha256(`${config.seed}|${split}|${index}|${k}`);
  const uid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return { generator, seed, steps, guidance, uid };
}
