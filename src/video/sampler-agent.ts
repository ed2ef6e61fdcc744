// TSPO's temporal agent: a small learned frame sampler that scores every frame of a long video against
// the question and picks k of them for a frozen video LLM (Tang et al., "TSPO: Temporal Sampling Policy
// Optimization for Long-form Video Language Understanding", arXiv 2508.04369, AAAI 2026; code
// Hui-design/TSPO: model/temporal_agent.py MultiModal_Align, model/utils.py gumbel_softmax,
// llava/model/language_model/llava_qwen.py temporal_sampling / inference_ts). Inputs are frozen per-frame
// features f_t [T, D] and question features q [M, D] from any frame/text encoder (./frame-features.ts):
//   x_t  = f_t + PE(t / T)          PE[2j] = sin(p·ω_j), PE[2j+1] = cos(p·ω_j), ω_j = 10000^(−2j/D), p = t/T
//   a    = MHSA(x) in a local window w (12): row t attends to columns clamp(t − ⌊w/2⌋ + j, 0, T − 1),
//          j < w (masked scores set to −1e6); q, k, v linear with biases; no output projection.
//          Computed banded: row t's keys and values are gathered at columns t − ⌊w/2⌋ + j (j < w), those
//          outside the video masked — the same distinct columns the clamped T × T mask keeps, at w/T of the
//          cost (windowMask is that mask, for reference)
//   h_t  = MLP(a_t) + f_t            MLP = Linear → ReLU → Linear
//   s_t  = (mean_m cos₆(h_t, q_m) + clip_t) / τ,  cos₆(a, b) = a·b / (|a||b| + 1e-6),
//          clip_t = cos(f_t, q_0) (torch's cosine_similarity, eps 1e-8)
//   τ    = τ₀ − (τ₀ − τ₁)·step / max_steps        annealed linearly, 0.025 → 0.01
// Selection. Training: Gumbel-top-k — the k largest s_t + g_t with g_t ~ Gumbel(0, 1) (the authors'
// F.gumbel_softmax(s, tau=1) then topk), indices sorted; the policy-gradient term of the chosen set is
// log π = log softmax(s)[chosen], one per frame (objectives/tspo.ts). Inference: `topk` — the k highest
// scores, sorted; `bin-max` — k bins around the uniform proposals round(i·(T−1)/(k−1)) (Python's round;
// frame t joins the nearest proposal, the first on ties; empty bins vanish) and the argmax of each bin.
// Parameter names follow MultiModal_Align (temporal.Self_q/k/v, mlp.0, mlp.2), so the authors' selector
// weights load; their unused temporal.ffn_o is skipped.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Generator,
  type Tensor,
  Linear,
  Module,
  empty,
  keep,
  loadSafetensors,
  noGrad,
  saveSafetensors,
  scope,
  tensor,
} from '../engine/index.js';
import { writeFileAtomic } from '../util/atomic.js';

export interface AgentConfig {
  /** Feature width D (frames and question). */
  dim: number;
  /** Attention heads (D must divide by it). */
  heads: number;
  /** Local attention window w (frames). */
  window: number;
}

export const SELECT_MODES = ['topk', 'bin-max'] as const;
export type SelectMode = (typeof SELECT_MODES)[number];

/** TSPO's sinusoidal time encoding [T, D] at positions t/T (positional_encoding in temporal_agent.py). */
export function timeEncoding(T: number, D: number): Float32Array {
  const pe = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let j = 0; 2 * j < D; j++) {
      const w = Math.fround(Math.exp(Math.fround(2 * j * Math.fround(-Math.log(10000) / D))));
      const a = Math.fround(Math.fround(t / T) * w);
      pe[t * D + 2 * j] = Math.sin(a);
      if (2 * j + 1 < D) pe[t * D + 2 * j + 1] = Math.cos(a);
    }
  return pe;
}

/** The local window mask [T, T] (1: may attend), as create_window_mask builds it. */
export function windowMask(T: number, w: number): Uint8Array {
  const m = new Uint8Array(T * T);
  for (let j = 0; j < T; j++)
    for (let k = 0; k < w; k++) m[j * T + Math.min(Math.max(j - Math.floor(w / 2) + k, 0), T - 1)] = 1;
  return m;
}

class SelfAttn extends Module {
  readonly Self_q: Linear;
  readonly Self_k: Linear;
  readonly Self_v: Linear;
  constructor(
    readonly dim: number,
    readonly heads: number,
    generator?: Generator,
  ) {
    super();
    this.Self_q = this.child('Self_q', new Linear(dim, dim, { generator }));
    this.Self_k = this.child('Self_k', new Linear(dim, dim, { generator }));
    this.Self_v = this.child('Self_v', new Linear(dim, dim, { generator }));
  }
  /** x [T, D] → [T, D], attending within each row's window (band: windowBand(T, w)). */
  forward(x: Tensor, band: Band): Tensor {
    const [T, D] = x.shape;
    const H = this.heads;
    const hd = D / H;
    const w = band.width;
    const gather = (t: Tensor) => t.indexSelect(0, band.index).view(T, w, H, hd).transpose(1, 2); // [T, H, w, hd]
    const q = this.Self_q.forward(x).view(T, H, 1, hd);
    const k = gather(this.Self_k.forward(x));
    const v = gather(this.Self_v.forward(x));
    const s = q.matmul(k.transpose(2, 3)).div(Math.sqrt(hd)).maskedFill(band.outside, -1e6); // [T, H, 1, w]
    return s.softmax(-1).matmul(v).reshape(T, D);
  }
}

