// Llama-family decoders (Touvron et al. 2023): LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM and Qwen3ForCausalLM in HF's layout. RMSNorm pre-norm blocks, rotary position
// embeddings (RoPE, with HF's `rope_scaling` types `linear` and `llama3`), grouped-query attention,
// a SwiGLU MLP: down(silu(gate(x)) * up(x)). Qwen2 adds q/k/v biases; Qwen3 RMS-normalises q and k
// per head before RoPE; Mistral may use a sliding attention window.
import {
  type Tensor,
  Module,
  ModuleList,
  Linear,
  Embedding,
  RMSNorm,
  F,
  arange,
  scope,
  keep,
  tensor,
} from '../engine/index.js';
import { attentionBias, positionIdsFromMask, scaledDotProductAttention, type KVCache } from './attention.js';
import { batchShape, inputEmbeddings, type ModelInputs, type CausalLM } from './types.js';

export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

export interface LlamaConfig {
  model_type: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  rope_scaling?: RopeScaling | null;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
  mlp_bias?: boolean;
  sliding_window?: number | null;
  use_sliding_window?: boolean;
  bos_token_id?: number | number[] | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

/** RoPE inverse frequencies with HF's rope_scaling rules (linear and llama3). */
export function ropeInvFreq(cfg: LlamaConfig, headDim: number): Float64Array {
  const theta = cfg.rope_theta ?? 10000;
  const inv = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  const rs = cfg.rope_scaling;
  const kind = rs?.rope_type ?? rs?.type;
  if (!rs || !kind || kind === 'default') return inv;
  const factor = rs.factor ?? 1;
  if (kind === 'linear') return inv.map((f) => f / factor);
  if (kind === 'llama3') {
    const low = rs.low_freq_factor ?? 1;
    const high = rs.high_freq_factor ?? 4;
    const oldLen = rs.original_max_position_embeddings ?? 8192;
    const lowWl = oldLen / low;
    const highWl = oldLen / high;
    return inv.map((f) => {
      const wl = (2 * Math.PI) / f;
      if (wl < highWl) return f;
      if (wl > lowWl) return f / factor;
      const smooth = (oldLen / wl - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new Error(`pacer: rope_scaling type '${kind}' is not supported (supported: linear, llama3)`);
}

export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.ndim - 1] / 2;
  return F.cat([x.narrow(-1, d, d).neg(), x.narrow(-1, 0, d)], -1);
}

class LlamaAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm | null = null;
  readonly k_norm: RMSNorm | null = null;
  constructor(
    readonly cfg: LlamaConfig,
    readonly layer: number,
    readonly headDim: number,
  ) {
    super();
    const H = cfg.num_attention_heads;
    const Hkv = cfg.num_key_value_heads ?? H;
    const bias = cfg.model_type === 'qwen2' ? true : !!cfg.attention_bias; // Qwen2 always has q/k/v biases
    this.q_proj = this.child('q_proj', new Linear(cfg.hidden_size, H * headDim, { bias }));
    this.k_proj = this.child('k_proj', new Linear(cfg.hidden_size, Hkv * headDim, { bias }));
    this.v_proj = this.child('v_proj', new Linear(cfg.hidden_size, Hkv * headDim, { bias }));
    this.o_proj = this.child(
      'o_proj',
      new Linear(H * headDim, cfg.hidden_size, { bias: cfg.model_type === 'qwen2' ? false : !!cfg.attention_bias }),
    );
    if (cfg.model_type === 'qwen3') {
      this.q_norm = this.child('q_norm', new RMSNorm(headDim, cfg.rms_norm_eps ?? 1e-6));
      this.k_norm = this.child('k_norm', new RMSNorm(headDim, cfg.rms_norm_eps ?? 1e-6));
    }
  }
  forward(x: Tensor, cos: Tensor, sin: Tensor, bias: Tensor | null, cache?: KVCache): Tensor {
    const [B, T] = x.shape;
    const H = this.cfg.num_attention_heads;
    const Hkv = this.cfg.num_key_value_heads ?? H;
    const d = this.headDim;
    let q = this.q_proj.forward(x).view(B, T, H, d);
    let k = this.k_proj.forward(x).view(B, T, Hkv, d);
    const v0 = this.v_proj.forward(x).view(B, T, Hkv, d).transpose(1, 2);
    if (this.q_norm && this.k_norm) {
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
    // cos/sin: [B, 1, T, d]
    q = q.mul(cos).add(rotateHalf(q).mul(sin));
    k = k.mul(cos).add(rotateHalf(k).mul(sin));
    const [kk, vv] = cache ? cache.update(this.layer, k, v0) : [k, v0];
    return this.o_proj.forward(scaledDotProductAttention(q, kk, vv, bias, 1 / Math.sqrt(d)));
  }
}

class LlamaMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  constructor(cfg: LlamaConfig) {
    super();
    const bias = !!cfg.mlp_bias;
    this.gate_proj = this.child('gate_proj', new Linear(cfg.hidden_size, cfg.intermediate_size, { bias }));
    this.up_proj = this.child('up_proj', new Linear(cfg.hidden_size, cfg.intermediate_size, { bias }));
    this.down_proj = this.child('down_proj', new Linear(cfg.intermediate_size, cfg.hidden_size, { bias }));
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x)));
  }
}

