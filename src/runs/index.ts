export * from './progress.js';
export * from './runFolder.js';
export * from './runLock.js';
