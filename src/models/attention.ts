// Shared attention machinery for the decoder models: the additive attention bias (causal +
// padding + optional sliding window), position ids from an attention mask (left padding), the
// KV cache, and scaled dot-product attention with grouped-query heads.
import { type Tensor, F, arange, keep, where, scope } from '../engine/index.js';

/**
 * Additive bias [B, 1, T, S] for T queries that are the last T of S positions: 0 where query i may
 * attend key j (j <= i, key not padding, within the sliding window), -inf elsewhere. A query may
 * always attend itself, so padding rows never become all -inf (their outputs are ignored).
 */
export function attentionBias(
  mask: Tensor | null,
  B: number,
  T: number,
  S: number,
  slidingWindow?: number | null,
  segmentIds?: Tensor | null,
): Tensor | null {
  // One query at the end with nothing masked: every key is allowed, no bias needed.
  if (T === 1 && !mask && !segmentIds && !(slidingWindow && slidingWindow > 0 && slidingWindow < S)) return null;
  return scope(() => {
    const qpos = arange(S - T, S).view(T, 1);
    const kpos = arange(S).view(1, S);
    let allowed = kpos.le(qpos);
    if (slidingWindow && slidingWindow > 0) allowed = allowed.logicalAnd(qpos.sub(kpos).lt(slidingWindow));
    let a = allowed.view(1, 1, T, S);
    if (segmentIds) {
      if (segmentIds.shape[0] !== B || segmentIds.shape[1] !== S)
        throw new TypeError(`pacer: segment ids must be [batch ${B}, keys ${S}], got [${segmentIds.shape}]`);
      const q = segmentIds.narrow(1, S - T, T).view(B, 1, T, 1);
      a = a.logicalAnd(q.eq(segmentIds.view(B, 1, 1, S)));
    }
    if (mask) {
      if (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== S)
        throw new TypeError(`pacer: attention mask must be [batch ${B}, keys ${S}], got [${mask.shape}]`);
      a = a.logicalAnd(mask.view(B, 1, 1, S).ne(0)).logicalOr(kpos.eq(qpos).view(1, 1, T, S));
    }
    return where(a, 0, -Infinity).expand(B, 1, T, S);
  });
}

/** Position ids [B, S] for a (left-)padded batch: count of real tokens before each, pads at 0. */
export function positionIdsFromMask(mask: Tensor): Tensor {
  return scope(() => mask.long().cumsum(1).sub(1).clamp(0, null));
}

/** Per-layer key/value cache; tensors are [B, Hkv, S, headDim]. */
export class KVCache {
  /** M-RoPE models (Qwen2-VL): per row, position minus cache index for the tokens after the prompt. */
  ropeDeltas: number[] | null = null;
  private readonly k: (Tensor | null)[];
  private readonly v: (Tensor | null)[];
  constructor(readonly numLayers: number) {
    this.k = new Array(numLayers).fill(null);
    this.v = new Array(numLayers).fill(null);
  }
  /** Number of cached positions. */
  get length(): number {
    const k = this.k[0];
    return k ? k.shape[2] : 0;
  }
  /** Append this step's keys/values for a layer; returns the full keys and values. */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pk = this.k[layer];
    const pv = this.v[layer];
    const nk = keep(pk ? F.cat([pk, k], 2) : k.contiguous());
    const nv = keep(pv ? F.cat([pv, v], 2) : v.contiguous());
    pk?.dispose();
    pv?.dispose();
    this.k[layer] = nk;
    this.v[layer] = nv;
    return [nk, nv];
  }
  /** Keep only the rows in `index` (e.g. to drop finished sequences). */
  select(index: Tensor): void {
    if (this.ropeDeltas) {
      const d = this.ropeDeltas;
      this.ropeDeltas = index.toArray().map((i) => d[i]);
    }
    for (const arr of [this.k, this.v])
      arr.forEach((t, i) => {
        if (!t) return;
        arr[i] = keep(t.indexSelect(0, index));
        t.dispose();
      });
  }
  dispose(): void {
    for (const t of [...this.k, ...this.v]) t?.dispose();
    this.k.fill(null);
    this.v.fill(null);
    this.ropeDeltas = null;
  }
}

/**
 * softmax(q k^T * scale + bias) v for q [B, H, T, d], k/v [B, Hkv, S, d] (H a multiple of Hkv);
 * returns [B, T, H*d]. Grouped-query heads are not repeated: the rep = H / Hkv query heads that share a
 * key/value head (heads h·rep … h·rep + rep − 1, as transformers' repeat_kv pairs them) are stacked as
 * rows of one matrix, so each key/value head enters one GEMM as it is — no [B, H, S, d] copies of the
 * keys and values (measured on a decoding step at batch 64 with 176 cached positions: 6.5–7.9 ms → 1.0 ms
 * per layer, the same numbers). The scale and bias are fused into one batched GEMM (baddbmm).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, scale: number): Tensor {
  const [B, H, T, d] = q.shape;
  const [, Hkv, S] = k.shape;
  if (H % Hkv !== 0) throw new TypeError(`pacer: ${H} query heads are not a multiple of ${Hkv} key/value heads`);
  const rep = H / Hkv;
  const qg = q.reshape(B * Hkv, rep * T, d);
  const kT = k.reshape(B * Hkv, S, d).transpose(1, 2);
  const scores = bias
    ? F.baddbmm(groupedBias(bias.to(q.dtype), B, H, Hkv, T, S), qg, kT, 1, scale)
    : qg.bmm(kT).mul(scale);
  // Softmax in float32 for half-precision models, as HF does.
  const att = q.dtype === 'float32' ? scores.softmax(-1) : scores.softmax(-1, 'float32').to(q.dtype);
  return att
    .bmm(v.reshape(B * Hkv, S, d))
    .view(B, H, T, d)
    .transpose(1, 2)
    .reshape(B, T, H * d);
}

/** An additive bias broadcastable to [B, 1, T, S] (or one per head, [B, H, T, S]) as [B·Hkv, rep·T, S]. */
function groupedBias(bias: Tensor, B: number, H: number, Hkv: number, T: number, S: number): Tensor {
  const rep = H / Hkv;
  const perHead = bias.ndim === 4 && bias.shape[1] === H && H > 1;
  const b = perHead ? bias.expand(B, H, T, S) : bias.expand(B, 1, T, S).unsqueeze(1).expand(B, Hkv, rep, T, S);
  return b.reshape(B * Hkv, rep * T, S);
}
