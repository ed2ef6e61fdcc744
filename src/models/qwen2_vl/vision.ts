// The Qwen2-VL / Qwen2.5-VL vision tower (transformers' Qwen2VisionTransformerPretrainedModel and
// Qwen2_5_VisionTransformerPretrainedModel). Input: patch rows [N, C·Tp·P·P] in (C, T, P, P) order and
// each item's grid (t, h, w) in patches. Steps:
//   1. patch embed: the Conv3d with kernel = stride = (Tp, P, P) is a linear map of each row: h = x Wᵀ.
//   2. 2-D rotary: per patch (row, column) in merge-block order (reshape (H/m, m, W/m, m), permute
//      (0, 2, 1, 3)), repeated per t; inv_freq = 10000^(−2i/(hd/2)), emb = [f(row) ‖ f(col)] duplicated.
//   3. Qwen2.5-VL only: window attention. Merge units are reordered window by window (windows of
//      window_size / merge / patch units per side, per t-slice; edge windows are partial, and an empty
//      one — when the side is a multiple of the window — is dropped as unique_consecutive does);
//      fullatt_block_indexes blocks attend within a whole t-slice, the others within a window.
//      Qwen2-VL attends within each t-slice in every block. Attention is non-causal, scaled by hd^−½,
//      block-diagonal: it never crosses t-slices.
//   4. blocks: h += proj(attn(norm1 h)); h += mlp(norm2 h). 2.5: RMSNorm (eps 1e-6) and a SiLU-gated MLP
//      with biases; 2: LayerNorm (eps 1e-6) and fc1 → QuickGELU (x·σ(1.702x)) → fc2.
//   5. merger: norm → view(−1, m²·V) → Linear → exact GELU → Linear → [N/m², LLM width]; 2.5 then
//      undoes the window order.
import {
  type Tensor,
  Module,
  ModuleList,
  Linear,
  LayerNorm,
  RMSNorm,
  F,
  arange,
  empty,
  tensor,
  scope,
} from '../../engine/index.js';
import { rotateHalf } from '../llama.js';
import { scaledDotProductAttention } from '../attention.js';
import type { VisionConfig } from './config.js';
import type { Grid } from './rope.js';

class Conv3dWeight extends Module {
  readonly weight: Tensor;
  constructor(c: VisionConfig) {
    super();
    this.weight = this.param('weight', empty([c.hidden, c.inChannels, c.temporalPatch, c.patch, c.patch]));
  }
}

class PatchEmbed extends Module {
  readonly proj: Conv3dWeight;
  constructor(c: VisionConfig) {
    super();
    this.proj = this.child('proj', new Conv3dWeight(c));
  }
}

class VisionAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  constructor(readonly c: VisionConfig) {
    super();
    this.qkv = this.child('qkv', new Linear(c.hidden, 3 * c.hidden));
    this.proj = this.child('proj', new Linear(c.hidden, c.hidden));
  }
  forward(x: Tensor, cos: Tensor, sin: Tensor, plan: SegmentPlan): Tensor {
    const S = x.shape[0];
    const H = this.c.heads;
    const d = this.c.hidden / H;
    const qkv = this.qkv.forward(x).view(S, 3, H, d);
    const dt = x.dtype;
    const rope = (t: Tensor) => {
      const f = t.to('float32');
      return f.mul(cos).add(rotateHalf(f).mul(sin)).to(dt);
    };
    const q = rope(qkv.select(1, 0));
    const k = rope(qkv.select(1, 1));
    const v = qkv.select(1, 2);
    const outs = plan.groups.map((g) => {
      const pick = (t: Tensor) => (g.rows ? t.indexSelect(0, g.rows) : t).view(g.count, g.len, H, d).transpose(1, 2);
      return scaledDotProductAttention(pick(q), pick(k), pick(v), null, 1 / Math.sqrt(d)).reshape(-1, H * d);
    });
    const all = outs.length === 1 ? outs[0] : F.cat(outs, 0);
    return this.proj.forward(plan.inverse ? all.indexSelect(0, plan.inverse) : all);
  }
}

class VisionMLP extends Module {
  constructor(readonly c: VisionConfig) {
    super();
    if (c.version === '2.5')
      for (const [n, i, o] of [
        ['gate_proj', c.hidden, c.intermediate],
        ['up_proj', c.hidden, c.intermediate],
        ['down_proj', c.intermediate, c.hidden],
      ] as const)
        this.child(n, new Linear(i, o));
    else {
      this.child('fc1', new Linear(c.hidden, c.intermediate));
      this.child('fc2', new Linear(c.intermediate, c.hidden));
    }
  }
  private lin(name: string): Linear {
    return [...this.namedChildren()].find(([n]) => n === name)![1] as Linear;
  }
  forward(x: Tensor): Tensor {
    if (this.c.version === '2.5')
      return this.lin('down_proj').forward(this.lin('gate_proj').forward(x).silu().mul(this.lin('up_proj').forward(x)));
    const y = this.lin('fc1').forward(x);
    return this.lin('fc2').forward(y.mul(y.mul(1.702).sigmoid()));
  }
}

