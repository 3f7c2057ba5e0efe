export * from './downgrades/index.js';
export * from './dpo.js';
export * from './method.js';
export * from './registry.js';
export * from './selfDpo.js';
export * from './sft.js';
