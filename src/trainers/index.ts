/**
 * pacer/trainers: one typed config per trainer and the loop that runs them.
 *
 * @module pacer/trainers
 */
export * from './config.js';
export * from './loop.js';
export * from './policy.js';
export * from './methods.js';
export * from './offline.js';
export * from './online-methods.js';
export * from './online.js';
export * from './checkpoint.js';
export * from './train.js';
export * from './ppo-control.js';
export * from './parallel.js';
