/**
 * pacer/objectives: the losses as pure functions, one file per method family with its formula and paper
 * (SFT, reward models, the DPO family, KTO, ORPO, CPO/SimPO, GRPO family, RAFT, online DPO, IFT, PPO,
 * TSPO).
 *
 * @module pacer/objectives
 */
export * from './common.js';
export * from './sft.js';
export * from './reward.js';
export * from './dpo.js';
export * from './kto.js';
export * from './orpo.js';
export * from './cpo.js';
export * from './grpo.js';
export * from './raft.js';
export * from './online-dpo.js';
export * from './ppo.js';
export * from './ift.js';
export * from './tspo.js';
