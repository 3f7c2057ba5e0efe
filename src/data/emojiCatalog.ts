import { createRequire } from 'node:module';
import { readJsonFile } from '../util/jsonFile.js';

const resolvePackage = createRequire(__filename);

/** A JSON file of an installed package, found by module id and read through the one JSON reader (errors name the file). */
const requireJson = (id: string): unknown => readJsonFile(resolvePackage.resolve(id), 'package data');

/** One emoji concept: what every style draws for one codepoint sequence. */
export interface EmojiConcept {
  /** Codepoint sequence, lower-case hex joined by '-', without FE0F/FE0E variation selectors. */
  readonly key: string;
  /** Human form, e.g. "U+1F1ED U+1F1F7". */
  readonly codepoint: string;
  readonly emoji: string;
  /** CLDR short name, e.g. "grinning face". */
  readonly name: string;
  /** CLDR group and subgroup, e.g. "smileys & emotion", "smiling". */
  readonly group: string;
  readonly subgroup: string;
  /** Keyword pool from CLDR tags and emojilib, filtered (see `cleanKeywords`). */
  readonly keywords: readonly string[];
}

/** The concepts, in CLDR order, with the indexes the artwork matcher needs. */
export interface EmojiCatalog {
  readonly concepts: readonly EmojiConcept[];
  readonly byKey: ReadonlyMap<string, EmojiConcept>;
  /** Slugged names and shortcodes -> key, for sets that name icons instead of coding them. */
  readonly byName: ReadonlyMap<string, string>;
}

interface EmojibaseEntry {
  label: string;
  hexcode: string;
  emoji: string;
  group?: number;
  subgroup?: number;
  tags?: string[];
}
interface EmojibaseMessages {
  groups: Array<{ order: number; message: string }>;
  subgroups: Array<{ order: number; message: string }>;
}

const COMPONENT_GROUP = 2;
const SKIN_TONE = /(^|-)1f3f[b-f](-|$)/;

/** Canonical key of a codepoint sequence: lower-case hex, variation selectors dropped. */
export function normalizeCodepoints(hex: string): string {
  return hex
    .toLowerCase()
    .split(/[-_ ]/)
    .filter((cp) => cp !== 'fe0f' && cp !== 'fe0e' && cp !== '')
    .join('-');
}

/** True for sequences that carry a skin-tone modifier (duplicates of a base concept). */
export function hasSkinTone(key: string): boolean {
  return SKIN_TONE.test(key);
}

/** The key of an emoji given as text. */
export function keyOfEmoji(emoji: string): string {
  return normalizeCodepoints([...emoji].map((c) => (c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')).join('-'));
}

/**
 * A name reduced to letters and digits, so that "flag-for-croatia" (EmojiOne),
 * "flag: Croatia" (CLDR) and "flagcroatia" (FxEmoji) meet.
 */
export function slugName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\bflag[ -]for\b/g, 'flag')
    .replace(/[^a-z0-9]/g, '');
}

// Tags that are chatter rather than description; numeric tags are dropped by rule.
const SLANG = new Set([
  'lol',
  'lmao',
  'rofl',
  'omg',
  'wtf',
  'haha',
  'hahaha',
  'hehe',
  'xd',
  'bae',
  'af',
  'smh',
  'tbh',
  'idk',
  'yolo',
  'fml',
  'ftw',
  'irl',
  'brb',
  'bff',
  'ily',
  'jk',
  'happytears',
  'twitter',
  'instagram',
]);

/**
 * Keywords fit for captions: lower-case words or short phrases, no digits, no emoticons,
 * no two-letter codes (country codes such as "hr"), no slang, and nothing the caption
 * already says: no keyword equal to the name, the group or the subgroup (`alsoSaid`),
 * and none whose words all appear in the name ("down-right" of "down-right arrow").
 */
export function cleanKeywords(raw: readonly string[], name: string, alsoSaid: readonly string[] = []): string[] {
  const out: string[] = [];
  const nameWords = new Set(
    name
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean),
  );
  const said = new Set([name, ...alsoSaid].map(slugName));
  for (const tag of raw) {
    const k = tag.toLowerCase().replace(/_/g, ' ').trim();
    if (k.length < 3 || !/^[a-z][a-z '&-]*[a-z]$/.test(k) || SLANG.has(k) || said.has(slugName(k))) continue;
    if (k.split(/[^a-z0-9]+/).every((w) => !w || nameWords.has(w))) continue;
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

function hexToCodepoint(key: string): string {
  return key
    .split('-')
    .map((cp) => `U+${cp.toUpperCase().padStart(4, '0')}`)
    .join(' ');
}

/**
 * Load the CLDR concepts (from emojibase-data) with emojilib keywords. Components
 * (skin-tone swatches, hair parts) and lone regional indicators are not concepts.
 */
export function loadEmojiCatalog(): EmojiCatalog {
  const data = requireJson('emojibase-data/en/data.json') as EmojibaseEntry[];
  const messages = requireJson('emojibase-data/en/messages.json') as EmojibaseMessages;
  const emojilib = requireJson('emojilib') as Record<string, string[]>;
  const groupName = new Map(messages.groups.map((g) => [g.order, g.message]));
  const subgroupName = new Map(messages.subgroups.map((g) => [g.order, g.message]));
  const libByKey = new Map(Object.entries(emojilib).map(([emoji, words]) => [keyOfEmoji(emoji), words]));

  const concepts: EmojiConcept[] = [];
  const byKey = new Map<string, EmojiConcept>();
  for (const e of data) {
    if (e.group === undefined || e.group === COMPONENT_GROUP || e.subgroup === undefined) continue;
    const key = normalizeCodepoints(e.hexcode);
    if (hasSkinTone(key) || byKey.has(key)) continue;
    const group = groupName.get(e.group) ?? '';
    const subgroup = subgroupName.get(e.subgroup) ?? '';
    const concept: EmojiConcept = {
      key,
      codepoint: hexToCodepoint(key),
      emoji: e.emoji,
      name: e.label,
      group,
      subgroup,
      keywords: cleanKeywords([...(e.tags ?? []), ...(libByKey.get(key) ?? []).slice(1)], e.label, [group, subgroup]),
    };
    concepts.push(concept);
    byKey.set(key, concept);
  }

  const byName = new Map<string, string>();
  const addName = (name: string, key: string): void => {
    const slug = slugName(name);
    if (slug && !byName.has(slug)) byName.set(slug, key);
  };
  for (const c of concepts) addName(c.name, c.key);
  // Shortcode vocabularies in order of trust; the first claim on a slug wins.
  for (const vocab of ['cldr', 'emojibase', 'github', 'iamcal', 'joypixels', 'emojibase-legacy']) {
    const codes = requireJson(`emojibase-data/en/shortcodes/${vocab}.json`) as Record<string, string | string[]>;
    for (const [hex, names] of Object.entries(codes)) {
      const key = normalizeCodepoints(hex);
      if (!byKey.has(key)) continue;
      for (const n of ([] as string[]).concat(names)) addName(n, key);
    }
  }
  return { concepts, byKey, byName };
}
