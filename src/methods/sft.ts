import { ConfigError } from '../config.js';
import type { Method } from './method.js';

/** SFT: the MSE on the winners alone; the probe uses the paper's random-image losers as a common yardstick. */
export const sft: Method = {
  name: 'sft',
  label: 'supervised fine-tuning on the winners',
  data: 'winners',
  pairLoss: () => undefined,
  losers: () => undefined,
  probeDowngrade: () => 'randomImage',
  check(settings, source) {
    if (settings.downgrade !== '') throw new ConfigError('downgrade', 'sft makes no losers; set it to ""', source);
  },
};
