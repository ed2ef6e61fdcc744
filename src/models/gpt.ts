// A GPT-2-architecture decoder (Radford et al. 2019), readable in one sitting, nanoGPT-style:
// learned positions, pre-LayerNorm blocks (with bias, eps 1e-5), a fused qkv projection with bias,
// causal softmax attention, a GELU(tanh) MLP of width 4d, a final LayerNorm, and an LM head tied to
// the token embedding. Init: N(0, 0.02) weights, zero biases (GPT-2). Parameter names follow HF's
// GPT2LMHeadModel ("transformer.h.0.attn.c_attn.weight"), with weights stored [out, in] as
// torch.nn.Linear does (HF's Conv1D stores them transposed; the HF loader transposes).
import {
  type Tensor,
  Module,
  ModuleList,
  Linear,
  Embedding,
  LayerNorm,
  F,
  arange,
  full,
  noGrad,
  scope,
  type Generator,
} from '../engine/index.js';
import { attentionBias, positionIdsFromMask, scaledDotProductAttention, type KVCache } from './attention.js';
import { batchShape, inputEmbeddings, type CausalLM, type ModelInputs } from './types.js';

export interface GPTConfig {
  model_type?: string;
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_inner?: number | null;
  layer_norm_epsilon?: number;
  activation_function?: string;
  bos_token_id?: number | null;
  eos_token_id?: number | null;
  pad_token_id?: number | null;
}

function initNormal(m: Module, gen?: Generator): void {
  noGrad(() => {
    for (const [name, p] of m.namedParameters()) {
      if (name.endsWith('.bias')) p.zero_();
      else if (/(^|\.)ln_/.test(name)) p.fill_(1);
      else p.normal_(0, 0.02, gen);
    }
  });
}

export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  constructor(readonly cfg: GPTConfig) {
    super();
    this.c_attn = this.child('c_attn', new Linear(cfg.n_embd, 3 * cfg.n_embd));
    this.c_proj = this.child('c_proj', new Linear(cfg.n_embd, cfg.n_embd));
  }
  /**
   * x [B, T, C]. maskBias is [T, T] (0 on and below the diagonal, -inf above) for the plain causal
   * training path, or [B, 1, T, S] from attentionBias() when padding or a KV cache is involved.
   */
  forward(x: Tensor, maskBias: Tensor | null, cache?: KVCache, layer = 0): Tensor {
    const [B, T, C] = x.shape;
    const H = this.cfg.n_head;
    const hd = C / H;
    if (!cache && maskBias && maskBias.ndim === 2) {
      const [q, k, v] = this.c_attn
        .forward(x)
        .split(C, 2)
        .map((t) =>
          t
            .view(B, T, H, hd)
            .transpose(1, 2)
            .reshape(B * H, T, hd),
        );
      // att = q k^T / sqrt(hd) + mask, fused into one batched GEMM (baddbmm), then softmax.
      const att = F.baddbmm(maskBias.expand(B * H, T, T), q, k.transpose(1, 2), 1, 1 / Math.sqrt(hd)).softmax(-1);
      return this.c_proj.forward(att.bmm(v).view(B, H, T, hd).transpose(1, 2).reshape(B, T, C));
    }
    const [q, k, v] = this.c_attn
      .forward(x)
      .split(C, 2)
      .map((t) => t.view(B, T, H, hd).transpose(1, 2));
    const [kk, vv] = cache ? cache.update(layer, k, v) : [k, v];
    return this.c_proj.forward(scaledDotProductAttention(q, kk, vv, maskBias, 1 / Math.sqrt(hd)));
  }
}

const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  gelu_new: (x) => x.gelu('tanh'),
  gelu_pytorch_tanh: (x) => x.gelu('tanh'),
  gelu_fast: (x) => x.gelu('tanh'),
  gelu: (x) => x.gelu('none'),
  relu: (x) => x.relu(),
  silu: (x) => x.silu(),
  swish: (x) => x.silu(),
};

