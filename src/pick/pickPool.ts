import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPickImages, type PickStoredImage } from '../data/pickapic.js';
import { decodeImageToRgb } from '../data/preferencePairs.js';
import { mapOrdered } from '../util/mapOrdered.js';
import { readJsonFile } from '../util/jsonFile.js';
import { sha256 } from '../util/sha256.js';
import type { PickBuildRecord } from './buildEmojiPick.js';
import type { PickSplit } from './pickPlan.js';

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
 * names the file: a folder without build.json or with another record, fewer than two generators,
 * no validation split, an unfinished build, a listed shard that is missing.
 */
export function openPickPool(dir: string): PickPool {
  const file = join(dir, 'build.json');
  if (!existsSync(file)) throw new Error(`${file} not found: not an Emoji-Pick build (the folder npm run pick writes holds build.json, train/ and validation/)`);
  const record = readJsonFile(file, 'Emoji-Pick build record') as Partial<PickBuildRecord> | null;
  if (typeof record !== 'object' || record === null || record.format !== 'emoji-pick/1') {
    throw new Error(`${file}: not an Emoji-Pick build record (format ${JSON.stringify(record?.format)}, expected "emoji-pick/1")`);
  }
  const generators = record.config?.generators;
  if (!Array.isArray(generators) || generators.some((g) => typeof g?.name !== 'string' || g.name === '')) throw new Error(`${file}: config.generators is not a list of named generators`);
  const names = generators.map((g) => g.name);
  if (names.length < 2) throw new Error(`${file}: ${names.length} generator${names.length === 1 ? '' : 's'} (${names.join(', ')}); a pool needs at least two`);
  const jpegQuality = record.config?.jpegQuality;
  if (!(typeof jpegQuality === 'number' && Number.isInteger(jpegQuality) && jpegQuality >= 1 && jpegQuality <= 100))
    throw new Error(`${file}: config.jpegQuality ${JSON.stringify(jpegQuality)} is not a JPEG quality (1-100)`);
  if (!Array.isArray(record.shards) || typeof record.inputs !== 'object') throw new Error(`${file}: no shards or inputs recorded`);
  const unfinished = record.complete === true ? '' : '; the build is not complete either: finish it with npm run pick';
  const shards = { train: [] as string[], validation: [] as string[] };
  for (const s of record.shards) {
    if (s.split !== 'train' && s.split !== 'validation') throw new Error(`${file}: a shard of split ${JSON.stringify(s.split)}`);
    shards[s.split].push(join(dir, s.file));
  }
  if (shards.validation.length === 0) throw new Error(`${file}: the build has no validation split (no validation shard is recorded)${unfinished}`);
  if (shards.train.length === 0) throw new Error(`${file}: the build has no training split (no train shard is recorded)${unfinished}`);
  if (record.complete !== true) throw new Error(`${file}: the build is not complete (${record.shards.length} shards made); finish it with npm run pick`);
  for (const shard of [...shards.train, ...shards.validation]) if (!existsSync(shard)) throw new Error(`${shard}: listed in ${file} but missing; npm run pick redraws it`);
  for (const split of ['train', 'validation'] as const) shards[split].sort();
  return { dir, generators: names, inputs: record.inputs as PickBuildRecord['inputs'], jpegQuality, shards, identity: sha256(JSON.stringify([record.config, record.inputs])) };
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
