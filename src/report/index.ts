export * from './imageSheet.js';
export * from './lineChart.js';
export * from './renderChart.js';
export * from './sampleGrid.js';
export * from './pretrainReport.js';
