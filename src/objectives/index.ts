export * from './common.js';
export * from './sft.js';
export * from './reward.js';
export * from './dpo.js';
export * from './kto.js';
export * from './orpo.js';
export * from './cpo.js';
export * from './grpo.js';
