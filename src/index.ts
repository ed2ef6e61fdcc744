/**
 * pacer: post-training from rewards and preferences. The root entry holds the engine and the calls most programs
 * start from; each layer is also its own entry (pacer/engine, pacer/models, pacer/tokenizers, pacer/data,
 * pacer/objectives, pacer/rewards, pacer/curriculum, pacer/trainers, pacer/server, pacer/eval, pacer/clients,
 * pacer/video).
 *
 * @module pacer
 */
export * from './engine/index.js';
export * from './util/errors.js';
export { fromPretrained, savePretrained, modelFromConfig, registerModel } from './models/index.js';
export { generate, scoreCompletions, LoraAdapters } from './models/index.js';
export { createModelServer, createRewardServer } from './server/index.js';
export { Tokenizer } from './tokenizers/index.js';
export { loadDataset } from './data/index.js';
export { REWARDS, defineReward, registerReward, opt, rewardsFromSpec, runRewards } from './rewards/index.js';
export type { RewardFunction, RewardInput, KeySpec, Spec, ValuesOf } from './rewards/index.js';
export { registerSampler, BaseSampler } from './curriculum/index.js';
export type { Sampler, SamplerEntry, CurriculumItem, ItemFeedback } from './curriculum/index.js';
export { train, trainWithStages, resolveConfig, loadConfig, configHelp, TRAINERS } from './trainers/index.js';
export type { TrainConfig, ConfigInput, TrainInput, TrainResult, TrainOptions } from './trainers/index.js';
export * as models from './models/index.js';
export * as data from './data/index.js';
export * as objectives from './objectives/index.js';
export * as rewards from './rewards/index.js';
export * as curriculum from './curriculum/index.js';
export * as trainers from './trainers/index.js';
export * as evaluation from './eval/index.js';
