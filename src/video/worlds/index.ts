// The procedural video worlds: the registry, the scene model, the caption grammar and the dataset writer.
export { WORLDS, getWorld, parseKnobs } from './registry.js';
export type { World, WorldItem, WorldOptions, Knob } from './world.js';
export { grounding } from './grounding.js';
export { temporal, DIMENSIONS, FORMATS } from './temporal.js';
export { vinoground } from './vinoground.js';
export { shots } from './shots.js';
export { anomaly } from './anomaly.js';
export { needle } from './needle.js';
export { Rand, itemSeed } from './common.js';
export * from './scene.js';
export * from './grammar.js';
export { taxonomy, labelOf, PAIRS as ANOMALY_PAIRS } from './anomaly.js';
export { perturb, keepPair } from './shots.js';
export { makeDataset, type MakeOptions, type MakeResult } from './make.js';