function visionNorm(c: VisionConfig, dim: number): RMSNorm | LayerNorm {
  return c.version === '2.5' ? new RMSNorm(dim, 1e-6) : new LayerNorm(dim, 1e-6);
}

class VisionBlock extends Module {
  readonly norm1: RMSNorm | LayerNorm;
  readonly norm2: RMSNorm | LayerNorm;
  readonly attn: VisionAttention;
  readonly mlp: VisionMLP;
  constructor(c: VisionConfig) {
    super();
    this.norm1 = this.child('norm1', visionNorm(c, c.hidden));
    this.norm2 = this.child('norm2', visionNorm(c, c.hidden));
    this.attn = this.child('attn', new VisionAttention(c));
    this.mlp = this.child('mlp', new VisionMLP(c));
  }
  forward(x: Tensor, cos: Tensor, sin: Tensor, plan: SegmentPlan): Tensor {
    const h = scope(() => x.add(this.attn.forward(this.norm1.forward(x), cos, sin, plan)));
    return scope(() => h.add(this.mlp.forward(this.norm2.forward(h))));
  }
}

class MergerMLP extends Module {
  readonly fc0: Linear;
  readonly fc2: Linear;
  constructor(inF: number, outF: number) {
    super();
    this.fc0 = this.child('0', new Linear(inF, inF));
    this.fc2 = this.child('2', new Linear(inF, outF));
  }
}

class PatchMerger extends Module {
  readonly ln_q: RMSNorm | LayerNorm;
  readonly mlp: MergerMLP;
  constructor(readonly c: VisionConfig) {
    super();
    this.ln_q = this.child('ln_q', visionNorm(c, c.hidden));
    this.mlp = this.child('mlp', new MergerMLP(c.hidden * c.merge * c.merge, c.outHidden));
  }
  forward(x: Tensor): Tensor {
    const m2 = this.c.merge * this.c.merge;
    const h = this.ln_q.forward(x).view(-1, this.c.hidden * m2);
    return this.mlp.fc2.forward(F.gelu(this.mlp.fc0.forward(h)));
  }
}

/** Block-diagonal attention as groups of equal-length segments (one batched attention per group). */
interface SegmentPlan {
  groups: Array<{ len: number; count: number; rows: Tensor | null }>;
  /** Row order of the concatenated group outputs -> original rows (null when already in order). */
  inverse: Tensor | null;
}

function segmentPlan(lengths: number[]): SegmentPlan {
  const starts: number[] = [];
  let s = 0;
  for (const l of lengths) {
    starts.push(s);
    s += l;
  }
  const byLen = new Map<number, number[]>();
  lengths.forEach((l, i) => {
    if (l > 0) byLen.set(l, [...(byLen.get(l) ?? []), starts[i]]);
  });
  if (byLen.size === 1) {
    const [[len, st]] = [...byLen];
    return { groups: [{ len, count: st.length, rows: null }], inverse: null };
  }
  const order: number[] = [];
  const groups = [...byLen].map(([len, st]) => {
    const rows = st.flatMap((a) => Array.from({ length: len }, (_, j) => a + j));
    order.push(...rows);
    return { len, count: st.length, rows: tensor(rows, { dtype: 'int64' }) };
  });
  const inv = new Array<number>(order.length);
  order.forEach((r, i) => (inv[r] = i));
  return { groups, inverse: tensor(inv, { dtype: 'int64' }) };
}

/** Layout of the patches: rotary positions, window order and segment lengths (pure index work). */
export function visionLayout(
  c: VisionConfig,
  grids: Grid[],
): { pos: number[]; window: number[] | null; full: number[]; windowed: number[] } {
  const m = c.merge;
  const pos: number[] = [];
  const full: number[] = [];
  for (const [t, h, w] of grids) {
    const one: number[] = [];
    for (let bi = 0; bi < h / m; bi++)
      for (let bj = 0; bj < w / m; bj++)
        for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) one.push(bi * m + i, bj * m + j);
    for (let g = 0; g < t; g++) {
      pos.push(...one);
      full.push(h * w);
    }
  }
  if (c.version !== '2.5') return { pos, window: null, full, windowed: full };
  const win = Math.floor(c.windowSize / m / c.patch);
  if (win < 1) throw new Error(`pacer: vision window_size ${c.windowSize} is smaller than one merge unit`);
  const window: number[] = [];
  const windowed: number[] = [];
  let base = 0;
  for (const [t, h, w] of grids) {
    const [lh, lw] = [h / m, w / m];
    const [nh, nw] = [Math.floor((lh + win - (lh % win)) / win), Math.floor((lw + win - (lw % win)) / win)];
    for (let g = 0; g < t; g++)
      for (let a = 0; a < nh; a++)
        for (let b = 0; b < nw; b++) {
          let n = 0;
          for (let i = a * win; i < Math.min((a + 1) * win, lh); i++)
            for (let j = b * win; j < Math.min((b + 1) * win, lw); j++) {
              window.push(base + (g * lh + i) * lw + j);
              n++;
            }
          if (n) windowed.push(n * m * m);
        }
    base += t * lh * lw;
  }
  return { pos, window, full, windowed };
}

