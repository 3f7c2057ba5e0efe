import { join } from 'node:path';
import { readPickImages, type PickStoredImage } from '../data/pickapic.js';
import { decodeImageToRgb } from '../data/preferencePairs.js';
import { openPickBuild, type PickSplit } from '../data/pickBuild.js';
import { mapOrdered } from '../util/mapOrdered.js';
import type { PickBuildRecord } from './buildEmojiPick.js';

/** An Emoji-Pick build folder as its images' readers see it: checked, with its shards listed by split. */
export interface PickPool {
  dir: string;
  /** The generators' names, in the build's order (the names in `model_0`/`model_1`). */
  generators: string[];
  /** The weight hashes the build was drawn from (build.json `inputs`). */
  inputs: PickBuildRecord['inputs'];
  /** The JPEG quality of the stored images (build.json `config.jpegQuality`). */
  jpegQuality: number;
  /** Each split's shard files, in order. */
  shards: Record<PickSplit, string[]>;
  /** sha256 of build.json's config and inputs, which decide every byte of the shards. */
  identity: string;
}

/**
 * Open an Emoji-Pick build (the folder `npm run pick` writes) for reading its images. Every error
 * names the file: what `openPickBuild` refuses (no build.json, another record, a split without
 * shards, an unfinished build, a missing shard), and fewer than two generators.
 */
export function openPickPool(dir: string): PickPool {
  const build = openPickBuild(dir);
  const file = join(dir, 'build.json');
  const record = build.record as Partial<PickBuildRecord>;
  const generators = record.config?.generators;
  if (!Array.isArray(generators) || generators.some((g) => typeof g?.name !== 'string' || g.name === '')) throw new Error(`${file}: config.generators is not a list of named generators`);
  const names = generators.map((g) => g.name);
  if (names.length < 2) throw new Error(`${file}: ${names.length} generator${names.length === 1 ? '' : 's'} (${names.join(', ')}); a pool needs at least two`);
  const jpegQuality = record.config?.jpegQuality;
  if (!(typeof jpegQuality === 'number' && Number.isInteger(jpegQuality) && jpegQuality >= 1 && jpegQuality <= 100))
    throw new Error(`${file}: config.jpegQuality ${JSON.stringify(jpegQuality)} is not a JPEG quality (1-100)`);
  return { dir, generators: names, inputs: record.inputs as PickBuildRecord['inputs'], jpegQuality, shards: build.shards, identity: build.identity };
}

/**
 * Every stored image of a split (both images of every pair, ties and unlabelled pairs too), by
 * generator in the pool's order. An image whose model the build does not name is an error naming
 * its file, row and column.
 */
export async function poolImagesByGenerator(pool: PickPool, split: PickSplit): Promise<Map<string, PickStoredImage[]>> {
  const by = new Map(pool.generators.map((g) => [g, [] as PickStoredImage[]]));
  for (const file of pool.shards[split]) {
    for (const image of await readPickImages(file)) {
      const list = by.get(image.model);
      if (!list) throw new Error(`${file}: row ${image.row}, column model_${image.column.slice(-1)}: "${image.model}" is not a generator of this build (${pool.generators.join(', ')})`);
      list.push(image);
    }
  }
  return by;
}

/**
 * Stored images decoded to `resolution` x `resolution` RGB exactly as trainers decode `jpg_0`/`jpg_1`
 * (`decodeImageToRgb`); an undecodable one is an error naming its file, row and column.
 */
export function decodePoolImages(images: readonly PickStoredImage[], resolution: number): Promise<Uint8Array[]> {
  return mapOrdered(images, 8, async (image) => {
    try {
      return await decodeImageToRgb(image.bytes, resolution);
    } catch (err) {
      throw new Error(`${image.file}: row ${image.row}, column ${image.column}: not a decodable image: ${(err as Error).message}`);
    }
  });
}
