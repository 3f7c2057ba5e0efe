import { join } from 'node:path';
import type { EmojiT2I } from '../data/emojiDataset.js';
import { loadFolderDataset } from '../data/folderDataset.js';
import { splitHeldout } from '../data/heldoutSplit.js';
import { validationImages } from '../data/validationSet.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import { isPickBuild, openPickBuild } from '../data/pickBuild.js';
import type { PostTrainData } from './postTrain.js';
import { loadPickPairs, loadPreferencePairs, pairIndexOfId, type PreferencePairSet } from '../data/preferencePairs.js';
import type { PostTrainConfig } from './postTrainConfig.js';
import { getMethod } from '../methods/registry.js';

/** The name of an Emoji-Pick build's validation split in heldout.jsonl. */
export const PICK_VALIDATION = 'emoji-pick-validation';

/** A pair's concept: its record's (the caption, for Parquet), else each pair is its own. */
const conceptOfPair =
  (pairs: PreferencePairSet) =>
  (id: string): string =>
    pairs.records[pairIndexOfId(id)]?.concept ?? id;

/**
 * The run's data: the winners (of the configured view, of the pair set: all of it for a method
 * that reads pairs, the winners alone for the rest, or of a user's folder), and the probe's
 * images: Emoji-T2I's validation set (what tuning reads), or the folder's held-out share.
 *
 * An Emoji-Pick build (the folder `npm run pick` writes) as `data.pairs` is read by split
 * (docs/PROTOCOL.md, "Emoji-Pick"): training reads its train split alone (untied labelled pairs;
 * a tie has no winner), and the probe its validation split: the validation winners with their
 * labelled losers, which a method that trains on ranked pairs is probed on.
 */
export async function emojiTrainData(data: EmojiT2I | undefined, config: PostTrainConfig, resolution: number): Promise<PostTrainData> {
  const view = config.data.view;
  if (view === 'folder') {
    const { set } = await loadFolderDataset(config.data.folder, { resolution });
    const { train, heldout: probe } = splitHeldout(set);
    // A folder has no concepts: each image is its own, so a random-image loser is any other image.
    const own = (id: string): string => id;
    return {
      winners: train,
      conceptOfId: own,
      heldout: { name: 'folder-heldout', set: probe, conceptOfId: own },
      source: { folder: config.data.folder, images: train.size, heldoutImages: probe.size },
    };
  }
  if (!data) throw new Error(`data.view "${view}" reads Emoji-T2I; open it first`);
  const readsPairs = getMethod(config.method).data === 'pairs';
  if (readsPairs || view === 'pairs') {
    const path = config.data.pairs;
    const build = isPickBuild(path) ? openPickBuild(path) : undefined;
    const pairs = build ? await loadPickPairs(build.shards.train, resolution, join(path, 'train')) : await loadPreferencePairs(path, resolution);
    const conceptOfId = conceptOfPair(pairs);
    const source = { emojiT2I: data.dir, pairs: path, size: pairs.records.length, ...(pairs.rows ? { rows: pairs.rows } : {}) };
    const common = { winners: pairs.winners, conceptOfId, ...(readsPairs ? { pairs } : {}) };
    if (!build) return { ...common, heldout: { name: 'validation', set: validationImages(data), conceptOfId: emojiConceptOfId }, source };
    const validation = await loadPickPairs(build.shards.validation, resolution, join(path, 'validation'));
    return {
      ...common,
      heldout: { name: PICK_VALIDATION, set: validation.winners, conceptOfId: conceptOfPair(validation), pairs: validation },
      source: { ...source, emojiPick: { identity: build.identity, split: 'train', heldout: { split: 'validation', size: validation.records.length, rows: validation.rows } } },
    };
  }
  const winners = data.view(view);
  return {
    winners,
    conceptOfId: emojiConceptOfId,
    heldout: { name: 'validation', set: validationImages(data), conceptOfId: emojiConceptOfId },
    source: { emojiT2I: data.dir, view, images: winners.size },
  };
}
