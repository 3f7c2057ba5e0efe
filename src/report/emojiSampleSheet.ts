import { renderImageSheet } from './imageSheet.js';
import type { EmojiT2I } from '../data/emojiDataset.js';

/**
 * Concepts for a sample sheet: one from each CLDR group in turn, preferring the concepts
 * drawn by the most styles, so the sheet shows every style on the same concepts.
 */
export function sampleSheetConcepts(data: EmojiT2I, count: number): string[] {
  const stylesPerConcept = new Map<string, number>();
  for (const img of data.manifest.images) stylesPerConcept.set(img.concept, (stylesPerConcept.get(img.concept) ?? 0) + 1);
  const byGroup = new Map<string, string[]>();
  for (const c of data.manifest.concepts) {
    if (c.split !== 'seen') continue;
    const list = byGroup.get(c.group) ?? [];
    list.push(c.key);
    byGroup.set(c.group, list);
  }
  for (const list of byGroup.values()) list.sort((a, b) => (stylesPerConcept.get(b) ?? 0) - (stylesPerConcept.get(a) ?? 0));
  const groups = [...byGroup.values()];
  const chosen: string[] = [];
  for (let round = 0; chosen.length < count && groups.some((g) => g.length > round); round++) {
    for (const g of groups) {
      const key = g[round];
      if (key !== undefined && chosen.length < count) chosen.push(key);
    }
  }
  return chosen;
}

/** A PNG with one row per style and one column per concept, captions beside them. */
export async function renderEmojiSampleSheet(data: EmojiT2I, conceptCount = 10): Promise<Buffer> {
  const concepts = sampleSheetConcepts(data, conceptCount);
  const index = new Map(data.manifest.images.map((img, i) => [img.id, i]));
  const cells = data.manifest.styles.map((style) =>
    concepts.map((key) => {
      const i = index.get(`${style.name}/${key}`);
      return i === undefined ? null : data.imagePixels(i);
    }),
  );
  return renderImageSheet({
    resolution: data.resolution,
    title: `Emoji-T2I at ${data.resolution}x${data.resolution}: one row per style, same concepts (blank: the style has no drawing)`,
    rowLabels: data.manifest.styles.map((s) => `${s.name} (${s.role})`),
    columnLabels: concepts.map((key, k) => `${k + 1}. ${data.conceptByKey.get(key)?.name ?? key}`),
    cells,
    footer: concepts.map((key, k) => `${k + 1}. ${data.captionOf(key, k)}`),
  });
}
