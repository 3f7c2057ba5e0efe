export * from './layers.js';
export * from './matMul.js';
export * from './params.js';
export * from './textEncoder.js';
export * from './textToImage.js';
export * from './unet.js';
export * from './modelFile.js';
export * from './weightsFile.js';
