// Qwen2VLForConditionalGeneration and Qwen2_5_VLForConditionalGeneration (transformers'
// modeling_qwen2_vl.py / modeling_qwen2_5_vl.py) in the hub's parameter layout: `visual.*` (the vision
// tower, ./vision.ts), `model.*` (a Qwen2 decoder) and `lm_head` (absent when tied). A forward:
//   1. embeddings of the ids (or inputsEmbeds);
//   2. vision embeddings (from pixel values through the tower, or given precomputed as imageEmbeds /
//      videoEmbeds) written, in order, at the <|image_pad|> / <|video_pad|> positions (masked_scatter); the
//      count of pads must equal the count of embeddings;
//   3. M-RoPE positions (./rope.ts): given positionIds ([B, T] or [3, B, T]); else get_rope_index at
//      prefill, which stores rope deltas on the KV cache; decoding steps sit at cache index + delta;
//   4. the decoder layers with M-RoPE cos/sin, the final norm, the LM head.
import { type Tensor, Module, Linear, F, keep, tensor, noGrad } from '../../engine/index.js';
import { attentionBias, positionIdsFromMask } from '../attention.js';
import { LlamaModel } from '../llama.js';
import { type CausalLM, type CausalLMConfig, type ModelInputs, batchShape } from '../types.js';
import { readVLConfig, type VLConfig } from './config.js';
import { type Grid, mropeCosSin, positionsTensor, ropeIndex } from './rope.js';
import { VisionTower } from './vision.js';

/** Grid rows of a [n, 3] int64 tensor. */
export function gridRows(t: Tensor | undefined, what: string): Grid[] {
  if (!t) return [];
  if (t.ndim !== 2 || t.shape[1] !== 3)
    throw new TypeError(`pacer: ${what} must be [n, 3] (t, h, w), got [${t.shape}]`);
  const a = t.toArray();
  return Array.from({ length: t.shape[0] }, (_, i) => [a[3 * i], a[3 * i + 1], a[3 * i + 2]] as Grid);
}

function rows2d(t: Tensor): number[][] {
  const [B, T] = t.shape;
  const a = t.toArray();
  return Array.from({ length: B }, (_, b) => a.slice(b * T, (b + 1) * T));
}

export class Qwen2VLForConditionalGeneration extends Module implements CausalLM {
  readonly vl: VLConfig;
  readonly config: CausalLMConfig & Record<string, any>;
  readonly model: LlamaModel;
  readonly visual: VisionTower;
  readonly lm_head: Linear | null;
  private readonly invFreq: Tensor;

  constructor(raw: Record<string, any>, file = 'config.json') {
    super();
    this.vl = readVLConfig(raw, file);
    const t = this.vl.text;
    this.config = {
      ...raw,
      ...t,
      model_type: raw.model_type ?? (this.vl.version === '2.5' ? 'qwen2_5_vl' : 'qwen2_vl'),
    };
    const headDim = t.hidden_size / t.num_attention_heads;
    this.visual = this.child('visual', new VisionTower(this.vl.vision));
    this.model = this.child('model', new LlamaModel(t, headDim));
    this.lm_head = t.tie_word_embeddings
      ? null
      : this.child('lm_head', new Linear(t.hidden_size, t.vocab_size, { bias: false }));
    const inv = Array.from({ length: headDim / 2 }, (_, i) => 1 / t.rope_theta! ** ((2 * i) / headDim));
    this.invFreq = keep(tensor(inv).to('float32'));
  }

  get numLayers(): number {
    return this.vl.text.num_hidden_layers;
  }
  get vocabSize(): number {
    return this.vl.text.vocab_size;
  }
  get hiddenSize(): number {
    return this.vl.text.hidden_size;
  }

  embed(ids: Tensor): Tensor {
    F.expectDtype(ids, 'input ids', ['int64']);
    return this.model.embed_tokens.forward(ids);
  }