export class VisionTower extends Module {
  readonly patch_embed: PatchEmbed;
  readonly blocks: ModuleList<VisionBlock>;
  readonly merger: PatchMerger;
  constructor(readonly c: VisionConfig) {
    super();
    this.patch_embed = this.child('patch_embed', new PatchEmbed(c));
    this.blocks = this.child('blocks', new ModuleList(Array.from({ length: c.depth }, () => new VisionBlock(c))));
    this.merger = this.child('merger', new PatchMerger(c));
  }

  get patchDim(): number {
    return this.c.inChannels * this.c.temporalPatch * this.c.patch * this.c.patch;
  }

  /** Merged embeddings [Σ t·h·w / m², outHidden] for patch rows [Σ t·h·w, C·Tp·P·P] and their grids. */
  forward(px: Tensor, grids: Grid[]): Tensor {
    const c = this.c;
    checkPatches(c, px, grids, this.patchDim);
    const { pos, window, full, windowed } = visionLayout(c, grids);
    const unit = c.merge * c.merge;
    const S = px.shape[0];
    const W = this.patch_embed.proj.weight;
    let h = F.linear(px.to(W.dtype), W.view(c.hidden, this.patchDim));
    let rows = pos;
    if (window) {
      const perm = window.flatMap((u) => Array.from({ length: unit }, (_, j) => u * unit + j));
      h = h.indexSelect(0, tensor(perm, { dtype: 'int64' }));
      rows = perm.flatMap((r) => [pos[2 * r], pos[2 * r + 1]]);
    }
    const hd = c.hidden / c.heads;
    const inv = tensor(Array.from({ length: hd / 4 }, (_, i) => 1 / 10000 ** ((2 * i) / (hd / 2)))).to('float32');
    const maxG = Math.max(...grids.flatMap((g) => [g[1], g[2]]));
    const table = arange(0, maxG).to('float32').unsqueeze(1).mul(inv.unsqueeze(0));
    const rpe = table.indexSelect(0, tensor(rows, { dtype: 'int64' })).view(S, hd / 2);
    const emb = F.cat([rpe, rpe], -1).unsqueeze(1);
    const [cos, sin] = [emb.cos(), emb.sin()];
    const fullPlan = segmentPlan(full);
    const winPlan = window ? segmentPlan(windowed) : fullPlan;
    this.blocks.items.forEach((blk, i) => {
      const plan = window && !c.fullAttBlocks.includes(i) ? winPlan : fullPlan;
      h = blk.forward(h, cos, sin, plan);
    });
    const out = this.merger.forward(h);
    if (!window) return out;
    const reverse = new Array<number>(window.length);
    window.forEach((u, i) => (reverse[u] = i));
    return out.indexSelect(0, tensor(reverse, { dtype: 'int64' }));
  }
}

function checkPatches(c: VisionConfig, px: Tensor, grids: Grid[], dim: number): void {
  if (px.ndim !== 2 || px.shape[1] !== dim)
    throw new TypeError(
      `pacer: vision patches must be [N, ${dim}] (channels ${c.inChannels} × temporal ${c.temporalPatch} × ` +
        `${c.patch} × ${c.patch}), got [${px.shape}]`,
    );
  let n = 0;
  for (const g of grids) {
    if (g.length !== 3 || !g.every((x) => Number.isInteger(x) && x > 0) || g[1] % c.merge || g[2] % c.merge)
      throw new TypeError(
        `pacer: a grid (t, h, w) needs positive integers with h and w multiples of spatial_merge_size ${c.merge}, ` +
          `got [${g}]`,
      );
    n += g[0] * g[1] * g[2];
  }
  if (n !== px.shape[0])
    throw new TypeError(`pacer: the grids [${grids.map((g) => `[${g}]`)}] cover ${n} patches, got ${px.shape[0]} rows`);
}
