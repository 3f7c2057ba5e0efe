export * from './adafactor.js';
export * from './adamw.js';
export * from './ema.js';
export * from './flatAdamW.js';
export * from './gradients.js';
export * from './lrSchedule.js';
export * from './optimizer.js';
export * from './trainState.js';
