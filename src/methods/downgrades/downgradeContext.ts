import * as tf from '@tensorflow/tfjs';
import type { ImageTextSet } from '../../data/imageTextSet.js';
import type { TextToImageModel } from '../../model/textToImage.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { conceptNeighbours } from './conceptNeighbours.js';
import type { Downgrade, DowngradeContext } from './downgrade.js';
import { imagePool, type ImagePool } from '../../data/imagePool.js';

/** Caption draws averaged into each concept's text vector (keywords vary per draw). */
const CAPTION_DRAWS = 4;

/**
 * The context `downgrade` needs over `set`: the image pool, and for `nearestConcept` the
 * nearest-other-concept table under `model`'s frozen text encoder (each concept's vector is
 * the mean pooled output over a few caption draws of its first image). Only what the
 * downgrade needs is built.
 */
export function downgradeContext(downgrade: Downgrade, set: ImageTextSet, conceptOfId: (id: string) => string, model: TextToImageModel): DowngradeContext {
  if (downgrade.needs.length === 0) return {};
  const pool = imagePool(set, conceptOfId);
  if (!downgrade.needs.includes('neighbours')) return { pool };
  return { pool, neighbours: textNeighbours(pool, model) };
}

function textNeighbours(pool: ImagePool, model: TextToImageModel): Map<string, string[]> {
  const keys = pool.concepts;
  const dim = model.config.text.width;
  const vectors = new Float32Array(keys.length * dim);
  const chunk = 64;
  for (let start = 0; start < keys.length; start += chunk) {
    const part = keys.slice(start, start + chunk);
    const captions = part.flatMap((c) => {
      const first = pool.indicesOf(c)[0] as number;
      return Array.from({ length: CAPTION_DRAWS }, (_, d) => pool.set.caption(first, new Rng(deriveSeed(0, 'neighbour-caption', c, d))));
    });
    const mean = tf.tidy(() => tf.mean(tf.reshape(model.encode(captions).pooled, [part.length, CAPTION_DRAWS, dim]), 1));
    vectors.set(mean.dataSync() as Float32Array, start * dim);
    mean.dispose();
  }
  return conceptNeighbours(keys, vectors, dim);
}
