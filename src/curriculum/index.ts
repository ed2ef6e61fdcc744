// pacer/curriculum: online samplers (uniform, staged, SEC, DUMP, AdaRFT, balanced, VCRL), offline
// Curry ordering and pacing, and DeepVideo-R1's difficulty-aware augmentation.
export * from './online.js';
export * from './offline.js';
export * from './augment.js';
