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
import { alignScores, conceptRanks, embedImages, embedTexts, realismInputs, realScores, recallAt } from './judgeMetrics.js';
import { bootstrapMean } from './winRate.js';
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

/** Real generator-style images blurred (x4 down and up) and grid-shuffled (two cells swapped): what the realism judge should and should not mind. */
function degradedGeneratorStyle(generatorStyle: readonly Uint8Array[], R: number, seed: number): { blurred: Uint8Array[]; gridShuffled: Uint8Array[] } {
  const per = R * R * 3;
  const degrade = (f: (x: tf.Tensor4D) => tf.Tensor4D): Uint8Array[] => {
    const flat = new Float32Array(generatorStyle.length * per);
    generatorStyle.forEach((img, b) => bytesToUnit(img, flat, b * per));
    const out = tf.tidy(() => tf.cast(unitToByteValues(f(tf.tensor4d(flat, [generatorStyle.length, R, R, 3]))), 'int32'));
    const bytes = Uint8Array.from(out.dataSync() as Int32Array);
    out.dispose();
    return generatorStyle.map((_, b) => bytes.subarray(b * per, (b + 1) * per));
  };
  const rng = new Rng(deriveSeed(seed, 'realism-grid'));
  return { blurred: degrade((x) => blurImages(x)), gridShuffled: degrade((x) => swapCells(x, drawCellSwaps(generatorStyle.length, rng))) };
}

/** The realism judge's mean 100·P(real) on real, degraded and generated images: its bias, reported beside Real. */
export function realismValidity(
  judge: RealismJudge,
  heldoutReal: readonly Uint8Array[],
  generatorStyle: readonly Uint8Array[],
  heldoutGenerated: readonly Uint8Array[],
  seed = EVAL_SEED,
): Record<string, number> {
  const mean = (xs: number[]): number => (100 * xs.reduce((a, b) => a + b, 0)) / xs.length;
  const { blurred, gridShuffled } = degradedGeneratorStyle(generatorStyle, judge.config.resolution, seed);
  return {
    heldoutJudgeStyle: mean(realScores(judge, heldoutReal)),
    generatorStyle: mean(realScores(judge, generatorStyle)),
    generatorStyleBlurred: mean(realScores(judge, blurred)),
    generatorStyleGridShuffled: mean(realScores(judge, gridShuffled)),
    heldoutBaseSamples: mean(realScores(judge, heldoutGenerated)),
  };
}

/** Mean 100·P(real) over a set of images, with its 95% percentile-bootstrap interval over the images. */
export interface RealScore {
  images: number;
  mean: number;
  low: number;
  high: number;
}

/** A pool-trained realism judge's scores on images it never trained on (docs/PROTOCOL.md "The judges"). */
export interface PoolRealismScores {
  /** Held-out real judge-style images. */
  heldoutReal: RealScore;
  /** Each generator's images from the pool's validation split, in the pool's order of generators. */
  byGenerator: Record<string, RealScore>;
  /** Real generator-style images (styles it never saw), and the same blurred and grid-shuffled: its bias. */
  generatorStyle: RealScore;
  generatorStyleBlurred: RealScore;
  generatorStyleGridShuffled: RealScore;
}

/**
 * The held-out report of a realism judge trained against an Emoji-Pick pool. `heldoutReal` and
 * `generatorStyle` are images as drawn and go through the judge's input path (`realismInputs`)
 * after any degradation; `byGenerator` holds images as read from the pool's validation shards,
 * which have been through it already.
 */
export async function poolRealismValidity(
  judge: RealismJudge,
  heldoutReal: readonly Uint8Array[],
  generatorStyle: readonly Uint8Array[],
  byGenerator: ReadonlyMap<string, readonly Uint8Array[]>,
  seed = EVAL_SEED,
): Promise<PoolRealismScores> {
  const score = (name: string, images: readonly Uint8Array[]): RealScore => {
    if (images.length === 0) throw new Error(`poolRealismValidity: no images for ${name}`);
    const { mean, low, high } = bootstrapMean(
      realScores(judge, images).map((p) => 100 * p),
      2000,
      deriveSeed(seed, 'realism-interval', name),
    );
    return { images: images.length, mean, low, high };
  };
  const { blurred, gridShuffled } = degradedGeneratorStyle(generatorStyle, judge.config.resolution, seed);
  return {
    heldoutReal: score('heldoutReal', await realismInputs(judge, heldoutReal)),
    byGenerator: Object.fromEntries([...byGenerator].map(([name, images]) => [name, score(`generator ${name}`, images)])),
    generatorStyle: score('generatorStyle', await realismInputs(judge, generatorStyle)),
    generatorStyleBlurred: score('generatorStyleBlurred', await realismInputs(judge, blurred)),
    generatorStyleGridShuffled: score('generatorStyleGridShuffled', await realismInputs(judge, gridShuffled)),
  };
}
