/**
 * pacer/models: the model registry (GPT-2, Llama, Mistral, Qwen2, Qwen3), loading and saving in Hugging Face
 * layout, generation, scoring (and the shared-prompt forward), LoRA adapters and scalar heads.
 *
 * @module pacer/models
 */
export * from './types.js';
export * from './attention.js';
export * from './gpt.js';
export * from './llama.js';
export * from './pretrained.js';
export * from './generate.js';
export * from './scoring.js';
export * from './shared-prompt.js';
export * from './lora.js';
export * from './heads.js';
export * from './registry.js';
export * from './actor-critic.js';
export * from './qwen2_vl/index.js';