  /** Vision-tower outputs [Σ t·h·w / merge², hidden] for patch rows and their grids. */
  encodeVision(pixels: Tensor, grid: Tensor | Grid[]): Tensor {
    return this.visual.forward(pixels, Array.isArray(grid) ? grid : gridRows(grid, 'grid_thw'));
  }

  /** Write vision embeddings at the pad-token positions of ids (masked_scatter), checking counts. */
  private splice(x: Tensor, ids: number[][] | null, embeds: Tensor, tokenId: number, kind: 'image' | 'video'): Tensor {
    const [B, T, L] = x.shape;
    const mask = ids
      ? ids.flat().map((v) => v === tokenId)
      : x
          .sub(this.embed(tensor([tokenId], { dtype: 'int64' })))
          .abs()
          .amax(-1)
          .eq(0)
          .view(-1)
          .toArray()
          .map((v) => v === 1);
    const n = mask.filter((v) => v).length;
    if (n !== embeds.shape[0])
      throw new RangeError(
        `pacer: the batch has ${n} <|${kind}_pad|> tokens but its ${kind}s give ${embeds.shape[0]} embeddings ` +
          `(prod(${kind}_grid_thw) / ${this.vl.vision.merge ** 2} per ${kind}): each ${kind} needs exactly that many ` +
          `pads in the prompt`,
      );
    if (n === 0) return x;
    let k = B * T;
    const index = mask.map((m, i) => (m ? k++ : i));
    const src = F.cat([x.reshape(B * T, L), embeds.to(x.dtype)], 0);
    return src.indexSelect(0, tensor(index, { dtype: 'int64' })).view(B, T, L);
  }

  /**
   * Pads without their images/videos would pass as plain tokens: refuse them in a prompt. Decoding steps
   * after a prefill embed a generated pad as a plain token, as transformers does.
   */
  private noPads(ids: number[][] | null, tokenId: number, kind: 'image' | 'video', decoding: boolean): void {
    if (decoding) return;
    const n = ids ? ids.reduce((a, r) => a + r.filter((t) => t === tokenId).length, 0) : 0;
    if (n > 0)
      throw new RangeError(
        `pacer: the batch has ${n} <|${kind}_pad|> tokens but no ${kind}s (pixel values or embeddings) to put there`,
      );
  }

  /** Vision embeddings for a batch: precomputed ones, or the tower run on the pixel values. */
  private visionEmbeds(o: ModelInputs, kind: 'image' | 'video'): Tensor | null {
    const given = kind === 'image' ? o.imageEmbeds : o.videoEmbeds;
    const px = kind === 'image' ? o.pixelValues : o.pixelValuesVideos;
    const grid = kind === 'image' ? o.imageGridThw : o.videoGridThw;
    if (given) return given;
    if (!px) return null;
    if (!grid) throw new TypeError(`pacer: ${kind} pixel values need ${kind}GridThw`);
    return this.encodeVision(px, grid);
  }

  /**
   * M-RoPE positions for this call: [3, B, T], or [B, T] when the three axes agree (text, decoding);
   * at prefill the rope deltas are stored on the cache.
   */
  private positions(o: ModelInputs, ids: number[][] | null, B: number, T: number): Tensor {
    if (o.positionIds) return o.positionIds;
    const past = o.cache?.length ?? 0;
    if (past > 0 && o.cache!.ropeDeltas) {
      const d = o.cache!.ropeDeltas;
      return tensor(
        d.flatMap((delta) => Array.from({ length: T }, (_, t) => past + t + delta)),
        { dtype: 'int64' },
      ).view(B, T);
    }
    if (!ids) {
      // transformers: without input ids there is no get_rope_index; positions from the mask
      const pos = o.attentionMask ? positionIdsFromMask(o.attentionMask).narrow(1, past, T) : null;
      return (
        pos ??
        tensor(
          Array.from({ length: T }, (_, t) => past + t),
          { dtype: 'int64' },
        )
          .view(1, T)
          .expand(B, T)
      );
    }
    const { positions, deltas } = this.ropeIndexOf(o, ids);
    if (o.cache) o.cache.ropeDeltas = deltas;
    return positionsTensor(positions);
  }

