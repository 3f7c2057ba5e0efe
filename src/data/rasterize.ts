import sharp from 'sharp';

/** Side length at which vector art is drawn before it is shrunk: 4x supersampling at 32. */
const SUPERSAMPLE = 4;

/**
 * Draw one artwork (SVG text or raster bytes) as `size` x `size` RGB on white: aspect kept,
 * centred, transparent parts white. Vector art is drawn large and reduced with a Lanczos
 * filter so thin outlines survive at 32x32 instead of aliasing away.
 */
export async function rasterizeOnWhite(bytes: Buffer, size: number, isSvg: boolean): Promise<Uint8Array> {
  let input = sharp(bytes, { failOn: 'error' });
  if (isSvg) {
    const meta = await sharp(bytes).metadata();
    const side = Math.max(meta.width ?? size, meta.height ?? size);
    // density 72 draws the SVG at its own width; scale it so the long side is SUPERSAMPLE*size.
    input = sharp(bytes, { density: (72 * SUPERSAMPLE * size) / side, failOn: 'error' });
  }
  const { data, info } = await input
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'contain', background: '#ffffff', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new Error(`rasterize: expected ${size}x${size}x3, got ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Encode raw RGB as JPEG at `quality` and decode it again: the web set's compression noise.
 * Chroma is kept at full resolution: 4:2:0 subsampling of a 32x32 image smears colour over
 * 2x2 blocks, far more than the mild noise the web set stands for.
 */
export async function jpegRoundTrip(rgb: Uint8Array, size: number, quality: number): Promise<Uint8Array> {
  const jpeg = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const { data } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Gaussian blur of raw RGB with standard deviation `sigma` pixels. */
export async function gaussianBlur(rgb: Uint8Array, size: number, sigma: number): Promise<Uint8Array> {
  const { data } = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .blur(sigma)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
