import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmojiT2I } from '../../src/data/emojiDataset.js';
import { writePickShard, type PickRow } from '../../src/data/pickapic.js';
import type { PickBuildFile, PickSplit } from '../../src/data/pickBuild.js';
import { encodePickJpeg } from '../../src/data/pickJpeg.js';
import { buildEmojiPick, type PickBuildRecord } from '../../src/pick/buildEmojiPick.js';
import { resolveEmojiPickConfig } from '../../src/pick/pickConfig.js';

/**
 * A small Emoji-Pick build in `out`, as `npm run pick` writes it: two generators (both `base`: the
 * images' content does not matter here), 2-step samples, `train` and `validation` pairs.
 */
export function smallEmojiPick(
  data: EmojiT2I,
  out: string,
  opts: { annotator: string; base: string; train?: number; validation?: number; tieMargin?: number; seed?: number; stopAfterShards?: number },
): Promise<PickBuildRecord> {
  const config = resolveEmojiPickConfig({
    seed: opts.seed ?? 0,
    pairs: { train: opts.train ?? 8, validation: opts.validation ?? 4 },
    generators: [
      { name: 'one', model: opts.base },
      { name: 'two', model: opts.base },
    ],
    settings: { steps: [2], guidance: [1, 2] },
    annotator: opts.annotator,
    tieMargin: opts.tieMargin ?? 0.5,
    shardPairs: 4,
  });
  return buildEmojiPick(data, config, out, { workers: 1, backend: 'wasm', quiet: true, ...(opts.stopAfterShards !== undefined ? { stopAfterShards: opts.stopAfterShards } : {}) });
}

/** One row of a hand-made build: its caption, the two images (RGB at 32px) and image 0's label; `unlabelled` leaves has_label false. */
export interface HandRow {
  caption: string;
  images: [Uint8Array, Uint8Array];
  label0: 0 | 0.5 | 1;
  unlabelled?: boolean;
}

/**
 * An Emoji-Pick build with rows chosen by hand (one shard per split), in Pick-a-Pic v2's schema
 * with a build.json as `npm run pick` records it: for checking exactly what trainers read.
 */
export async function handMadeBuild(dir: string, rows: Record<PickSplit, HandRow[]>): Promise<PickBuildFile> {
  const record: PickBuildFile = { format: 'emoji-pick/1', config: { seed: 0, by: 'hand' }, inputs: {}, shards: [], complete: true, commands: [] };
  let index = 0;
  for (const split of ['train', 'validation'] as const) {
    const shard: PickRow[] = [];
    for (const r of rows[split]) {
      const uid = (k: number): string => `uid-${index}-${k}`;
      shard.push({
        are_different: true,
        best_image_uid: r.label0 === 0 ? uid(1) : uid(0),
        caption: r.caption,
        created_at: BigInt(index) * 1_000_000_000n,
        has_label: r.unlabelled !== true,
        image_0_uid: uid(0),
        image_0_url: 'selfdpo://hand',
        image_1_uid: uid(1),
        image_1_url: 'selfdpo://hand',
        jpg_0: await encodePickJpeg(r.images[0], 32, 95),
        jpg_1: await encodePickJpeg(r.images[1], 32, 95),
        label_0: r.label0,
        label_1: 1 - r.label0,
        model_0: 'hand',
        model_1: 'hand',
        ranking_id: BigInt(index),
        user_id: 0n,
        num_example_per_prompt: 1n,
        __index_level_0__: BigInt(index),
      });
      index += 1;
    }
    const file = join(split, `${split}-00000-of-00001.parquet`);
    mkdirSync(join(dir, split), { recursive: true });
    writePickShard(join(dir, file), shard);
    record.shards.push({ split, file, pairs: shard.length, ties: shard.filter((r) => r.label_0 === 0.5).length, seconds: { sampling: 1, scoring: 1, writing: 1 } });
  }
  writeFileSync(join(dir, 'build.json'), `${JSON.stringify(record, null, 1)}\n`);
  return record;
}