  private ropeIndexOf(o: ModelInputs, ids: number[][]): { positions: number[][][]; deltas: number[] } {
    const v = this.vl;
    return ropeIndex(
      ids,
      o.attentionMask ? rows2d(o.attentionMask) : null,
      gridRows(o.imageGridThw, 'imageGridThw'),
      gridRows(o.videoGridThw, 'videoGridThw'),
      o.secondPerGridTs ? o.secondPerGridTs.toArray() : null,
      {
        version: v.version,
        merge: v.vision.merge,
        tokensPerSecond: v.vision.tokensPerSecond,
        imageTokenId: v.imageTokenId,
        videoTokenId: v.videoTokenId,
        visionStartTokenId: v.visionStartTokenId,
      },
      o.videoGridTimes ? (o.videoGridTimes.toArray() as number[]) : null,
    );
  }

  /** get_rope_index for a batch (ids, attention mask, grids, seconds per grid): positions [3, B, T], deltas [B]. */
  ropeIndex(o: ModelInputs): { positionIds: Tensor; ropeDeltas: number[] } {
    if (!o.ids) throw new TypeError('pacer: ropeIndex needs ids');
    const { positions, deltas } = this.ropeIndexOf(o, rows2d(o.ids));
    return { positionIds: positionsTensor(positions), ropeDeltas: deltas };
  }

  hidden(o: ModelInputs): Tensor {
    const [B, T] = batchShape(o);
    if (o.ids && o.inputsEmbeds) throw new TypeError('pacer: give ids or inputsEmbeds, not both');
    const ids = o.ids ? rows2d(o.ids) : null;
    const decoding = !!o.cache && o.cache.length > 0;
    let x = o.inputsEmbeds ?? this.embed(o.ids!);
    const img = this.visionEmbeds(o, 'image');
    if (img) x = this.splice(x, ids, img, this.vl.imageTokenId, 'image');
    else this.noPads(ids, this.vl.imageTokenId, 'image', decoding);
    const vid = this.visionEmbeds(o, 'video');
    if (vid) x = this.splice(x, ids, vid, this.vl.videoTokenId, 'video');
    else this.noPads(ids, this.vl.videoTokenId, 'video', decoding);
    const pos = this.positions(o, ids, B, T);
    const dt = this.model.embed_tokens.weight.dtype;
    const [cos, sin] = mropeCosSin(pos, this.invFreq, this.vl.text.mrope_section).map((t) =>
      t.dtype === dt ? t : t.to(dt),
    );
    const S = (o.cache?.length ?? 0) + T;
    const bias = attentionBias(o.attentionMask ?? null, B, T, S, null, o.segmentIds);
    for (const layer of this.model.layers) x = layer.forward(x, cos, sin, bias, o.cache);
    return this.model.norm.forward(x);
  }
  logits(h: Tensor): Tensor {
    return this.lm_head ? this.lm_head.forward(h) : F.linear(h, this.model.embed_tokens.weight);
  }
  forward(o: ModelInputs): Tensor {
    return this.logits(this.hidden(o));
  }
  override dispose(): void {
    super.dispose();
    this.invFreq.dispose();
  }
}

/** transformers' _init_weights for these models: N(0, initializer_range) Linear/Conv3d/Embedding weights. */
export function initQwen2VL(model: CausalLM, config: Record<string, any>): void {
  const std = config.text_config?.initializer_range ?? config.initializer_range ?? 0.02;
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      if (/(^|\.)(\w*norm\w*|ln_q)\.weight$/.test(name)) p.fill_(1);
      else if (name.endsWith('.bias')) p.fill_(0);
      else p.normal_(0, std);
    }
  });
}
