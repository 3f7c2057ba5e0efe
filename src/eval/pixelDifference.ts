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

/** Per pixel, the largest |image - base| of its three channels (RGB bytes in, one byte per pixel out): how far post-training moved that pixel. */
export function pixelChangeMap(image: Uint8Array, base: Uint8Array): Uint8Array {
  if (image.length !== base.length || image.length % 3 !== 0) throw new Error(`pixelChangeMap: ${image.length} bytes against ${base.length}, expected two RGB images of one size`);
  const out = new Uint8Array(image.length / 3);
  for (let p = 0; p < out.length; p++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs((image[3 * p + c] as number) - (base[3 * p + c] as number)));
    out[p] = d;
  }
  return out;
}

/**
 * A change map (`pixelChangeMap`) as an RGB image on the "hot" scale up to `range` byte levels:
 * 0 black, range/3 red, 2·range/3 yellow, `range` and above white.
 */
export function changeImage(change: Uint8Array, range: number): Uint8Array {
  if (!(range > 0)) throw new Error(`changeImage: range must be > 0, got ${range}`);
  const out = new Uint8Array(change.length * 3);
  const level = (x: number): number => Math.round(255 * Math.min(1, Math.max(0, x)));
  change.forEach((d, p) => {
    const t = d / range;
    out[3 * p] = level(3 * t);
    out[3 * p + 1] = level(3 * t - 1);
    out[3 * p + 2] = level(3 * t - 2);
  });
  return out;
}

/**
 * The range a figure's change images share: the 99th percentile of every pixel of `changes`,
 * rounded up to a power of two from 4 to 128, else 255. Most of the changes then lie inside the
 * scale, and a figure that changed little is still drawn bright enough to see where.
 */
export function changeRange(changes: readonly Uint8Array[]): number {
  const counts = new Float64Array(256);
  let n = 0;
  for (const c of changes) {
    for (const d of c) counts[d] = (counts[d] as number) + 1;
    n += c.length;
  }
  if (n === 0) throw new Error('changeRange: no pixels');
  let seen = 0;
  let p99 = 255;
  for (let d = 0; d < 256; d++) {
    seen += counts[d] as number;
    if (seen >= 0.99 * n) {
      p99 = d;
      break;
    }
  }
  for (let r = 4; r <= 128; r *= 2) if (p99 <= r) return r;
  return 255;
}
