// Random Llama checkpoints for the benchmarks: written in HF layout (with the fixture byte-level
// tokenizer when asked), initialised as transformers' from_config, so pacer and its PyTorch peers
// load the same weights.
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';

/** A byte-level BPE tokenizer shipped with pacer (the one the test fixtures use; vocabulary 384 with specials). */
export const FIXTURE_TOKENIZER = join(dirname(fileURLToPath(import.meta.url)), '../../../data/tokenizers/bytes');

export interface LlamaShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads?: number;
  kvHeads?: number;
  maxPositions?: number;
  /** bos/eos/pad ids for config.json. */
  special?: { bos: number | null; eos: number | null; pad: number | null };
}

/** config.json of a small Llama with SwiGLU width ≈ 8/3 · hidden (a multiple of 32). */
export function llamaConfig(s: LlamaShape): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    intermediate_size: Math.round((s.hidden * 8) / 3 / 32) * 32,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads ?? 8,
    num_key_value_heads: s.kvHeads ?? 4,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: s.maxPositions ?? 256,
    tie_word_embeddings: false,
    ...(s.special ? { bos_token_id: s.special.bos, eos_token_id: s.special.eos, pad_token_id: s.special.pad } : {}),
  };
}

/** Write a randomly initialised Llama to dir (and the fixture tokenizer); returns config and size. */
export function writeRandomLlama(dir: string, s: LlamaShape, withTokenizer = true) {
  const config = llamaConfig(s);
  const model = modelFromConfig(config);
  const params = model.numParameters();
  savePretrained({ model, config, modelType: 'llama' }, dir);
  model.dispose();
  if (withTokenizer)
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(FIXTURE_TOKENIZER, f), join(dir, f));
  return { config, params };
}
