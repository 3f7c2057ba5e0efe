/**
 * selfdpo-lab's core, as notebooks import it (from the compiled `dist/index.js`):
 * `const lab = require('../dist/index.js')`.
 */
export * from './backend.js';
export * from './config.js';
export * from './data/index.js';
export * from './diffusion/index.js';
export * from './eval/index.js';
export * from './kernels/index.js';
export * from './methods/index.js';
export * from './model/index.js';
export * from './objective/index.js';
export * from './optim/index.js';
export * from './parallel/index.js';
export * from './queue/index.js';
export * from './report/index.js';
export * from './repro/index.js';
export * from './runs/index.js';
export * from './text/index.js';
export * from './train/index.js';
export * from './util/index.js';
