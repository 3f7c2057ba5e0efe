export * from './imageSheet.js';
