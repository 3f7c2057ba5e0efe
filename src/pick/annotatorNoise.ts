import type { ImageTextSet } from '../data/imageTextSet.js';
import { throughPickJpeg } from '../data/pickJpeg.js';
import type { ImageScorer } from '../eval/alignScorer.js';
import { Rng } from '../util/rng.js';

/** Median and 95th percentile of |score change|. */
interface Spread {
  median: number;
  p95: number;
}

/**
 * How much the annotator's score moves when the picture does not change for a person: each
 * image of `set` against itself shifted one pixel right (a white column in, the last column
 * out), and against its JPEG round trip at `jpegQuality` (what a trainer reads from the Parquet
 * shards). The tie margin is chosen against this scale: a difference the annotator also makes
 * between two copies of one picture is no preference.
 */
export async function annotatorNoise(score: ImageScorer, set: ImageTextSet, jpegQuality: number): Promise<{ images: number; shift: Spread; jpeg: Spread }> {
  const R = set.resolution;
  const images = Array.from({ length: set.size }, (_, i) => set.pixels(i));
  const captions = Array.from({ length: set.size }, (_, i) => set.caption(i, new Rng(i)));
  const shifted = images.map((rgb) => {
    const out = new Uint8Array(rgb.length).fill(255);
    for (let y = 0; y < R; y++) out.set(rgb.subarray(y * R * 3, (y * R + R - 1) * 3), (y * R + 1) * 3);
    return out;
  });
  const jpegged = await Promise.all(images.map((rgb) => throughPickJpeg(rgb, R, jpegQuality)));
  const base = await score(images, captions, R);
  const spread = async (changed: Uint8Array[]): Promise<Spread> => {
    const after = await score(changed, captions, R);
    const d = after.map((s, i) => Math.abs(s - (base[i] as number))).sort((a, b) => a - b);
    const at = (q: number): number => d[Math.min(d.length - 1, Math.floor(q * d.length))] as number;
    return { median: at(0.5), p95: at(0.95) };
  };
  return { images: images.length, shift: await spread(shifted), jpeg: await spread(jpegged) };
}
