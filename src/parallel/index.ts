export * from './denoisingGradients.js';
export * from './gradientPool.js';
export * from './protocol.js';
