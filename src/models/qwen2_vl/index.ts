// Qwen2-VL and Qwen2.5-VL: config forms, vision tower, M-RoPE, the conditional-generation model, and
// checkpoint names (hub key layout and transformers >= 4.52's model.language_model.* / model.visual.*), LoRA targets.
export * from './config.js';
export * from './rope.js';
export * from './vision.js';
export * from './model.js';

/** transformers >= 4.52 checkpoint names -> the hub layout pacer keeps (and writes). */
export function qwen2VLFromCheckpoint(name: string): string {
  if (name.startsWith('model.language_model.')) return `model.${name.slice('model.language_model.'.length)}`;
  if (name.startsWith('model.visual.')) return name.slice('model.'.length);
  return name;
}

/**
 * LoRA targets as PEFT matches them (re.fullmatch on module names, either key layout): the language
 * model's attention and MLP projections by default; QWEN2_VL_LORA_WITH_VISION adds the vision blocks.
 */
const LM_PROJ = '(self_attn\\.(q_proj|k_proj|v_proj|o_proj)|mlp\\.(gate_proj|up_proj|down_proj))';
const VISION_PROJ = '(attn\\.(qkv|proj)|mlp\\.(gate_proj|up_proj|down_proj|fc1|fc2))';
export const QWEN2_VL_LORA = `(model\\.language_model|model)\\.layers\\.\\d+\\.${LM_PROJ}`;
export const QWEN2_VL_LORA_WITH_VISION = `${QWEN2_VL_LORA}|(model\\.)?visual\\.blocks\\.\\d+\\.${VISION_PROJ}`;
export * from './processor.js';
