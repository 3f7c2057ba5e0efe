import type { Metric } from './metric.js';

/** R@1: the share of prompts whose image retrieves its own concept first among all concepts. */
export const recallAt1: Metric = {
  name: 'R@1',
  column: 'R@1 %',
  record: 'r1',
  description: '% of images whose own concept ranks first among all concepts under the evaluation judge',
  higherIsBetter: true,
  digits: 1,
  perPrompt: (p) => (p.rank === 1 ? 100 : 0),
  value: (r) => 100 * r.r1,
  recordValue: (r) => r.r1,
  inClaims: true,
};

/** R@5, and the win rate of the concept's rank (lower wins): a finer per-prompt comparison than a hit. */
export const recallAt5: Metric = {
  name: 'R@5',
  column: 'R@5 %',
  record: 'r5',
  description: '% of images whose own concept ranks in the top 5 among all concepts',
  higherIsBetter: true,
  digits: 1,
  perPrompt: (p) => (p.rank <= 5 ? 100 : 0),
  value: (r) => 100 * r.r5,
  recordValue: (r) => r.r5,
  win: { column: 'rank win %', record: 'rank win', score: (p) => -p.rank },
  inClaims: false,
};
