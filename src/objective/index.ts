export * from './denoisingError.js';
export * from './losses/index.js';
export * from './predictionError.js';
export * from './pairErrors.js';
