export * from './dpo.js';
export * from './lossTerms.js';
export * from './mse.js';
export * from './selfDpo.js';
