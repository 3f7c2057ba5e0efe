import type { Rng } from '../util/rng.js';
import { buildCaption, KEYWORDS_PER_CAPTION, type CaptionFields, type CaptionMode } from './captions.js';

/**
 * Every caption `buildCaption` can write for a concept in `mode`, then shorter ones (fewer
 * keywords; for a full caption without keywords, "name, subgroup" and "name"): the
 * alternatives a trainer draws from when its first draw is a reserved string.
 */
export function captionAlternatives(fields: CaptionFields, mode: CaptionMode, styleWords = ''): string[] {
  const out: string[] = [];
  const join = (parts: readonly string[]): string => [...parts, ...(styleWords ? [styleWords] : [])].filter((p) => p.length > 0).join(', ');
  const head = mode === 'full' ? [fields.name, fields.subgroup, fields.group] : [];
  const orderedPicks = (k: number, used: readonly string[]): string[][] =>
    k === 0 ? [[]] : fields.keywords.filter((w) => !used.includes(w)).flatMap((w) => orderedPicks(k - 1, [...used, w]).map((rest) => [w, ...rest]));
  const smallest = mode === 'full' ? 0 : 1;
  for (let k = Math.min(KEYWORDS_PER_CAPTION, fields.keywords.length); k >= smallest; k--) {
    for (const picks of orderedPicks(k, [])) out.push(join([...head, ...picks]));
  }
  if (mode === 'full') out.push(join([fields.name, fields.subgroup]), join([fields.name]));
  else out.push(join([fields.subgroup]));
  return [...new Set(out)];
}

/**
 * A training caption that is never one of the `reserved` strings (the evaluation prompts):
 * `buildCaption`'s draw when it is not reserved (so the stream and every other caption are
 * unchanged), else one of the concept's other captions drawn with the same `rng`.
 * Throws, naming the concept, when every caption it can have is reserved.
 */
export function drawTrainingCaption(fields: CaptionFields, rng: Rng, mode: CaptionMode, styleWords: string, reserved: ReadonlySet<string>): string {
  const caption = buildCaption(fields, rng, mode, styleWords);
  if (!reserved.has(caption)) return caption;
  const free = captionAlternatives(fields, mode, styleWords).filter((c) => !reserved.has(c));
  if (free.length === 0) throw new Error(`every caption of concept "${fields.name}" is an evaluation prompt`);
  return rng.pick(free);
}
