import { Rng } from '../util/rng.js';
import { buildCaption, type CaptionMode } from './captions.js';
import { readEmojiManifest } from './emojiBuilder.js';
import { evaluationPromptStrings } from './evalPrompts.js';
import { heldoutImageIndices } from './heldoutImages.js';
import type { EmojiManifest, ManifestConcept, ManifestImage } from './emojiManifest.js';
import type { ImageTextSet } from './imageTextSet.js';
import { readShards } from './shards.js';
import { drawTrainingCaption } from './trainingCaptions.js';

/**
 * The parts of Emoji-T2I that experiments train and judge on (docs/PROTOCOL.md):
 * - `web`: generator-style images of seen concepts with web-like noise (pretraining);
 * - `curated`: the same images clean, with accurate captions;
 * - `heldout`: clean generator-style images of seen concepts that no trainer reads (one design
 *   per concept, `heldoutImageIndices`): probes, tuning and FID's references;
 * - `unseen`: generator-style images of unseen concepts (references for evaluation only);
 * - `judge`: judge-style images of every concept (the judges' training data).
 * No view's caption is ever an evaluation prompt string (`drawTrainingCaption`).
 */
export type EmojiView = 'web' | 'curated' | 'heldout' | 'unseen' | 'judge';

export interface ViewOptions {
  /** Append the style's words ("twemoji style") to generator-style captions. Default false. */
  styleWords?: boolean;
}

/** An opened build: manifest plus pixels in memory (about 50 MB at 32x32). */
export class EmojiT2I {
  readonly conceptByKey: ReadonlyMap<string, ManifestConcept>;
  /** Indices into manifest.images of the held-out real images. */
  readonly heldoutImages: ReadonlySet<number>;
  private readonly bytesPerImage: number;
  private reserved: ReadonlySet<string> | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: EmojiManifest,
    private readonly shards: Uint8Array[],
    private readonly webShards: Uint8Array[],
  ) {
    this.bytesPerImage = manifest.resolution * manifest.resolution * 3;
    this.conceptByKey = new Map(manifest.concepts.map((c) => [c.key, c]));
    this.heldoutImages = heldoutImageIndices(manifest);
  }

  /** The evaluation prompt strings of this build, which no view's caption may be. */
  get reservedCaptions(): ReadonlySet<string> {
    this.reserved ??= evaluationPromptStrings(this);
    return this.reserved;
  }

  /** Open the build in `dir`; `verify` re-hashes every shard against the manifest. */
  static open(dir: string, verify = false): EmojiT2I {
    const manifest = readEmojiManifest(dir);
    const bpi = manifest.resolution * manifest.resolution * 3;
    return new EmojiT2I(dir, manifest, readShards(dir, manifest.shards, bpi, verify), readShards(dir, manifest.webShards, bpi, verify));
  }

  get resolution(): number {
    return this.manifest.resolution;
  }

  /** Pixels of `images[i]` (a view into the shard, not a copy). */
  imagePixels(i: number): Uint8Array {
    const img = this.manifest.images[i];
    if (!img) throw new RangeError(`image index ${i} out of range (0..${this.manifest.images.length - 1})`);
    return this.slice(this.shards, img.shard, img.index);
  }

  /** Pixels of `web[i]`. */
  webPixels(i: number): Uint8Array {
    const item = this.manifest.web[i];
    if (!item) throw new RangeError(`web index ${i} out of range (0..${this.manifest.web.length - 1})`);
    return this.slice(this.webShards, item.shard, item.index);
  }

  /** One of the dataset's parts as an ImageTextSet for the loader. */
  view(view: EmojiView, opts: ViewOptions = {}): ImageTextSet {
    const styleWords = new Map(this.manifest.styles.map((s) => [s.name, opts.styleWords ? s.styleWords : '']));
    const caption = (conceptKey: string, rng: Rng, mode: CaptionMode, style: string): string =>
      drawTrainingCaption(this.conceptByKey.get(conceptKey) as ManifestConcept, rng, mode, styleWords.get(style) ?? '', this.reservedCaptions);
    if (view === 'web') {
      const web = this.manifest.web.filter((item) => !this.heldoutImages.has(item.image));
      return {
        resolution: this.resolution,
        size: web.length,
        pixels: (i) => this.slice(this.webShards, web[i].shard, web[i].index),
        caption: (i, rng) => {
          const item = web[i];
          return caption(item.captionConcept, rng, item.captionMode === 'loose' ? 'loose' : 'full', this.manifest.images[item.image].style);
        },
        id: (i) => `web/${this.manifest.images[web[i].image].id}`,
      };
    }
    const keep = (img: ManifestImage, i: number): boolean => {
      if (view === 'judge') return img.role === 'judge';
      if (img.role !== 'generator') return false;
      if (view === 'unseen') return img.split === 'unseen';
      return img.split === 'seen' && this.heldoutImages.has(i) === (view === 'heldout');
    };
    const indices = this.manifest.images.flatMap((img, i) => (keep(img, i) ? [i] : []));
    return {
      resolution: this.resolution,
      size: indices.length,
      pixels: (k) => this.imagePixels(indices[k]),
      caption: (k, rng) => {
        const img = this.manifest.images[indices[k]];
        return caption(img.concept, rng, 'full', img.style);
      },
      id: (k) => this.manifest.images[indices[k]].id,
    };
  }

  /** A caption of a concept with keywords drawn from `seed`: how evaluation prompts are written (never a training caption). */
  captionOf(conceptKey: string, seed = 0): string {
    const concept = this.conceptByKey.get(conceptKey);
    if (!concept) throw new Error(`unknown concept "${conceptKey}"`);
    return buildCaption(concept, new Rng(seed));
  }

  private slice(shards: Uint8Array[], shard: number, index: number): Uint8Array {
    const bytes = shards[shard];
    return bytes.subarray(index * this.bytesPerImage, (index + 1) * this.bytesPerImage);
  }
}
