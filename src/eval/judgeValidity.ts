import * as tf from '@tensorflow/tfjs';
import type { EmojiT2I } from '../data/emojiDataset.js';
import type { ImageTextSet } from '../data/imageTextSet.js';
import { blurImages } from '../methods/downgrades/blur.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import { drawCellSwaps, swapCells } from '../methods/downgrades/randomGrid.js';
import { deriveSeed, Rng } from '../util/rng.js';
import type { ContrastiveJudge } from './contrastiveJudge.js';
import { curatedValImages } from './curatedVal.js';
import { EVAL_SEED } from './evaluate.js';
import { alignScores, conceptRanks, embedImages, embedTexts, realScores, recallAt } from './judgeMetrics.js';
import type { RealismJudge } from './realismJudge.js';
import { bytesToUnit, unitToByteValues } from '../data/pixels.js';

/** One caption per concept, every concept of the build: what R@k ranks among (drawn from EVAL_SEED). */
export function conceptCaptions(data: EmojiT2I): { keys: string[]; captions: string[] } {
  const keys = data.manifest.concepts.map((c) => c.key);
  return { keys, captions: keys.map((k) => data.captionOf(k, deriveSeed(EVAL_SEED, 'concept-caption', k))) };
}

/** Every image of a set, as bytes. */
function allPixels(set: ImageTextSet): Uint8Array[] {
  return Array.from({ length: set.size }, (_, i) => set.pixels(i));
}

export interface ContrastiveValidity {
  /** Zero-shot retrieval of real generator-style images (a style the judge never saw) among all concepts. */
  zeroShot: { images: number; concepts: number; r1: number; r5: number; chanceR5: number };
  /** Share of curated-val concepts whose real image aligns better with its own caption than with another concept's. */
  ownBeatsShuffled: { concepts: number; share: number; meanOwn: number; meanShuffled: number };
}

/** The evaluation (or annotator) judge's validity report (issue: R@5 >= 30%, own > shuffled for >= 90%). */
export function contrastiveValidity(judge: ContrastiveJudge, data: EmojiT2I): ContrastiveValidity {
  const E = judge.config.embed;
  const { keys, captions } = conceptCaptions(data);
  const index = new Map(keys.map((k, i) => [k, i]));
  const generator = [data.view('curated'), data.view('unseen')];
  const images = generator.flatMap(allPixels);
  const own = generator.flatMap((set) => Array.from({ length: set.size }, (_, i) => index.get(emojiConceptOfId(set.id(i))) as number));
  const ranks = conceptRanks(embedImages(judge, images), embedTexts(judge, captions), own, E);
  const val = curatedValImages(data);
  const valImages = embedImages(judge, allPixels(val));
  const valCaptions = Array.from({ length: val.size }, (_, i) => val.caption(i, new Rng(0)));
  // Shuffled: each image against the caption of the next concept in a seeded derangement (a rotation of a shuffle).
  const order = new Rng(deriveSeed(EVAL_SEED, 'shuffle')).shuffle(Array.from({ length: val.size }, (_, i) => i));
  const shuffledCaption = new Array<string>(val.size);
  order.forEach((i, k) => (shuffledCaption[i] = valCaptions[order[(k + 1) % order.length] as number] as string));
  const ownAlign = alignScores(valImages, embedTexts(judge, valCaptions), E);
  const shuffledAlign = alignScores(valImages, embedTexts(judge, shuffledCaption), E);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    zeroShot: { images: images.length, concepts: keys.length, r1: recallAt(ranks, 1), r5: recallAt(ranks, 5), chanceR5: 5 / keys.length },
    ownBeatsShuffled: { concepts: val.size, share: ownAlign.filter((a, i) => a > (shuffledAlign[i] as number)).length / val.size, meanOwn: mean(ownAlign), meanShuffled: mean(shuffledAlign) },
  };
}

/** The realism judge's mean 100·P(real) on real, degraded and generated images: its bias, reported beside Real. */
export function realismValidity(
  judge: RealismJudge,
  heldoutReal: readonly Uint8Array[],
  generatorStyle: readonly Uint8Array[],
  heldoutGenerated: readonly Uint8Array[],
  seed = EVAL_SEED,
): Record<string, number> {
  const R = judge.config.resolution;
  const per = R * R * 3;
  const mean = (xs: number[]): number => (100 * xs.reduce((a, b) => a + b, 0)) / xs.length;
  const degrade = (f: (x: tf.Tensor4D) => tf.Tensor4D): Uint8Array[] => {
    const flat = new Float32Array(generatorStyle.length * per);
    generatorStyle.forEach((img, b) => bytesToUnit(img, flat, b * per));
    const out = tf.tidy(() => tf.cast(unitToByteValues(f(tf.tensor4d(flat, [generatorStyle.length, R, R, 3]))), 'int32'));
    const bytes = Uint8Array.from(out.dataSync() as Int32Array);
    out.dispose();
    return generatorStyle.map((_, b) => bytes.subarray(b * per, (b + 1) * per));
  };
  const rng = new Rng(deriveSeed(seed, 'realism-grid'));
  return {
    heldoutJudgeStyle: mean(realScores(judge, heldoutReal)),
    generatorStyle: mean(realScores(judge, generatorStyle)),
    generatorStyleBlurred: mean(
      realScores(
        judge,
        degrade((x) => blurImages(x)),
      ),
    ),
    generatorStyleGridShuffled: mean(
      realScores(
        judge,
        degrade((x) => swapCells(x, drawCellSwaps(generatorStyle.length, rng))),
      ),
    ),
    heldoutBaseSamples: mean(realScores(judge, heldoutGenerated)),
  };
}
