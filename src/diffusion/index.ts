export * from './forwardNoise.js';
export * from './gaussian.js';
export * from './guidance.js';
export * from './samplers.js';
export * from './schedule.js';
