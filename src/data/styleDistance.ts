import type { EmojiT2I } from './emojiDataset.js';

/** How alike two styles draw the same concepts. */
export interface StyleDistance {
  readonly a: string;
  readonly b: string;
  /** Mean |difference| per pixel channel, on the 0-255 scale, over the shared concepts. */
  readonly meanAbsDiff: number;
  /** Concepts both styles draw. */
  readonly concepts: number;
}

/**
 * Mean absolute pixel difference between every pair of the given styles, over the concepts
 * both draw: a plain measure of how independent two designs are (near 0: the same art).
 */
export function styleDistances(data: EmojiT2I, styles: readonly string[]): StyleDistance[] {
  const index = new Map(data.manifest.images.map((img, i) => [img.id, i]));
  const out: StyleDistance[] = [];
  for (let x = 0; x < styles.length; x++) {
    for (let y = x + 1; y < styles.length; y++) {
      const a = styles[x] as string;
      const b = styles[y] as string;
      let sum = 0;
      let count = 0;
      let concepts = 0;
      for (const c of data.manifest.concepts) {
        const ia = index.get(`${a}/${c.key}`);
        const ib = index.get(`${b}/${c.key}`);
        if (ia === undefined || ib === undefined) continue;
        const pa = data.imagePixels(ia);
        const pb = data.imagePixels(ib);
        for (let k = 0; k < pa.length; k++) sum += Math.abs((pa[k] as number) - (pb[k] as number));
        count += pa.length;
        concepts++;
      }
      out.push({ a, b, meanAbsDiff: count > 0 ? sum / count : NaN, concepts });
    }
  }
  return out;
}
