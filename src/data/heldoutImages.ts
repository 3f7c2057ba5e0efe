import { stableHash32 } from '../util/rng.js';
import type { EmojiManifest } from './emojiManifest.js';
import { EMOJI_STYLES } from './emojiStyles.js';

/** A seen concept gives a design to the held-out split only when at least this many designs draw it, so training keeps two. */
export const MIN_DESIGNS_FOR_HELDOUT = 3;

/** The design a style draws: its own, or the one it renders again (Fluent color is Fluent 3D's vector twin). */
function designOf(style: string): string {
  return EMOJI_STYLES.find((s) => s.name === style)?.designOf ?? style;
}

/**
 * The held-out real images (docs/PROTOCOL.md, "Held out means held out"): for every seen
 * concept drawn by at least MIN_DESIGNS_FOR_HELDOUT generator designs, one design chosen by a
 * stable hash of (concept, design), with every image of it (both twins when the design has
 * two renderings). No trainer reads them: the web and curated views leave them out; the
 * post-training probe, tuning and FID's references read them through the 'heldout' view.
 * A pure function of the manifest, so a build's bytes do not change.
 * Returns indices into `manifest.images`.
 */
export function heldoutImageIndices(manifest: EmojiManifest): Set<number> {
  const byConcept = new Map<string, Map<string, number[]>>();
  manifest.images.forEach((img, i) => {
    if (img.role !== 'generator' || img.split !== 'seen') return;
    const designs = byConcept.get(img.concept) ?? new Map<string, number[]>();
    const design = designOf(img.style);
    designs.set(design, [...(designs.get(design) ?? []), i]);
    byConcept.set(img.concept, designs);
  });
  const heldout = new Set<number>();
  for (const [concept, designs] of byConcept) {
    if (designs.size < MIN_DESIGNS_FOR_HELDOUT) continue;
    const rank = (design: string): number => stableHash32(`heldout|${concept}|${design}`);
    const chosen = [...designs.keys()].reduce((a, b) => (rank(b) < rank(a) ? b : a));
    for (const i of designs.get(chosen) as number[]) heldout.add(i);
  }
  return heldout;
}
