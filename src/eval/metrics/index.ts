export * from './align.js';
export * from './fid.js';
export * from './metric.js';
export * from './real.js';
export * from './recall.js';
export * from './registry.js';
