export * from './curatedVal.js';
export * from './promptSets.js';
