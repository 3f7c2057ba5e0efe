import type { Rng } from '../util/rng.js';

/**
 * What the batch loader trains on: square RGB images (uint8, HWC, no alpha) with a caption
 * each. The Emoji-T2I shards and a user's own folder both provide this, so everything
 * downstream is the same for both.
 */
export interface ImageTextSet {
  /** Side of every image in pixels. */
  readonly resolution: number;
  /** Number of examples. */
  readonly size: number;
  /** The i-th image, `resolution * resolution * 3` bytes, row-major HWC. */
  pixels(i: number): Uint8Array;
  /**
   * The i-th caption. Sets whose captions are drawn (Emoji-T2I re-draws its keywords each
   * epoch) use `rng`; sets with fixed captions ignore it.
   */
  caption(i: number, rng: Rng): string;
  /** A stable identifier of the i-th example (for logs and error messages). */
  id(i: number): string;
}