/** A local window as gathered columns: index [T·w] (clamped into the video) and outside [T, 1, 1, w] (true: masked). */
interface Band {
  width: number;
  index: Tensor;
  outside: Tensor;
}

/** Row t's window columns t − ⌊w/2⌋ + j (j < w); those outside 0..T−1 are masked (kept tensors). */
function windowBand(T: number, w: number): Band {
  const index = new Array<number>(T * w);
  const outside = new Uint8Array(T * w);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < w; j++) {
      const c = t - Math.floor(w / 2) + j;
      index[t * w + j] = Math.min(Math.max(c, 0), T - 1);
      outside[t * w + j] = c < 0 || c >= T ? 1 : 0;
    }
  return noGrad(() =>
    scope(() => ({
      width: w,
      index: keep(tensor(index, { dtype: 'int64' })),
      outside: keep(tensor(outside, { shape: [T, 1, 1, w] }).eq(1)),
    })),
  );
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, generator?: Generator) {
    super();
    this.fc1 = this.child('0', new Linear(dim, dim, { generator }));
    this.fc2 = this.child('2', new Linear(dim, dim, { generator }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu());
  }
}

/** cos(a_i, b_j) = a·b / (|a||b| + 1e-6) for rows of a [N, D] and b [M, D] → [N, M]. */
function pairCosine(a: Tensor, b: Tensor): Tensor {
  const an = a.square().sum(-1).sqrt().unsqueeze(1);
  const bn = b.square().sum(-1).sqrt().unsqueeze(0);
  return a.matmul(b.transpose(0, 1)).div(an.mul(bn).add(1e-6));
}

/** torch.nn.functional.cosine_similarity of each frame f [T, D] with one query q [D] (eps 1e-8). */
export function clipScores(f: Tensor, q: Tensor): Tensor {
  return scope(() => {
    const q1 = q.ndim === 2 ? q.select(0, 0) : q;
    const n = f.square().sum(-1).mul(q1.square().sum()).clamp(1e-16, null).sqrt();
    return f.matmul(q1).div(n);
  });
}

/** The linearly annealed score temperature at a step: τ₀ − (τ₀ − τ₁)·step / maxSteps. */
export function annealedTau(step: number, maxSteps: number, tau0 = 0.025, tau1 = 0.01): number {
  return tau0 - ((tau0 - tau1) / maxSteps) * step;
}

export class TemporalAgent extends Module {
  readonly temporal: SelfAttn;
  readonly mlp: Mlp;
  private bands = new Map<number, Band>();
  private encodings = new Map<number, Tensor>();

  constructor(
    readonly config: AgentConfig,
    opts: { generator?: Generator } = {},
  ) {
    super();
    const { dim, heads, window } = config;
    if (!Number.isInteger(dim) || !Number.isInteger(heads) || dim < 1 || heads < 1 || dim % heads)
      throw new RangeError(`pacer: the agent's dim (${dim}) must be a positive multiple of its heads (${heads})`);
    if (!Number.isInteger(window) || window < 1)
      throw new RangeError(`pacer: the agent's window must be a positive integer, got ${window}`);
    this.temporal = this.child('temporal', new SelfAttn(dim, heads, opts.generator));
    this.mlp = this.child('mlp', new Mlp(dim, opts.generator));
  }

  private bandFor(T: number): Band {
    let b = this.bands.get(T);
    if (!b) {
      b = windowBand(T, this.config.window);
      this.bands.set(T, b);
    }
    return b;
  }

  /** The time encoding [T, D] (kept per T, like the window bands). */
  private encodingFor(T: number): Tensor {
    let pe = this.encodings.get(T);
    if (!pe) {
      pe = keep(tensor(timeEncoding(T, this.config.dim), { shape: [T, this.config.dim] }));
      this.encodings.set(T, pe);
    }
    return pe;
  }

  /**
   * Scores s [T] of frames f [T, D] for a question q [M, D] (or [D]) at temperature τ; `clip` defaults
   * to cos(f_t, q_0).
   */
  scores(f: Tensor, q: Tensor, tau: number, clip?: Tensor): Tensor {
    const [T, D] = f.shape;
    if (f.ndim !== 2 || D !== this.config.dim)
      throw new TypeError(`pacer: the agent takes frame features [T, ${this.config.dim}], got [${f.shape}]`);
    const q2 = q.ndim === 1 ? q.unsqueeze(0) : q;
    if (q2.ndim !== 2 || q2.shape[1] !== D)
      throw new TypeError(`pacer: the agent takes question features [M, ${D}] or [${D}], got [${q.shape}]`);
    if (!(tau > 0)) throw new RangeError(`pacer: the score temperature must be > 0, got ${tau}`);
    const x = f.add(this.encodingFor(T).to(f.dtype));
    const h = this.mlp.forward(this.temporal.forward(x, this.bandFor(T))).add(f);
    const c = clip ?? clipScores(f, q2);
    return pairCosine(h, q2).mean(-1).add(c).div(tau);
  }

