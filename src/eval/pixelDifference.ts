/** How far two sets of images (the same prompts and seeds, RGB bytes) lie apart, in byte levels (of 255). */
export interface PixelDifference {
  /** Mean |a - b| over every channel of every pixel. */
  mean: number;
  /** The largest |a - b| of any channel. */
  max: number;
}

/** Compares images[i] with others[i], byte for byte; both lists hold images of the same sizes. */
export function pixelDifference(images: readonly Uint8Array[], others: readonly Uint8Array[]): PixelDifference {
  if (images.length !== others.length) throw new Error(`pixelDifference: ${images.length} images against ${others.length}`);
  let sum = 0;
  let count = 0;
  let max = 0;
  images.forEach((img, i) => {
    const other = others[i] as Uint8Array;
    if (other.length !== img.length) throw new Error(`pixelDifference: image ${i} has ${img.length} bytes against ${other.length}`);
    for (let k = 0; k < img.length; k++) {
      const d = Math.abs((img[k] as number) - (other[k] as number));
      sum += d;
      if (d > max) max = d;
    }
    count += img.length;
  });
  if (count === 0) throw new Error('pixelDifference: no pixels');
  return { mean: sum / count, max };
}
