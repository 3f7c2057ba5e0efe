export * from './args.js';
export * from './atomicDir.js';
export * from './atomicWrite.js';
export * from './mapOrdered.js';
export * from './rng.js';
export * from './sha256.js';
export * from './jsonFile.js';
export * from './machine.js';
