// The interface every causal LM in pacer implements (GPT-2 and the Llama family).
import type { Module, Tensor } from '../engine/index.js';
import type { KVCache } from './attention.js';

export interface ForwardOptions {
  /** [B, S] with 1 for real tokens and 0 for padding, over cached + current positions. */
  attentionMask?: Tensor;
  /** [B, T] explicit positions of the current tokens. */
  positionIds?: Tensor;
  /** Keys/values of earlier positions; updated in place with this call's. */
  cache?: KVCache;
  /** [B, S] segment of each token in a packed row: tokens attend only within their segment. */
  segmentIds?: Tensor;
}

export interface CausalLM extends Module {
  readonly config: {
    model_type?: string;
    vocab_size: number;
    eos_token_id?: number | number[] | null;
    pad_token_id?: number | null;
    bos_token_id?: number | number[] | null;
  };
  readonly numLayers: number;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  /** Final hidden states [B, T, hidden]. */
  hidden(ids: Tensor, o?: ForwardOptions): Tensor;
  /** LM-head logits for hidden states. */
  logits(h: Tensor): Tensor;
  /** logits(hidden(ids)). */
  forward(ids: Tensor, o?: ForwardOptions): Tensor;
}
