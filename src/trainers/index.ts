export * from './config.js';
export * from './methods.js';
export * from './trainer.js';
export * from './stages.js';
export * from './online.js';
export * from './checkpoint.js';
