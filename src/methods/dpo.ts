import { ConfigError } from '../config.js';
import { bytesToUnit } from '../data/pixels.js';
import { pairIndexOfId } from '../data/preferencePairs.js';
import type { Method } from './method.js';

/** Diffusion-DPO (Eq. 7): ranked pairs, the annotator's losing image as the loser. */
export const dpo: Method = {
  name: 'dpo',
  label: 'Diffusion-DPO on ranked pairs',
  data: 'pairs',
  pairLoss: (settings) => ({ kind: 'dpo', beta: settings.loss.beta }),
  losers(_settings, inputs) {
    const pairs = inputs.pairs;
    if (!pairs) throw new Error('dpo needs preference pairs (data.pairs)');
    return (batch) => {
      const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
      const out = new Float32Array(batch.pixels.length);
      batch.ids.forEach((id, b) => bytesToUnit(pairs.loser(pairIndexOfId(id)), out, b * per));
      return out;
    };
  },
  // Only where the held-out set has no labelled pairs (Emoji-T2I's validation set beside a pairs.jsonl).
  probeDowngrade: () => 'randomImage',
  check(settings, source) {
    if (settings.downgrade !== '') throw new ConfigError('downgrade', 'dpo takes its losers from the pairs; set it to ""', source);
    if (settings.pairs === '') throw new ConfigError('data.pairs', 'dpo needs preference pairs (an Emoji-Pick build, Pick-a-Pic v2 Parquet or pairs.jsonl)', source);
  },
};
