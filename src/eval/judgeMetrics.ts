import * as tf from '@tensorflow/tfjs';
import { bytesToUnit } from '../data/pixels.js';
import { throughPickJpeg } from '../data/pickJpeg.js';
import { mapOrdered } from '../util/mapOrdered.js';
import type { ContrastiveJudge } from './contrastiveJudge.js';
import type { RealismJudge } from './realismJudge.js';

/** Images per judge pass. */
const CHUNK = 128;

function toTensor(images: readonly Uint8Array[], R: number): tf.Tensor4D {
  const per = R * R * 3;
  const pixels = new Float32Array(images.length * per);
  images.forEach((img, b) => {
    if (img.length !== per) throw new Error(`judge: an image has ${img.length} bytes, expected ${per} (${R}x${R} RGB)`);
    bytesToUnit(img, pixels, b * per);
  });
  return tf.tensor4d(pixels, [images.length, R, R, 3]);
}

/** Unit image embeddings [N, embed], row-major. */
export function embedImages(judge: ContrastiveJudge, images: readonly Uint8Array[]): Float32Array {
  const E = judge.config.embed;
  const out = new Float32Array(images.length * E);
  for (let s = 0; s < images.length; s += CHUNK) {
    const part = images.slice(s, s + CHUNK);
    const e = tf.tidy(() => judge.imageEmbedding(toTensor(part, judge.config.resolution)));
    out.set(e.dataSync() as Float32Array, s * E);
    e.dispose();
  }
  return out;
}

/** Unit text embeddings [N, embed], row-major. */
export function embedTexts(judge: ContrastiveJudge, captions: readonly string[]): Float32Array {
  const E = judge.config.embed;
  const out = new Float32Array(captions.length * E);
  for (let s = 0; s < captions.length; s += CHUNK) {
    const e = tf.tidy(() => judge.textEmbedding(captions.slice(s, s + CHUNK)));
    out.set(e.dataSync() as Float32Array, s * E);
    e.dispose();
  }
  return out;
}

/** Row i of a against row j of b: the dot product of two unit vectors (cosine). */
export function cosine(a: Float32Array, i: number, b: Float32Array, j: number, E: number): number {
  let s = 0;
  for (let d = 0; d < E; d++) s += (a[i * E + d] as number) * (b[j * E + d] as number);
  return s;
}

/** Align (CLIP score's analog): 100·cosine(image i, caption i) for aligned rows. */
export function alignScores(images: Float32Array, texts: Float32Array, E: number): number[] {
  const n = images.length / E;
  if (texts.length !== images.length) throw new Error(`alignScores: ${n} images but ${texts.length / E} captions`);
  return Array.from({ length: n }, (_, i) => 100 * cosine(images, i, texts, i, E));
}

/**
 * Rank (1 = best) of each image's own concept among all `concepts` rows by cosine, counting
 * ties against it: R@k is the share of images whose rank is at most k.
 */
export function conceptRanks(images: Float32Array, concepts: Float32Array, own: readonly number[], E: number): number[] {
  const C = concepts.length / E;
  return own.map((o, i) => {
    if (!(Number.isInteger(o) && o >= 0 && o < C)) throw new Error(`conceptRanks: concept index ${o} out of range [0, ${C})`);
    const mine = cosine(images, i, concepts, o, E);
    let rank = 1;
    for (let c = 0; c < C; c++) if (c !== o && cosine(images, i, concepts, c, E) >= mine) rank += 1;
    return rank;
  });
}

/** Share of ranks at most k. */
export function recallAt(ranks: readonly number[], k: number): number {
  return ranks.filter((r) => r <= k).length / ranks.length;
}

/**
 * Images as drawn (raw RGB), as the realism judge must be shown them: through Emoji-Pick's JPEG
 * round trip when the judge was trained on a pool's JPEG images (`inputJpegQuality`), else as they
 * are. Images read from a pool's shards have made that trip already and are shown as read.
 */
export async function realismInputs(judge: RealismJudge, images: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const quality = judge.config.inputJpegQuality;
  if (quality === undefined) return [...images];
  return mapOrdered(images, 8, (img) => throughPickJpeg(img, judge.config.resolution, quality));
}

/** P(real) of each image under the realism judge (images as it is shown them: see `realismInputs`). */
export function realScores(judge: RealismJudge, images: readonly Uint8Array[]): number[] {
  const out: number[] = [];
  for (let s = 0; s < images.length; s += CHUNK) {
    const p = tf.tidy(() => judge.probabilityReal(toTensor(images.slice(s, s + CHUNK), judge.config.resolution)));
    out.push(...(p.dataSync() as Float32Array));
    p.dispose();
  }
  return out;
}
