/**
 * The artwork sets of Emoji-T2I. Generator styles are what the diffusion model is trained
 * on; judge styles are never shown to it and train the evaluation judges, so that a judge
 * cannot reward a generator for copying the exact pixels it saw (docs/PROTOCOL.md, "The world").
 */
export type StyleRole = 'generator' | 'judge';

/** Where the drawings of a style come from. */
export type ArtworkFormat =
  /** An `@iconify-json/*` package: SVG bodies in icons.json, optional chars.json. */
  | 'iconify'
  /** A package folder of raster files named by codepoint sequence (e.g. 1f600.webp). */
  | 'raster-dir';

export interface EmojiStyle {
  /** Short name used in ids and manifests. */
  readonly name: string;
  readonly role: StyleRole;
  /** The npm package the artwork comes from. */
  readonly packageName: string;
  readonly format: ArtworkFormat;
  /** For raster-dir: the folder inside the package. */
  readonly subdir?: string;
  /** Words a caption may carry to name this style (generator styles only). */
  readonly styleWords: string;
  /**
   * The artwork's own licence where the package metadata names another one (for example
   * the licence of the code that ships the drawings), with the reason.
   */
  readonly artworkLicense?: { readonly spdx: string; readonly note: string };
  /** The artists, where the package is a repackaging by someone else. */
  readonly artworkAuthor?: string;
  /**
   * The style whose design this one renders again (Fluent color is the vector twin of Fluent
   * 3D): twins count as one design, so a held-out design is held out in both (heldoutImages.ts).
   */
  readonly designOf?: string;
  /** Drawings left out of this style (concept keys matching `keys`), and why. */
  readonly exclude?: { readonly keys: RegExp; readonly reason: string };
}

/** Country flags (two regional indicators) and subdivision flags (black flag + tag letters). */
export const NATIONAL_FLAG_KEYS = /^(1f1e[6-9a-f]|1f1f[0-9a-f])-(1f1e[6-9a-f]|1f1f[0-9a-f])$|^1f3f4-e00/;

/** Every style, in the fixed order the builder renders them (part of the byte-identity). */
export const EMOJI_STYLES: readonly EmojiStyle[] = [
  { name: 'twemoji', role: 'generator', packageName: '@iconify-json/twemoji', format: 'iconify', styleWords: 'twemoji style' },
  { name: 'noto', role: 'generator', packageName: '@iconify-json/noto', format: 'iconify', styleWords: 'noto style' },
  { name: 'fluent-flat', role: 'generator', packageName: '@iconify-json/fluent-emoji-flat', format: 'iconify', styleWords: 'fluent flat style' },
  { name: 'fluent-color', role: 'generator', packageName: '@iconify-json/fluent-emoji', format: 'iconify', styleWords: 'fluent color style', designOf: 'fluent-3d' },
  {
    name: 'fluent-3d',
    role: 'generator',
    packageName: '@lobehub/fluent-emoji-3d',
    format: 'raster-dir',
    subdir: 'assets',
    styleWords: 'fluent 3d style',
    artworkAuthor: 'Microsoft Corporation (Fluent Emoji 3D), packaged by LobeHub',
    exclude: {
      keys: NATIONAL_FLAG_KEYS,
      reason: 'its country and subdivision flags are not Fluent art (Microsoft publishes no country flags in Fluent Emoji) and their source and licence are unknown',
    },
  },
  { name: 'openmoji', role: 'judge', packageName: '@iconify-json/openmoji', format: 'iconify', styleWords: '' },
  { name: 'emojione', role: 'judge', packageName: '@iconify-json/emojione', format: 'iconify', styleWords: '' },
  { name: 'noto-v1', role: 'judge', packageName: '@iconify-json/noto-v1', format: 'iconify', styleWords: '' },
  { name: 'emojione-v1', role: 'judge', packageName: '@iconify-json/emojione-v1', format: 'iconify', styleWords: '' },
  {
    name: 'fxemoji',
    role: 'judge',
    packageName: '@iconify-json/fxemoji',
    format: 'iconify',
    styleWords: '',
    artworkLicense: {
      spdx: 'CC-BY-4.0',
      note: 'the package metadata says Apache-2.0, which is the licence of the FxEmoji code; its LICENSE.md puts the visual design under CC BY 4.0',
    },
  },
  { name: 'streamline', role: 'judge', packageName: '@iconify-json/streamline-emojis', format: 'iconify', styleWords: '' },
];

/** Look a style up by name, with an error that lists the known ones. */
export function styleByName(name: string): EmojiStyle {
  const style = EMOJI_STYLES.find((s) => s.name === name);
  if (!style) throw new Error(`unknown emoji style "${name}" (known: ${EMOJI_STYLES.map((s) => s.name).join(', ')})`);
  return style;
}
