import type { Metric } from './metric.js';

/** Align: 100 x cosine(image, prompt) under the evaluation judge (our CLIP score). */
export const align: Metric = {
  name: 'Align',
  column: 'Align',
  record: 'align',
  description: '100 x cosine(image, prompt) under the evaluation judge',
  higherIsBetter: true,
  digits: 2,
  perPrompt: (p) => p.align,
  value: (r) => r.align,
  recordValue: (r) => r.align,
  win: { column: 'Align win %', record: 'align win', score: (p) => p.align },
  inClaims: true,
};
