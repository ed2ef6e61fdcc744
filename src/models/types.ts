// The interface every causal LM in pacer implements, and the batch it takes. Models take the
// collated batch (src/data/tokenize.ts `collate` output fits as is): token ids or input embeddings,
// the attention mask, positions, packed-segment ids, a KV cache, and media tensors for
// vision-language models (named as transformers names them, in camelCase).
import type { Module, Tensor } from '../engine/index.js';
import type { KVCache } from './attention.js';

export interface ModelInputs {
  /** [B, T] int64 token ids (or give inputsEmbeds). */
  ids?: Tensor;
  /** [B, T, hidden] input embeddings instead of ids (e.g. IFT's mixed embeddings). */
  inputsEmbeds?: Tensor;
  /** [B, S] with 1 for real tokens and 0 for padding, over cached + current positions. */
  attentionMask?: Tensor;
  /** [B, T] explicit positions of the current tokens ([3, B, T] for M-RoPE models). */
  positionIds?: Tensor;
  /** Keys/values of earlier positions; updated in place with this call's. */
  cache?: KVCache;
  /** [B, S] segment of each token in a packed row: tokens attend only within their segment. */
  segmentIds?: Tensor;
  /** Vision-language models: image patches and their (t, h, w) grids, as transformers names them. */
  pixelValues?: Tensor;
  imageGridThw?: Tensor;
  /** Video patches, their grids, and seconds per temporal grid step. */
  pixelValuesVideos?: Tensor;
  videoGridThw?: Tensor;
  secondPerGridTs?: Tensor;
  /**
   * Per temporal grid step of every video (in order), its time in seconds from the video's first frame
   * shown; M-RoPE's time positions then follow these instead of g · second_per_grid_t (frames chosen
   * unevenly, e.g. by a frame selector). Optional; HF has no such input.
   */
  videoGridTimes?: Tensor;
  /** Vision-tower outputs computed earlier (e.g. once per prompt, reused by a group's completions). */
  imageEmbeds?: Tensor;
  videoEmbeds?: Tensor;
}

/** Media inputs a text-only model refuses. */
export const MEDIA_INPUTS = [
  'pixelValues',
  'imageGridThw',
  'pixelValuesVideos',
  'videoGridThw',
  'secondPerGridTs',
  'videoGridTimes',
  'imageEmbeds',
  'videoEmbeds',
] as const;

export interface CausalLMConfig {
  model_type?: string;
  vocab_size: number;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  bos_token_id?: number | number[] | null;
}

export interface CausalLM extends Module {
  readonly config: CausalLMConfig;
  readonly numLayers: number;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  /** Token embeddings [B, T, hidden] for ids [B, T] (the inputs_embeds a forward would use). */
  embed(ids: Tensor): Tensor;
  /** Final hidden states [B, T, hidden]. */
  hidden(inputs: ModelInputs): Tensor;
  /** LM-head logits for hidden states. */
  logits(h: Tensor): Tensor;
  /** logits(hidden(inputs)). */
  forward(inputs: ModelInputs): Tensor;
}

/** The token embeddings of a batch: inputsEmbeds, or the embedding of ids (one of them required). */
export function inputEmbeddings(model: Pick<CausalLM, 'embed'>, x: ModelInputs, what: string): Tensor {
  for (const k of MEDIA_INPUTS)
    if (x[k] !== undefined)
      throw new TypeError(`pacer: ${what} is a text-only model: it takes no ${k} (images and video need a VLM)`);
  if (x.inputsEmbeds) {
    if (x.ids) throw new TypeError(`pacer: ${what}: give ids or inputsEmbeds, not both`);
    return x.inputsEmbeds;
  }
  if (!x.ids) throw new TypeError(`pacer: ${what}: the batch has neither ids nor inputsEmbeds`);
  return model.embed(x.ids);
}

/** [B, T] of a batch (from ids or inputsEmbeds). */
export function batchShape(x: ModelInputs): [number, number] {
  const t = x.ids ?? x.inputsEmbeds;
  if (!t) throw new TypeError('pacer: the batch has neither ids nor inputsEmbeds');
  return [t.shape[0], t.shape[1]];
}
