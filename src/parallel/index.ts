export * from './denoisingGradients.js';
export * from './modelPool.js';
export * from './pairGradients.js';
export * from './protocol.js';
export * from './sampleBytes.js';
export * from './flatParams.js';
export * from './heapGrowth.js';
export * from './withModel.js';
