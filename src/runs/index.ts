export * from './progress.js';
export * from './runFolder.js';
