import type { CaptionFields } from './captions.js';
import type { ArtworkLicense } from './emojiArtwork.js';
import type { EmojiDataConfig } from './emojiConfig.js';
import type { StyleRole } from './emojiStyles.js';

/** Concepts the generator trains on ('seen') or never sees ('unseen'). */
export type ConceptSplit = 'seen' | 'unseen';

/** How a web-set caption was written: exact, keywords only, or another concept's. */
export type WebCaptionMode = 'exact' | 'loose' | 'wrong';

/** A style as built: its provenance and how many images it gave. */
export interface ManifestStyle extends ArtworkLicense {
  readonly name: string;
  readonly role: StyleRole;
  readonly styleWords: string;
  readonly images: number;
  /** What the builder leaves out of this style and why ('' when nothing). */
  readonly leftOut: string;
}

export interface ManifestConcept extends CaptionFields {
  readonly key: string;
  readonly codepoint: string;
  readonly emoji: string;
  readonly split: ConceptSplit;
}

/** One clean image: a concept drawn in a style. */
export interface ManifestImage {
  /** `<style>/<concept key>`. */
  readonly id: string;
  readonly concept: string;
  readonly style: string;
  readonly role: StyleRole;
  readonly split: ConceptSplit;
  /** Stable fold 0..9 of (concept, style): later issues carve held-out sets from it. */
  readonly fold: number;
  /** Icon name or file in the source package. */
  readonly source: string;
  readonly shard: number;
  readonly index: number;
}

/** One web-set example: a generator-style image of a seen concept with web-like noise. */
export interface ManifestWebItem {
  /** Index of the clean source in `images`. */
  readonly image: number;
  readonly shard: number;
  readonly index: number;
  readonly captionMode: WebCaptionMode;
  /** The concept whose caption fields the caption is built from (another one when 'wrong'). */
  readonly captionConcept: string;
  readonly jpegQuality: number | null;
  readonly blurSigma: number | null;
}

export interface ManifestShard {
  readonly file: string;
  readonly count: number;
  readonly sha256: string;
}

/** manifest.json of a build: everything but the pixels, which live in the shards. */
export interface EmojiManifest {
  readonly format: 'emoji-t2i/1';
  readonly resolution: number;
  readonly config: EmojiDataConfig;
  /** Versions of the packages the bytes came from (see `emojiSourceVersions`). */
  readonly sources: Readonly<Record<string, string>>;
  readonly styles: readonly ManifestStyle[];
  readonly concepts: readonly ManifestConcept[];
  readonly images: readonly ManifestImage[];
  readonly web: readonly ManifestWebItem[];
  readonly shards: readonly ManifestShard[];
  readonly webShards: readonly ManifestShard[];
}
