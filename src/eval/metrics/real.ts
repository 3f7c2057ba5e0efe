import type { Metric } from './metric.js';

/** Real: 100 x P(real) under the realism judge (our aesthetics score). */
export const real: Metric = {
  name: 'Real',
  column: 'Real',
  record: 'real',
  description: '100 x P(real) under the realism judge',
  higherIsBetter: true,
  digits: 1,
  perPrompt: (p) => p.real,
  value: (r) => r.real,
  recordValue: (r) => r.real,
  win: { column: 'Real win %', record: 'real win', score: (p) => p.real },
  inClaims: true,
};
