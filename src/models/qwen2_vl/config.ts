// Qwen2-VL / Qwen2.5-VL config.json in the three forms transformers has written (transformers'
// configuration_qwen2_vl.py / configuration_qwen2_5_vl.py):
//   1. the hub form: the language model's keys flat at the top, plus `vision_config`;
//   2. transformers >= 4.52: the same keys nested under `text_config` (model_type qwen2_5_vl_text);
//   3. v5: `rope_scaling` renamed `rope_parameters` (holding rope_type, mrope_section and rope_theta).
// The text model is Qwen2 (q/k/v biases, no o_proj bias) with M-RoPE sections; rope type "mrope" is
// "default" RoPE split into sections. Qwen2.5-VL's vision tower: hidden_size, intermediate_size,
// out_hidden_size, window_size, fullatt_block_indexes, tokens_per_second (class default 4, hub 2).
// Qwen2-VL's: embed_dim, mlp_ratio, hidden_size = the merger's output (the LLM width), quick_gelu.
import type { LlamaConfig } from '../llama.js';

export type VLVersion = '2' | '2.5';

export interface VisionConfig {
  version: VLVersion;
  depth: number;
  /** Width of the vision blocks (2.5: hidden_size; 2: embed_dim). */
  hidden: number;
  heads: number;
  /** MLP width (2.5: intermediate_size; 2: embed_dim · mlp_ratio). */
  intermediate: number;
  patch: number;
  temporalPatch: number;
  merge: number;
  inChannels: number;
  /** The merger's output width (the language model's hidden size). */
  outHidden: number;
  /** 2.5 only: window in pixels and the blocks that attend over whole frames. */
  windowSize: number;
  fullAttBlocks: number[];
  tokensPerSecond: number;
  act: string;
}

export interface VLConfig {
  version: VLVersion;
  text: LlamaConfig & { mrope_section: number[] };
  vision: VisionConfig;
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
  visionEndTokenId: number;
}

export const VL_MODEL_TYPES: Record<string, VLVersion> = { qwen2_vl: '2', qwen2_5_vl: '2.5' };

type Raw = Record<string, any>;

