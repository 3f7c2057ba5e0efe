import type { EmojiT2I } from '../data/emojiDataset.js';
import { validationImages } from '../data/validationSet.js';
import { emojiConceptOfId } from '../data/imagePool.js';
import type { TrainData } from './postTrain.js';
import { loadPreferencePairs, pairIndexOfId } from '../data/preferencePairs.js';
import type { TrainConfig } from './trainConfig.js';
import { getMethod } from '../methods/registry.js';

/** The run's data: winners of the configured view (or the pair set), and the validation set for the probe (what tuning reads). */
export async function emojiTrainData(data: EmojiT2I, config: TrainConfig, resolution: number): Promise<TrainData> {
  const heldout = { name: 'validation', set: validationImages(data), conceptOfId: emojiConceptOfId };
  if (getMethod(config.method).data === 'pairs') {
    const pairs = await loadPreferencePairs(config.data.pairs, resolution);
    // A pair's concept is its record's, else each pair is its own concept.
    const conceptOfId = (id: string): string => pairs.records[pairIndexOfId(id)]?.concept ?? id;
    return { winners: pairs.winners, conceptOfId, pairs, heldout, source: { emojiT2I: data.dir, pairs: config.data.pairs, size: pairs.records.length } };
  }
  const winners = data.view(config.data.view);
  return { winners, conceptOfId: emojiConceptOfId, heldout, source: { emojiT2I: data.dir, view: config.data.view, images: winners.size } };
}
