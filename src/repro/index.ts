export * from './committedReproduction.js';
export * from './paperClaims.js';
export * from './paperTables.js';
export * from './reproPresets.js';
export * from './reproReport.js';
export * from './reproUnits.js';
export * from './reproduce.js';
export * from './ablationGrid.js';
