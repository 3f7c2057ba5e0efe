import type { Metric } from './metric.js';

/** FID in the evaluation judge's feature space against held-out real images: one number for the set. */
export const fid: Metric = {
  name: 'FID',
  column: 'FID',
  record: 'fid',
  description: "Frechet distance to held-out real images of the prompts' concepts, in the evaluation judge's feature space",
  higherIsBetter: false,
  digits: 3,
  value: (r) => r.fid,
  recordValue: (r) => r.fid,
  inClaims: true,
};
