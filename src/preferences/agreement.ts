// Inter-annotator agreement.
//   Cohen's κ (Cohen 1960), two raters on the same units: κ = (p_o − p_e) / (1 − p_e), p_o the share
//   of units they label alike, p_e = Σ_c p_1(c)·p_2(c) from each rater's own label frequencies.
//   Krippendorff's α (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"), any number of
//   raters, missing values allowed: from the coincidence matrix o_ck = Σ_u (pairs of values c, k by
//   different raters in unit u) / (m_u − 1), n_c = Σ_k o_ck, n = Σ_c n_c,
//     α = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck
//   with δ² nominal [c ≠ k], ordinal (Σ_{g between c and k} n_g − (n_c + n_k)/2)², interval (c − k)²,
//   ratio ((c − k)/(c + k))². Units with fewer than two values are not pairable and are dropped.
// Both are undefined (NaN) when the expected disagreement is zero (everyone used one label).

export type Label = string | number;

export interface KappaResult {
  kappa: number;
  observed: number;
  expected: number;
  n: number;
}

export function cohenKappa(pairs: ReadonlyArray<readonly [Label, Label]>): KappaResult {
  const n = pairs.length;
  if (n === 0) return { kappa: Number.NaN, observed: Number.NaN, expected: Number.NaN, n };
  const f1 = new Map<Label, number>();
  const f2 = new Map<Label, number>();
  let same = 0;
  for (const [a, b] of pairs) {
    if (a === b) same++;
    f1.set(a, (f1.get(a) ?? 0) + 1);
    f2.set(b, (f2.get(b) ?? 0) + 1);
  }
  let pe = 0;
  for (const [c, k] of f1) pe += (k / n) * ((f2.get(c) ?? 0) / n);
  const po = same / n;
  return { kappa: pe === 1 ? Number.NaN : (po - pe) / (1 - pe), observed: po, expected: pe, n };
}

export const ALPHA_METRICS = ['nominal', 'ordinal', 'interval', 'ratio'] as const;
export type AlphaMetric = (typeof ALPHA_METRICS)[number];

export interface AlphaResult {
  alpha: number;
  /** Pairable values (n in Krippendorff's notation). */
  n: number;
  /** Units with at least two values. */
  units: number;
}

function distance2(metric: AlphaMetric, values: Label[], nc: Float64Array): (c: number, k: number) => number {
  if (metric === 'nominal') return (c, k) => (c === k ? 0 : 1);
  const v = values.map((x) => {
    if (typeof x !== 'number') throw new TypeError(`pacer: ${metric} alpha needs numeric values, got '${x}'`);
    return x;
  });
  if (metric === 'interval') return (c, k) => (v[c] - v[k]) ** 2;
  if (metric === 'ratio') return (c, k) => (v[c] + v[k] === 0 ? 0 : ((v[c] - v[k]) / (v[c] + v[k])) ** 2);
  const cum = new Float64Array(nc.length + 1);
  for (let c = 0; c < nc.length; c++) cum[c + 1] = cum[c] + nc[c];
  return (c, k) => {
    const [lo, hi] = c <= k ? [c, k] : [k, c];
    return (cum[hi + 1] - cum[lo] - (nc[lo] + nc[hi]) / 2) ** 2;
  };
}

/** Krippendorff's α over units, each the list of values its raters gave (missing ones left out). */
export function krippendorffAlpha(
  units: ReadonlyArray<readonly Label[]>,
  metric: AlphaMetric = 'nominal',
): AlphaResult {
  if (!ALPHA_METRICS.includes(metric)) throw new RangeError(`pacer: metric must be one of ${ALPHA_METRICS.join(', ')}`);
  const pairable = units.filter((u) => u.length >= 2);
  const values = [...new Set(pairable.flat())];
  if (metric !== 'nominal') (values as number[]).sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const V = values.length;
  const o = new Float64Array(V * V);
  for (const u of pairable) {
    const cnt = new Map<number, number>();
    for (const x of u) {
      const c = index.get(x)!;
      cnt.set(c, (cnt.get(c) ?? 0) + 1);
    }
    for (const [c, nc] of cnt)
      for (const [k, nk] of cnt) o[c * V + k] += (nc * (nk - (c === k ? 1 : 0))) / (u.length - 1);
  }
  const nc = new Float64Array(V);
  for (let c = 0; c < V; c++) for (let k = 0; k < V; k++) nc[c] += o[c * V + k];
  const n = nc.reduce((a, b) => a + b, 0);
  const d2 = distance2(metric, values, nc);
  let Do = 0,
    De = 0;
  for (let c = 0; c < V; c++)
    for (let k = 0; k < V; k++) {
      const d = d2(c, k);
      Do += o[c * V + k] * d;
      De += nc[c] * nc[k] * d;
    }
  return { alpha: De === 0 ? Number.NaN : 1 - ((n - 1) * Do) / De, n, units: pairable.length };
}
