import sharp from 'sharp';
import { decodeImageToRgb } from './preferencePairs.js';

/**
 * An image as Emoji-Pick stores it in `jpg_0`/`jpg_1` (docs/PROTOCOL.md "Emoji-Pick"): JPEG at
 * `quality` with full-resolution chroma (4:4:4; at 32x32, 4:2:0 subsampling smears whole features).
 * The one encoder of the kit's Parquet images, so what a shard holds and what is compared with it
 * cannot drift apart.
 */
export async function encodePickJpeg(rgb: Uint8Array, resolution: number, quality: number): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(rgb, { raw: { width: resolution, height: resolution, channels: 3 } })
      .jpeg({ quality, chromaSubsampling: '4:4:4' })
      .toBuffer(),
  );
}

/**
 * What a reader of an Emoji-Pick shard gets for an image drawn as `rgb`: its stored JPEG, decoded
 * as every trainer decodes `jpg_0`/`jpg_1` (`decodeImageToRgb`). Images that are compared with a
 * pool's (real images under the realism judge, docs/PROTOCOL.md "The judges") go through this, so
 * JPEG artifacts mark neither side.
 */
export async function throughPickJpeg(rgb: Uint8Array, resolution: number, quality: number): Promise<Uint8Array> {
  return decodeImageToRgb(await encodePickJpeg(rgb, resolution, quality), resolution);
}
