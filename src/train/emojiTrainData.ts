import type { EmojiT2I } from '../data/emojiDataset.js';
import { loadFolderDataset } from '../data/folderDataset.js';
import { splitHeldout } from '../data/heldoutSplit.js';
import { validationImages } from '../data/validationSet.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import type { PostTrainData } from './postTrain.js';
import { loadPreferencePairs, pairIndexOfId } from '../data/preferencePairs.js';
import type { PostTrainConfig } from './postTrainConfig.js';
import { getMethod } from '../methods/registry.js';

/**
 * The run's data: the winners (of the configured view, of the pair set: all of it for a method
 * that reads pairs, the winners alone for the rest, or of a user's folder), and the probe's
 * images: Emoji-T2I's validation set (what tuning reads), or the folder's held-out share.
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
  const heldout = { name: 'validation', set: validationImages(data), conceptOfId: emojiConceptOfId };
  const readsPairs = getMethod(config.method).data === 'pairs';
  if (readsPairs || view === 'pairs') {
    const pairs = await loadPreferencePairs(config.data.pairs, resolution);
    // A pair's concept is its record's, else each pair is its own concept.
    const conceptOfId = (id: string): string => pairs.records[pairIndexOfId(id)]?.concept ?? id;
    const source = { emojiT2I: data.dir, pairs: config.data.pairs, size: pairs.records.length };
    return { winners: pairs.winners, conceptOfId, ...(readsPairs ? { pairs } : {}), heldout, source };
  }
  const winners = data.view(view);
  return { winners, conceptOfId: emojiConceptOfId, heldout, source: { emojiT2I: data.dir, view, images: winners.size } };
}
