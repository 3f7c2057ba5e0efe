export * from './codeVersion.js';
export * from './queueConnection.js';
export * from './queueJobs.js';
export * from './queueReproduce.js';
export * from './queueStatus.js';
export * from './queueTune.js';
export * from './queueWorker.js';
