// pacer: post-training from rewards and preferences.
export * from './engine/index.js';
export * as models from './models/index.js';
