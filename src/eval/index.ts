export * from './curatedVal.js';
export * from './promptSets.js';
export * from './frechetDistance.js';
export * from './winRate.js';
