import { align } from './align.js';
import { fid } from './fid.js';
import type { Metric } from './metric.js';
import { real } from './real.js';
import { recallAt1, recallAt5 } from './recall.js';

/** The metrics in table order; a new one is one file and one line here. */
const REGISTRY: Metric[] = [align, recallAt1, recallAt5, real, fid];

/** Every registered metric, in table order. */
export function metrics(): readonly Metric[] {
  return REGISTRY;
}

/** Add a metric at run time (a notebook's, a test's), after the others; a taken name is an error. */
export function registerMetric(metric: Metric): void {
  if (REGISTRY.some((m) => m.name === metric.name)) throw new Error(`a metric called '${metric.name}' is already registered`);
  REGISTRY.push(metric);
}