export class LlamaDecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: LlamaAttention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: LlamaMLP;
  constructor(cfg: LlamaConfig, layer: number, headDim: number) {
    super();
    const eps = cfg.rms_norm_eps ?? 1e-6;
    this.input_layernorm = this.child('input_layernorm', new RMSNorm(cfg.hidden_size, eps));
    this.self_attn = this.child('self_attn', new LlamaAttention(cfg, layer, headDim));
    this.post_attention_layernorm = this.child('post_attention_layernorm', new RMSNorm(cfg.hidden_size, eps));
    this.mlp = this.child('mlp', new LlamaMLP(cfg));
  }
  forward(x: Tensor, cos: Tensor, sin: Tensor, bias: Tensor | null, cache?: KVCache): Tensor {
    const h = scope(() => x.add(this.self_attn.forward(this.input_layernorm.forward(x), cos, sin, bias, cache)));
    return scope(() => h.add(this.mlp.forward(this.post_attention_layernorm.forward(h))));
  }
}

export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  constructor(cfg: LlamaConfig, headDim: number) {
    super();
    this.embed_tokens = this.child('embed_tokens', new Embedding(cfg.vocab_size, cfg.hidden_size));
    this.layers = this.child(
      'layers',
      new ModuleList(Array.from({ length: cfg.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(cfg, i, headDim))),
    );
    this.norm = this.child('norm', new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps ?? 1e-6));
  }
}

export class LlamaForCausalLM extends Module implements CausalLM {
  readonly model: LlamaModel;
  readonly lm_head: Linear | null;
  readonly headDim: number;
  private readonly invFreq: Tensor;
  constructor(readonly config: LlamaConfig) {
    super();
    const H = config.num_attention_heads;
    this.headDim = config.head_dim ?? config.hidden_size / H;
    if (!Number.isInteger(this.headDim) || this.headDim % 2 !== 0)
      throw new TypeError(
        `pacer: head_dim must be an even integer, got ${this.headDim} (hidden_size ${config.hidden_size} / ${H} heads)`,
      );
    this.model = this.child('model', new LlamaModel(config, this.headDim));
    this.lm_head = config.tie_word_embeddings
      ? null
      : this.child('lm_head', new Linear(config.hidden_size, config.vocab_size, { bias: false }));
    this.invFreq = keep(tensor(ropeInvFreq(config, this.headDim)).to('float32'));
  }

  get numLayers(): number {
    return this.config.num_hidden_layers;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  embed(ids: Tensor): Tensor {
    F.expectDtype(ids, 'input ids', ['int64']);
    return this.model.embed_tokens.forward(ids);
  }

  /** Final hidden states [B, T, hidden] (after the last RMSNorm). */
  hidden(o: ModelInputs): Tensor {
    const [B, T] = batchShape(o);
    const past = o.cache?.length ?? 0;
    const S = past + T;
    const pos =
      o.positionIds ??
      (o.attentionMask
        ? positionIdsFromMask(o.attentionMask).narrow(1, past, T)
        : arange(past, S).view(1, T).expand(B, T));
    const freqs = pos.to('float32').unsqueeze(-1).mul(this.invFreq);
    const emb = F.cat([freqs, freqs], -1).unsqueeze(1);
    const dt = this.model.embed_tokens.weight.dtype;
    const cos = emb.cos().to(dt);
    const sin = emb.sin().to(dt);
    const window =
      this.config.model_type === 'mistral' || this.config.use_sliding_window ? this.config.sliding_window : null;
    const bias = attentionBias(o.attentionMask ?? null, B, T, S, window, o.segmentIds);
    let x = inputEmbeddings(this, o, this.config.model_type);
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
