import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../config.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { downgradeContext } from './downgrades/downgradeContext.js';
import { downgradeNames, getDowngrade, isDowngradeName } from './downgrades/registry.js';
import type { Method } from './method.js';

/** Self-DPO (Eq. 9): lambda1·MSE + lambda2·DPO against losers a downgrade makes from the winners (Eq. 8). */
export const selfDpo: Method = {
  name: 'self-dpo',
  label: 'Self-DPO with downgraded losers',
  data: 'winners',
  pairLoss: (settings) => ({ kind: 'selfDpo', beta: settings.loss.beta, lambda1: settings.loss.lambda1, lambda2: settings.loss.lambda2 }),
  losers(settings, inputs) {
    const downgrade = getDowngrade(settings.downgrade);
    const context = downgradeContext(downgrade, inputs.winners, inputs.conceptOfId, inputs.model);
    return (batch, step) => {
      const winners = tf.tensor4d(batch.pixels, batch.shape);
      const made = downgrade.apply({ winners, ids: batch.ids, concepts: batch.ids.map(inputs.conceptOfId), rng: new Rng(deriveSeed(settings.seed, 'downgrade', step)) }, context);
      const out = Float32Array.from(made.losers.dataSync() as Float32Array);
      tf.dispose([winners, made.losers]);
      return out;
    };
  },
  probeDowngrade: (settings) => settings.downgrade,
  check(settings, source) {
    if (!isDowngradeName(settings.downgrade)) throw new ConfigError('downgrade', `must be one of ${downgradeNames().join(', ')} for self-dpo, got "${settings.downgrade}"`, source);
    if (settings.loss.lambda2 === 0) throw new ConfigError('loss.lambda2', 'self-dpo without its DPO term is sft; use the sft method', source);
  },
};