function posInt(v: unknown, key: string, file: string): number {
  if (!Number.isInteger(v) || (v as number) <= 0)
    throw new Error(`pacer: ${file}: '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/** rope_theta and mrope_section from rope_parameters (v5) or rope_scaling + rope_theta (earlier). */
function ropeOf(tc: Raw, file: string): { theta: number; section: number[] } {
  const rp = (tc.rope_parameters ?? tc.rope_scaling ?? null) as Raw | null;
  const kind = rp ? (rp.rope_type ?? rp.type ?? 'default') : 'default';
  if (!['default', 'mrope'].includes(kind))
    throw new Error(`pacer: ${file}: rope type '${kind}' is not supported for Qwen2-VL (supported: default/mrope)`);
  const section = rp?.mrope_section;
  if (!Array.isArray(section) || section.length !== 3 || !section.every((x) => Number.isInteger(x) && x > 0))
    throw new Error(
      `pacer: ${file}: needs rope_scaling.mrope_section (or rope_parameters.mrope_section): three positive ` +
        `integers (temporal, height, width) summing to head_dim / 2, got ${JSON.stringify(section)}`,
    );
  const theta = rp?.rope_theta ?? tc.rope_theta ?? 1000000;
  return { theta, section };
}

function textConfig(raw: Raw, file: string): VLConfig['text'] {
  const { vision_config: _v, text_config: nested, ...flat } = raw;
  const tc: Raw = { ...flat, ...(nested ?? {}) };
  for (const k of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'])
    posInt(tc[k], nested ? `text_config.${k}` : k, file);
  const heads = tc.num_attention_heads;
  const headDim = tc.hidden_size / heads;
  const { theta, section } = ropeOf(tc, file);
  if (section[0] + section[1] + section[2] !== headDim / 2)
    throw new Error(
      `pacer: ${file}: mrope_section ${JSON.stringify(section)} sums to ${section[0] + section[1] + section[2]}, ` +
        `but head_dim / 2 is ${headDim / 2} (hidden_size ${tc.hidden_size} / ${heads} heads / 2)`,
    );
  return {
    model_type: 'qwen2',
    vocab_size: tc.vocab_size,
    hidden_size: tc.hidden_size,
    intermediate_size: tc.intermediate_size,
    num_hidden_layers: tc.num_hidden_layers,
    num_attention_heads: heads,
    num_key_value_heads: tc.num_key_value_heads ?? heads,
    rms_norm_eps: tc.rms_norm_eps ?? 1e-6,
    rope_theta: theta,
    tie_word_embeddings: nested?.tie_word_embeddings ?? raw.tie_word_embeddings ?? false,
    bos_token_id: tc.bos_token_id,
    eos_token_id: tc.eos_token_id,
    pad_token_id: tc.pad_token_id,
    max_position_embeddings: tc.max_position_embeddings,
    mrope_section: section,
  };
}

function visionConfig(raw: Raw, version: VLVersion, textHidden: number, file: string): VisionConfig {
  const vc: Raw = raw.vision_config;
  if (!vc || typeof vc !== 'object') throw new Error(`pacer: ${file}: a Qwen2-VL config needs 'vision_config'`);
  const k = (key: string, dflt?: number) => posInt(vc[key] ?? dflt, `vision_config.${key}`, file);
  const hidden = version === '2.5' ? k('hidden_size') : k('embed_dim', 1280);
  const heads = k('num_heads', 16);
  if (hidden % heads !== 0 || (hidden / heads) % 4 !== 0)
    throw new Error(`pacer: ${file}: vision width ${hidden} / ${heads} heads must be a multiple of 4 (2-D rotary)`);
  const outHidden = version === '2.5' ? k('out_hidden_size', textHidden) : k('hidden_size', textHidden);
  if (outHidden !== textHidden)
    throw new Error(
      `pacer: ${file}: the vision merger outputs ${outHidden} features but the language model is ${textHidden} wide`,
    );
  const full = vc.fullatt_block_indexes ?? [7, 15, 23, 31];
  if (!Array.isArray(full) || !full.every((i) => Number.isInteger(i) && i >= 0))
    throw new Error(`pacer: ${file}: vision_config.fullatt_block_indexes must be a list of block indices`);
  const tps = vc.tokens_per_second ?? 4;
  if (!(typeof tps === 'number' && tps > 0))
    throw new Error(`pacer: ${file}: vision_config.tokens_per_second must be a positive number`);
  return {
    version,
    depth: k('depth', 32),
    hidden,
    heads,
    intermediate: version === '2.5' ? k('intermediate_size') : hidden * (vc.mlp_ratio ?? 4),
    patch: k('patch_size', 14),
    temporalPatch: k('temporal_patch_size', 2),
    merge: k('spatial_merge_size', 2),
    inChannels: posInt(vc.in_channels ?? vc.in_chans ?? 3, 'vision_config.in_channels', file),
    outHidden,
    windowSize: version === '2.5' ? k('window_size', 112) : 0,
    fullAttBlocks: full,
    tokensPerSecond: tps,
    act: vc.hidden_act ?? (version === '2.5' ? 'silu' : 'quick_gelu'),
  };
}

/** The normalised view of a Qwen2-VL / Qwen2.5-VL config.json in any of its three forms. */
export function readVLConfig(raw: Raw, file = 'config.json'): VLConfig {
  const version =
    VL_MODEL_TYPES[raw.model_type] ?? (String(raw.architectures?.[0]).startsWith('Qwen2_5') ? '2.5' : '2');
  const text = textConfig(raw, file);
  const vision = visionConfig(raw, version, text.hidden_size, file);
  if (!['silu', 'quick_gelu'].includes(vision.act))
    throw new Error(`pacer: ${file}: vision_config.hidden_act '${vision.act}' is not supported (silu, quick_gelu)`);
  const tok = (key: string, dflt: number) => {
    const v = raw[key] ?? raw.text_config?.[key] ?? dflt;
    if (!Number.isInteger(v) || v < 0 || v >= text.vocab_size)
      throw new Error(`pacer: ${file}: '${key}' must be a token id below vocab_size ${text.vocab_size}, got ${v}`);
    return v as number;
  };
  return {
    version,
    text,
    vision,
    imageTokenId: tok('image_token_id', 151655),
    videoTokenId: tok('video_token_id', 151656),
    visionStartTokenId: tok('vision_start_token_id', 151652),
    visionEndTokenId: tok('vision_end_token_id', 151653),
  };
}
