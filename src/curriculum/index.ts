/**
 * pacer/curriculum: online samplers (uniform, staged, SEC, DUMP, AdaRFT, balanced, VCRL), offline
 * Curry ordering and pacing, DeepVideo-R1's difficulty-aware augmentation, and VideoTG-R1's difficulty,
 * masking schedule and stratified subsets.
 *
 * @module pacer/curriculum
 */
export * from './online.js';
export * from './offline.js';
export * from './augment.js';
export * from './videotg.js';
/** Option builders for registerSampler's options: opt.num(default, doc, range), opt.int, opt.str, … */
export { k as opt } from '../util/spec.js';
export type { KeySpec, Spec, ValuesOf } from '../util/spec.js';