export class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  private readonly act: (x: Tensor) => Tensor;
  constructor(cfg: GPTConfig) {
    super();
    const name = cfg.activation_function ?? 'gelu_new';
    const act = ACTIVATIONS[name];
    if (!act)
      throw new TypeError(
        `pacer: GPT-2 activation_function '${name}' is not supported (supported: ` +
          `${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    this.act = act;
    const inner = cfg.n_inner ?? 4 * cfg.n_embd;
    this.c_fc = this.child('c_fc', new Linear(cfg.n_embd, inner));
    this.c_proj = this.child('c_proj', new Linear(inner, cfg.n_embd));
  }
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(this.act(this.c_fc.forward(x)));
  }
}

export class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;
  constructor(cfg: GPTConfig) {
    super();
    const eps = cfg.layer_norm_epsilon ?? 1e-5;
    this.ln_1 = this.child('ln_1', new LayerNorm(cfg.n_embd, eps));
    this.attn = this.child('attn', new CausalSelfAttention(cfg));
    this.ln_2 = this.child('ln_2', new LayerNorm(cfg.n_embd, eps));
    this.mlp = this.child('mlp', new MLP(cfg));
  }
  forward(x: Tensor, maskBias: Tensor | null, cache?: KVCache, layer = 0): Tensor {
    // Nested scopes free each sub-layer's temporaries as soon as it returns (autograd keeps what
    // backward needs), which keeps the working set small and cache-warm.
    const h = scope(() => x.add(this.attn.forward(this.ln_1.forward(x), maskBias, cache, layer)));
    return scope(() => h.add(this.mlp.forward(this.ln_2.forward(h))));
  }
}

class Transformer extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm;
  constructor(cfg: GPTConfig) {
    super();
    this.wte = this.child('wte', new Embedding(cfg.vocab_size, cfg.n_embd));
    this.wpe = this.child('wpe', new Embedding(cfg.n_positions, cfg.n_embd));
    this.h = this.child('h', new ModuleList(Array.from({ length: cfg.n_layer }, () => new Block(cfg))));
    this.ln_f = this.child('ln_f', new LayerNorm(cfg.n_embd, cfg.layer_norm_epsilon ?? 1e-5));
  }
}

export class GPT extends Module implements CausalLM {
  readonly transformer: Transformer;
  private get maskBias(): Tensor {
    return this.getBuffer('attn_mask_bias');
  }
  constructor(
    readonly config: GPTConfig,
    opts: { generator?: Generator } = {},
  ) {
    super();
    for (const k of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const)
      if (!Number.isInteger(config[k]) || config[k] <= 0)
        throw new TypeError(`pacer: GPT config '${k}' must be a positive integer, got ${config[k]}`);
    if (config.n_embd % config.n_head !== 0)
      throw new TypeError(`pacer: GPT config n_embd (${config.n_embd}) must be divisible by n_head (${config.n_head})`);
    this.transformer = this.child('transformer', new Transformer(config));
    const T = config.n_positions;
    this.buffer('attn_mask_bias', full([T, T], -Infinity).triu(1));
    initNormal(this, opts.generator);
  }

  get numLayers(): number {
    return this.config.n_layer;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get hiddenSize(): number {
    return this.config.n_embd;
  }

  embed(ids: Tensor): Tensor {
    F.expectDtype(ids, 'GPT input ids', ['int64']);
    if (ids.ndim !== 2) throw new TypeError(`pacer: GPT input ids must be [batch, seq], got [${ids.shape}]`);
    return this.transformer.wte.forward(ids);
  }

  /** Final hidden states [B, T, n_embd] for a batch (ids [B, T] int64, or inputsEmbeds). */
  hidden(o: ModelInputs): Tensor {
    const [B, T] = batchShape(o);
    const past = o.cache?.length ?? 0;
    const S = past + T;
    if (S > this.config.n_positions)
      throw new RangeError(`pacer: sequence length ${S} exceeds n_positions ${this.config.n_positions}`);
    const tr = this.transformer;
    const plain = !o.cache && !o.attentionMask && !o.positionIds && !o.segmentIds;
    const pos =
      o.positionIds ??
      (o.attentionMask
        ? positionIdsFromMask(o.attentionMask).narrow(1, past, T)
        : arange(past, S, 1, { device: tr.wpe.weight.device }));
    let x = inputEmbeddings(this, o, 'gpt2').add(tr.wpe.forward(pos));
    const mask = plain
      ? T === this.config.n_positions
        ? this.maskBias
        : this.maskBias.narrow(0, 0, T).narrow(1, 0, T)
      : attentionBias(o.attentionMask ?? null, B, T, S, null, o.segmentIds);
    tr.h.items.forEach((block, i) => (x = block.forward(x, mask, o.cache, i)));
    return tr.ln_f.forward(x);
  }
  logits(h: Tensor): Tensor {
    return F.linear(h, this.transformer.wte.weight);
  }
  /** Logits [B, T, vocab] for a batch. */
  forward(o: ModelInputs): Tensor {
    return this.logits(this.hidden(o));
  }

  /** Mean next-token cross-entropy of logits at t against targets at t. */
  loss(idx: Tensor, targets: Tensor): Tensor {
    const logits = this.forward({ ids: idx });
    const V = this.config.vocab_size;
    return F.crossEntropy(logits.view(-1, V), targets.reshape(-1));
  }

  /** Parameter names as state-dict keys; the tied lm_head is not a separate parameter. */
  override stateDict(): Map<string, Tensor> {
    const sd = super.stateDict();
    sd.delete('attn_mask_bias');
    return sd;
  }
}
