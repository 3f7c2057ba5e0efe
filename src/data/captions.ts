import type { Rng } from '../util/rng.js';

/** The caption fields of a concept (as stored in the manifest). */
export interface CaptionFields {
  readonly name: string;
  readonly subgroup: string;
  readonly group: string;
  readonly keywords: readonly string[];
}

/** How a caption is written: the web set's loose captions carry keywords only. */
export type CaptionMode = 'full' | 'loose';

/** Keywords per caption (docs/PROTOCOL.md: "<name>, <subgroup>, <group>, <k1>, <k2>, <k3>"). */
export const KEYWORDS_PER_CAPTION = 3;

/**
 * A caption for one example. Keywords are drawn afresh from the concept's pool with `rng`
 * (the loader re-seeds it each epoch), so the model sees a concept under varied words.
 * `styleWords` ("twemoji style") is appended for generator styles when asked; judge
 * styles never carry one.
 */
export function buildCaption(fields: CaptionFields, rng: Rng, mode: CaptionMode = 'full', styleWords = ''): string {
  const keywords = rng.sample(fields.keywords, KEYWORDS_PER_CAPTION);
  const parts = mode === 'loose' ? (keywords.length > 0 ? keywords : [fields.subgroup]) : [fields.name, fields.subgroup, fields.group, ...keywords];
  if (styleWords) parts.push(styleWords);
  return parts.filter((p) => p.length > 0).join(', ');
}