  override dispose(): void {
    super.dispose();
    for (const b of this.bands.values()) for (const t of [b.index, b.outside]) t.dispose();
    for (const m of this.encodings.values()) m.dispose();
    this.bands.clear();
    this.encodings.clear();
  }

  /** Save as DIR/config.json + DIR/model.safetensors (plus `extra` config fields, e.g. the encoder). */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    mkdirSync(dir, { recursive: true });
    const cfg = {
      model_type: 'tspo_agent',
      hidden_size: this.config.dim,
      num_heads: this.config.heads,
      window_size: this.config.window,
      ...extra,
    };
    saveSafetensors(join(dir, 'model.safetensors'), this.stateDict(), { format: 'pt' });
    writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  }

  /** Load an agent folder written by save() (or the authors' selector weights with a config.json). */
  static load(dir: string): { agent: TemporalAgent; config: Record<string, any> } {
    const file = join(dir, 'config.json');
    if (!existsSync(file)) throw new Error(`pacer: ${dir} is not an agent folder (no config.json)`);
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    if (raw.model_type !== 'tspo_agent')
      throw new Error(`pacer: ${file}: model_type is ${JSON.stringify(raw.model_type)}, expected "tspo_agent"`);
    const agent = new TemporalAgent({ dim: raw.hidden_size, heads: raw.num_heads, window: raw.window_size });
    const sd = loadSafetensors(join(dir, 'model.safetensors'));
    for (const k of [...sd.keys()]) if (k.startsWith('temporal.ffn_o.')) sd.delete(k);
    agent.loadStateDict(sd);
    for (const t of sd.values()) t.dispose();
    return { agent, config: raw };
  }
}

/** Gumbel(0, 1) noise [n] from a generator: −log(−log u), u uniform in (0, 1). */
export function gumbelNoise(n: number, generator?: Generator): Tensor {
  return scope(() =>
    empty([n])
      .uniform_(0, 1, generator)
      .clamp(1e-20, 1 - 1e-7)
      .log()
      .neg()
      .log()
      .neg(),
  );
}

/** Indices of the k largest values, sorted ascending (ties: torch.topk's order, then sorted). */
function topIndices(values: Tensor, k: number): number[] {
  const [, idx] = values.topk(k, 0, true, true);
  return idx.toArray().sort((a, b) => a - b);
}

/** Gumbel-top-k: k distinct frames drawn without replacement in proportion to softmax(scores). */
export function gumbelTopK(scores: Tensor, k: number, generator?: Generator): number[] {
  checkK(k, scores.shape[0]);
  return noGrad(() => scope(() => topIndices(scores.detach().add(gumbelNoise(scores.shape[0], generator)), k)));
}

/** log π of a chosen set, one term per frame: log softmax(scores)[chosen] → [k] (with gradients). */
export function chosenLogProbs(scores: Tensor, chosen: readonly number[]): Tensor {
  return scores.logSoftmax(0).indexSelect(0, tensor(chosen as number[], { dtype: 'int64' }));
}

function checkK(k: number, T: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`pacer: the number of frames must be >= 1, got ${k}`);
  if (T < 1) throw new RangeError('pacer: the video has no frames');
}

/** Python's round (half to even). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** generate_uniform_integers(t, l): round(i·t/(l−1)) for i < l. */
export function uniformProposals(t: number, l: number): number[] {
  if (l <= 0) return [];
  if (l === 1) return [t];
  const step = t / (l - 1);
  return Array.from({ length: l }, (_, i) => pyRound(i * step));
}

/** Inference selection from scores (plain numbers): `topk` or `bin-max`; min(k, T) frames, sorted. */
export function selectFrames(scores: readonly number[], k: number, mode: SelectMode): number[] {
  const T = scores.length;
  checkK(k, T);
  const n = Math.min(T, k);
  if (mode === 'topk') {
    // torch.topk on CPU: larger first, ties by lower index
    const order = Array.from({ length: T }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    return order.slice(0, n).sort((a, b) => a - b);
  }
  if (mode !== 'bin-max') throw new RangeError(`pacer: unknown selection mode '${mode}' (topk or bin-max)`);
  const props = uniformProposals(T - 1, n);
  const slot = (x: number) => {
    let best = 0;
    for (let i = 1; i < props.length; i++) if (Math.abs(x - props[i]) < Math.abs(x - props[best])) best = i;
    return best;
  };
  const bins = new Map<number, number>();
  for (let t = 0; t < T; t++) {
    const s = slot(t);
    const cur = bins.get(s);
    if (cur === undefined || scores[t] > scores[cur]) bins.set(s, t);
  }
  return [...bins.values()].sort((a, b) => a - b);
}
