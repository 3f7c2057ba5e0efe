import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { hasSkinTone, normalizeCodepoints, slugName, type EmojiCatalog } from './emojiCatalog.js';
import type { EmojiStyle } from './emojiStyles.js';
import { readJsonFile } from '../util/jsonFile.js';

const requirePkg = createRequire(__filename);

/** One drawing of one concept in one style. */
export interface Artwork {
  /** The icon name or file inside the package (for the data card and debugging). */
  readonly source: string;
  /** SVG text or raster file bytes, ready for sharp. */
  readonly bytes: () => Buffer;
}

/** Licence and provenance of a style's artwork, read from its package. */
export interface ArtworkLicense {
  readonly packageName: string;
  readonly version: string;
  readonly license: string;
  /** Why `license` differs from what the package metadata declares (empty when it does not). */
  readonly licenseNote: string;
  readonly author: string;
  readonly url: string;
}

interface IconifyIcon {
  body: string;
  width?: number;
  height?: number;
  left?: number;
  top?: number;
}
interface IconifyAlias {
  parent: string;
  hFlip?: boolean;
  vFlip?: boolean;
  rotate?: number;
}
interface IconifySet {
  icons: Record<string, IconifyIcon>;
  aliases?: Record<string, IconifyAlias>;
  width?: number;
  height?: number;
  left?: number;
  top?: number;
}
interface IconifyInfo {
  license?: { title?: string; spdx?: string; url?: string };
  author?: { name?: string; url?: string };
}

function packageDir(packageName: string): string {
  return dirname(requirePkg.resolve(`${packageName}/package.json`));
}

/** The installed version of a package. */
export function packageVersion(packageName: string): string {
  return (readJsonFile(join(packageDir(packageName), 'package.json'), 'package.json') as { version: string }).version;
}

/** The licence, author and version a style's package declares. */
export function artworkLicense(style: EmojiStyle): ArtworkLicense {
  const dir = packageDir(style.packageName);
  const pkg = readJsonFile(join(dir, 'package.json'), 'package.json') as {
    version: string;
    license?: string;
    author?: string | { name?: string };
    homepage?: string;
  };
  if (style.format === 'iconify') {
    const info = readJsonFile(join(dir, 'info.json'), 'icon set info') as IconifyInfo;
    return {
      packageName: style.packageName,
      version: pkg.version,
      license: style.artworkLicense?.spdx ?? info.license?.spdx ?? pkg.license ?? 'unknown',
      licenseNote: style.artworkLicense?.note ?? '',
      author: info.author?.name ?? '',
      url: info.author?.url ?? info.license?.url ?? '',
    };
  }
  const author = style.artworkAuthor ?? (typeof pkg.author === 'string' ? pkg.author : (pkg.author?.name ?? ''));
  return {
    packageName: style.packageName,
    version: pkg.version,
    license: style.artworkLicense?.spdx ?? pkg.license ?? 'unknown',
    licenseNote: style.artworkLicense?.note ?? '',
    author,
    url: pkg.homepage ?? '',
  };
}

function iconSvg(set: IconifySet, icon: IconifyIcon): string {
  const w = icon.width ?? set.width ?? 16;
  const h = icon.height ?? set.height ?? 16;
  const left = icon.left ?? set.left ?? 0;
  const top = icon.top ?? set.top ?? 0;
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="${left} ${top} ${w} ${h}" width="${w}" height="${h}">${icon.body}</svg>`;
}

/**
 * Match a style's drawings to catalog concepts. Sets that publish codepoints (chars.json,
 * or raster files named by codepoint) match exactly; the others match by slugged name
 * against CLDR names and shortcodes. Skin-tone variants and non-concepts are dropped.
 * When several icons land on one concept, the exact codepoint match wins, then the first
 * name in sorted order, so the result never depends on file-system order.
 */
export function matchArtwork(style: EmojiStyle, catalog: EmojiCatalog): Map<string, Artwork> {
  const dir = packageDir(style.packageName);
  const found = new Map<string, Artwork>();
  const accept = (key: string, art: Artwork): void => {
    if (hasSkinTone(key) || !catalog.byKey.has(key) || found.has(key) || style.exclude?.keys.test(key)) return;
    found.set(key, art);
  };

  if (style.format === 'raster-dir') {
    const folder = join(dir, style.subdir ?? '.');
    for (const file of readdirSync(folder).sort()) {
      const key = normalizeCodepoints(file.replace(/\.[a-z0-9]+$/i, ''));
      if (!/^[0-9a-f]+(-[0-9a-f]+)*$/.test(key)) continue;
      accept(key, { source: file, bytes: () => readFileSync(join(folder, file)) });
    }
    return found;
  }

  const set = readJsonFile(join(dir, 'icons.json'), 'icon set') as IconifySet;
  let chars: Record<string, string> = {};
  try {
    chars = readJsonFile(join(dir, 'chars.json'), 'icon set characters') as Record<string, string>;
  } catch {
    // Sets without chars.json are matched by name only.
  }
  const resolve = (name: string): IconifyIcon | undefined => {
    const icon = set.icons[name];
    if (icon) return icon;
    const alias = set.aliases?.[name];
    // A flipped or rotated alias is a different drawing; only plain aliases are reused.
    if (!alias || alias.hFlip || alias.vFlip || alias.rotate) return undefined;
    const parent = set.icons[alias.parent];
    return parent ? { ...parent, ...pickSize(alias) } : undefined;
  };
  const artworkOf = (name: string): Artwork | undefined => {
    const icon = resolve(name);
    return icon ? { source: name, bytes: () => Buffer.from(iconSvg(set, icon)) } : undefined;
  };
  for (const [hex, name] of Object.entries(chars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const art = artworkOf(name);
    if (art) accept(normalizeCodepoints(hex), art);
  }
  const names = [...Object.keys(set.icons), ...Object.keys(set.aliases ?? {})].sort();
  for (const name of names) {
    const key = catalog.byName.get(slugName(name));
    const art = key ? artworkOf(name) : undefined;
    if (key && art) accept(key, art);
  }
  return found;
}

function pickSize(alias: IconifyAlias): Partial<IconifyIcon> {
  const a = alias as IconifyAlias & Partial<IconifyIcon>;
  const out: Partial<IconifyIcon> = {};
  if (a.width !== undefined) out.width = a.width;
  if (a.height !== undefined) out.height = a.height;
  return out;
}
