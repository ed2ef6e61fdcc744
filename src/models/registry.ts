// The model registry: one entry per architecture maps config.json's `model_type` (and its
// `architectures` names) to the class, the config keys it requires, how checkpoint tensor names and
// orientations map to parameters, the LoRA target names PEFT uses for it, and transformers'
// `_init_weights` rule. Loading, saving, LoRA and the trainers look architectures up here only; a new
// architecture (e.g. a vision-language model) is a new entry (as transformers.js's models/registry).
import { noGrad } from '../engine/index.js';
import type { CausalLM } from './types.js';
import { GPT, type GPTConfig } from './gpt.js';
import { LlamaForCausalLM, type LlamaConfig } from './llama.js';
import { Qwen2VLForConditionalGeneration, initQwen2VL } from './qwen2_vl/model.js';
import { QWEN2_VL_LORA, qwen2VLFromCheckpoint } from './qwen2_vl/index.js';

export interface ModelEntry {
  /** config.json `model_type`. */
  modelType: string;
  /** config.json `architectures[0]` names (the first is written when saving). */
  architectures: string[];
  /** Config keys that must be positive integers. */
  required: string[];
  create(config: Record<string, any>): CausalLM;
  /** Checkpoint tensor name -> parameter name; null skips it (buffers, a tied head). Default: same. */
  fromCheckpoint?(name: string): string | null;
  /** Parameters stored transposed in HF checkpoints (GPT-2's Conv1D). */
  transposed?: RegExp;
  /** Module-name suffixes LoRA adapts by default (as PEFT's target names for the architecture), or a regex. */
  loraTargets: string[] | string;
  /** PEFT's fan_in_fan_out (Conv1D layers). */
  loraFanInFanOut?: boolean;
  /** transformers' _init_weights, applied by modelFromConfig (not by fromPretrained). */
  init(model: CausalLM, config: Record<string, any>): void;
}

/** transformers' _init_weights for these decoders: N(0, initializer_range) weights, zero biases, unit norms. */
function initDecoder(model: CausalLM, config: Record<string, any>, scaledResidual: RegExp | null = null): void {
  const std = typeof config.initializer_range === 'number' ? config.initializer_range : 0.02;
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (/(^|\.)(ln_\w+|\w*norm)\.weight$/.test(name)) p.fill_(1);
      else if (name.endsWith('.bias')) p.fill_(0);
      else if (scaledResidual?.test(name)) p.normal_(0, std / Math.sqrt(2 * config.n_layer));
      else p.normal_(0, std);
    }
  });
}

const LLAMA_REQUIRED = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'];
const LLAMA_LORA = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

function llamaEntry(modelType: LlamaConfig['model_type'], architecture: string): ModelEntry {
  return {
    modelType,
    architectures: [architecture],
    required: LLAMA_REQUIRED,
    create: (c) =>
      new LlamaForCausalLM({
        ...(c as LlamaConfig),
        model_type: modelType,
        tie_word_embeddings: c.tie_word_embeddings ?? false,
      }),
    loraTargets: LLAMA_LORA,
    init: (m, c) => initDecoder(m, c),
  };
}

const GPT2_BUFFERS = /\.attn\.(bias|masked_bias)$/;

export const GPT2_ENTRY: ModelEntry = {
  modelType: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  required: ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'],
  create: (c) => new GPT({ ...(c as GPTConfig), model_type: 'gpt2' }),
  fromCheckpoint: (name) => {
    if (GPT2_BUFFERS.test(name) || name === 'lm_head.weight') return null; // buffers; the head is tied
    return name.startsWith('transformer.') ? name : `transformer.${name}`;
  },
  transposed: /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/,
  loraTargets: ['c_attn', 'c_proj', 'c_fc'],
  loraFanInFanOut: true,
  // GPT-2 also scales its residual projections by 1/sqrt(2·n_layer)
  init: (m, c) => initDecoder(m, c, /c_proj\.weight$/),
};

/** Qwen2-VL / Qwen2.5-VL: nested or flat configs, either checkpoint key layout (hub layout written). */
function qwen2VLEntry(modelType: string, architecture: string): ModelEntry {
  return {
    modelType,
    architectures: [architecture],
    required: [],
    create: (c) => new Qwen2VLForConditionalGeneration(c),
    fromCheckpoint: qwen2VLFromCheckpoint,
    loraTargets: QWEN2_VL_LORA,
    init: initQwen2VL,
  };
}

const MODELS = new Map<string, ModelEntry>();

/** Add an architecture (or replace one with the same model_type). */
export function registerModel(entry: ModelEntry): void {
  MODELS.set(entry.modelType, entry);
}

for (const e of [
  GPT2_ENTRY,
  llamaEntry('llama', 'LlamaForCausalLM'),
  llamaEntry('mistral', 'MistralForCausalLM'),
  llamaEntry('qwen2', 'Qwen2ForCausalLM'),
  llamaEntry('qwen3', 'Qwen3ForCausalLM'),
  qwen2VLEntry('qwen2_vl', 'Qwen2VLForConditionalGeneration'),
  qwen2VLEntry('qwen2_5_vl', 'Qwen2_5_VLForConditionalGeneration'),
])
  registerModel(e);

export function registeredModels(): ModelEntry[] {
  return [...MODELS.values()];
}

/** The entry for a config (by architectures[0], else model_type); a clear error when unsupported. */
export function modelEntry(config: Record<string, any>, file = 'config.json'): ModelEntry {
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  const byArch = arch ? registeredModels().find((e) => e.architectures.includes(arch)) : undefined;
  const entry = byArch ?? (typeof config.model_type === 'string' ? MODELS.get(config.model_type) : undefined);
  if (!entry) {
    const what = arch ? `'${arch}'` : `(model_type '${config.model_type}')`;
    const supported = registeredModels().flatMap((e) => e.architectures);
    throw new Error(`pacer: ${file}: unsupported architecture ${what}; supported: ${supported.join(', ')}`);
  }
  return entry;
}

/** The entry of a loaded model (by its config's model_type). */
export function entryOf(model: CausalLM): ModelEntry {
  return modelEntry(model.config as Record<string, any>);
}
