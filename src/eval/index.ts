export * from './curatedVal.js';
