export * from './denoisingGradients.js';
export * from './modelPool.js';
export * from './protocol.js';
export * from './sampleBytes.js';
