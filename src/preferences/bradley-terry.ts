// Bradley–Terry ratings by maximum likelihood (Bradley & Terry 1952; Hunter 2004), with ties
// either as half wins (Chatbot Arena's elo_analysis.py: a tie is half a win for each side) or by
// Davidson's model (Davidson 1970, "On extending the Bradley–Terry model to accommodate ties"):
//
//   half:      P(i ≻ j) = σ(r_i − r_j);  a tie adds ½·log σ(r_i − r_j) + ½·log σ(r_j − r_i)
//   davidson:  P(i ≻ j) = e^{r_i} / D,  P(tie) = ν·e^{(r_i + r_j)/2} / D,  D = e^{r_i} + e^{r_j} + ν·e^{(r_i + r_j)/2}
//
// r are log-strengths (reported with mean 0; Elo scale = 1000 + r·400/ln 10, as Arena's r·400 + 1000
// in base 10). The fit is Newton's method with step halving on the concave log-likelihood; without a
// prior the gauge (a common shift of r) is fixed by solving with −H + 11ᵀ, which equals the
// pseudo-inverse step because the gradient sums to zero. The MLE exists only when the "beat or tied"
// graph is strongly connected (Ford 1957); otherwise the fit refuses, unless `prior` > 0: each item
// then also plays `prior` virtual ties against an item of rating 0 (a concave penalty
// prior·[½ log σ(r) + ½ log σ(−r)] that keeps undefeated items finite and fades as votes accumulate).
import type { PairCounts } from './counts.js';
import { cholesky, choleskySolve, inverse, solveInPlace } from './linalg.js';

export const TIE_MODELS = ['half', 'davidson'] as const;
export type TieModel = (typeof TIE_MODELS)[number];

export interface FitOptions {
  /** How ties count (default 'half'). */
  ties?: TieModel;
  /** Virtual ties per item against a rating-0 item (default 0: the plain MLE). */
  prior?: number;
  /** Starting ratings (a warm start, e.g. the full-data fit for bootstrap refits). */
  init?: ArrayLike<number>;
  maxIter?: number;
  /** Stop when no rating moves more than this (default 1e-9). */
  tol?: number;
}

export interface RatingFit {
  /** Log-strengths, mean 0. */
  ratings: Float64Array;
  /** Davidson's ν (0 when no tie was seen); null for half wins. */
  nu: number | null;
  logLik: number;
  iterations: number;
}

/** The compared pairs (i < j) with their counts, for fast loops. */
interface Pairs {
  m: number;
  i: Int32Array;
  j: Int32Array;
  wij: Float64Array;
  wji: Float64Array;
  t: Float64Array;
}

function compact(c: PairCounts): Pairs {
  const n = c.n;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (c.total(i, j) > 0) idx.push(i * n + j);
  const m = idx.length;
  const p: Pairs = {
    m,
    i: new Int32Array(m),
    j: new Int32Array(m),
    wij: new Float64Array(m),
    wji: new Float64Array(m),
    t: new Float64Array(m),
  };
  idx.forEach((k, q) => {
    const i = Math.floor(k / n),
      j = k % n;
    p.i[q] = i;
    p.j[q] = j;
    p.wij[q] = c.wins[i * n + j];
    p.wji[q] = c.wins[j * n + i];
    p.t[q] = c.ties[i * n + j];
  });
  return p;
}

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

/** A model's log-likelihood and its derivatives: g (gradient) and A = −Hessian, both zeroed first. */
interface Model {
  size: number;
  value(x: Float64Array): number;
  /** Fills g, and A when given. */
  derivs(x: Float64Array, g: Float64Array, A: Float64Array | null): void;
}

function priorTerms(
  n: number,
  v: number,
  x: Float64Array,
  g: Float64Array | null,
  A: Float64Array | null,
  size: number,
) {
  let f = 0;
  if (v <= 0) return 0;
  for (let i = 0; i < n; i++) {
    f += v * 0.5 * (logSigmoid(x[i]) + logSigmoid(-x[i]));
    if (g) {
      const s = sigmoid(x[i]);
      g[i] += v * (0.5 - s);
      if (A) A[i * size + i] += v * s * (1 - s);
    }
  }
  return f;
}

function halfModel(n: number, P: Pairs, prior: number): Model {
  return {
    size: n,
    value(x) {
      let f = priorTerms(n, prior, x, null, null, n);
      for (let q = 0; q < P.m; q++) {
        // s_ij·log σ(d) + s_ji·log σ(−d), with log σ(−d) = log σ(d) − d
        const d = x[P.i[q]] - x[P.j[q]];
        const sji = P.wji[q] + 0.5 * P.t[q];
        f += (P.wij[q] + P.t[q] + P.wji[q]) * logSigmoid(d) - sji * d;
      }
      return f;
    },
    derivs(x, g, A) {
      g.fill(0);
      A?.fill(0);
      priorTerms(n, prior, x, g, A, n);
      for (let q = 0; q < P.m; q++) {
        const i = P.i[q],
          j = P.j[q];
        const N = P.wij[q] + P.wji[q] + P.t[q];
        const p = sigmoid(x[i] - x[j]);
        const gd = P.wij[q] + 0.5 * P.t[q] - N * p;
        g[i] += gd;
        g[j] -= gd;
        if (!A) continue;
        const h = N * p * (1 - p);
        A[i * n + i] += h;
        A[j * n + j] += h;
        A[i * n + j] -= h;
        A[j * n + i] -= h;
      }
    },
  };
}

/** Davidson's log-likelihood terms of one pair at difference d and log ν = θ (scaled by the largest term). */
function davidsonPair(d: number, th: number) {
  const a = Math.abs(d / 2);
  const mx = Math.max(a, th);
  const big = Math.exp(a - mx),
    et = Math.exp(th - mx);
  const small = big * Math.exp(-2 * a); // e^{−a−mx}
  const z = big + small + et;
  const [ei, ej] = d >= 0 ? [big, small] : [small, big];
  return { logZ: mx + Math.log(z), pi: ei / z, pj: ej / z, pt: et / z };
}

function davidsonModel(n: number, P: Pairs, prior: number): Model {
  const size = n + 1;
  return {
    size,
    value(x) {
      let f = priorTerms(n, prior, x, null, null, size);
      const th = x[n];
      for (let q = 0; q < P.m; q++) {
        const d = x[P.i[q]] - x[P.j[q]];
        const N = P.wij[q] + P.wji[q] + P.t[q];
        f += ((P.wij[q] - P.wji[q]) * d) / 2 + P.t[q] * th - N * davidsonPair(d, th).logZ;
      }
      return f;
    },
    derivs(x, g, A) {
      g.fill(0);
      A?.fill(0);
      priorTerms(n, prior, x, g, A, size);
      const th = x[n];
      for (let q = 0; q < P.m; q++) {
        const i = P.i[q],
          j = P.j[q];
        const N = P.wij[q] + P.wji[q] + P.t[q];
        const { pi, pj, pt } = davidsonPair(x[i] - x[j], th);
        const gd = 0.5 * (P.wij[q] - P.wji[q] - N * (pi - pj));
        g[i] += gd;
        g[j] -= gd;
        g[n] += P.t[q] - N * pt;
        if (!A) continue;
        const hdd = (N / 4) * (pi + pj - (pi - pj) ** 2);
        const hdt = (-N * (pi - pj) * pt) / 2;
        A[i * size + i] += hdd;
        A[j * size + j] += hdd;
        A[i * size + j] -= hdd;
        A[j * size + i] -= hdd;
        A[n * size + n] += N * pt * (1 - pt);
        A[i * size + n] += hdt;
        A[n * size + i] += hdt;
        A[j * size + n] -= hdt;
        A[n * size + j] -= hdt;
      }
    },
  };
}

/**
 * Chord steps x += A₀⁻¹·g(x) with a fixed factor L of a nearby −H (+ gauge): no factorization and no
 * likelihood evaluation per step. Stops (restoring the last point) when the gradient grows, which
 * hands over to Newton; returns the steps taken when it converged, else 0.
 */
function chord(model: Model, x: Float64Array, L: Float64Array, maxIter: number, tol: number): number {
  const m = model.size;
  const g = new Float64Array(m);
  const prev = x.slice();
  let prevNorm = Infinity;
  for (let it = 0; it < maxIter; it++) {
    model.derivs(x, g, null);
    let norm = 0;
    for (let q = 0; q < m; q++) norm = Math.max(norm, Math.abs(g[q]));
    if (norm > prevNorm) {
      x.set(prev);
      return 0;
    }
    prevNorm = norm;
    prev.set(x);
    const step = choleskySolve(L, g, m);
    let moved = 0;
    for (let q = 0; q < m; q++) {
      x[q] += step[q];
      moved = Math.max(moved, Math.abs(step[q]));
    }
    if (moved < tol) return it + 1;
  }
  return 0;
}

/** Newton ascent with step halving; `gauge` adds 11ᵀ on the first n coordinates (no prior). */
function ascend(model: Model, x: Float64Array, n: number, gauge: boolean, maxIter: number, tol: number) {
  const m = model.size;
  const g = new Float64Array(m);
  const A = new Float64Array(m * m);
  const trial = new Float64Array(m);
  let f = model.value(x);
  for (let it = 0; it < maxIter; it++) {
    model.derivs(x, g, A);
    if (gauge) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * m + j] += 1;
    const step = solveInPlace(A, g, m);
    let alpha = 1;
    let moved = 0;
    for (let k = 0; k < 40; k++, alpha /= 2) {
      for (let q = 0; q < m; q++) trial[q] = x[q] + alpha * step[q];
      const ft = model.value(trial);
      if (ft >= f - 1e-12 * Math.abs(f) || k === 39) {
        f = ft;
        for (let q = 0; q < m; q++) moved = Math.max(moved, Math.abs(alpha * step[q]));
        x.set(trial);
        break;
      }
    }
    if (moved < tol) return { f, it: it + 1 };
  }
  return { f, it: maxIter };
}

function center(x: Float64Array, n: number): Float64Array {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i] - s / n;
  return out;
}

/** Fit ratings to pairwise counts by maximum likelihood (see the header for the models). */
export function fitBradleyTerry(counts: PairCounts, o: FitOptions = {}): RatingFit {
  const n = counts.n;
  const ties = o.ties ?? 'half';
  const prior = o.prior ?? 0;
  if (!TIE_MODELS.includes(ties)) throw new RangeError(`pacer: ties must be one of ${TIE_MODELS.join(', ')}`);
  if (!(prior >= 0)) throw new RangeError(`pacer: prior must be >= 0, got ${prior}`);
  if (n === 0) return { ratings: new Float64Array(0), nu: ties === 'davidson' ? 0 : null, logLik: 0, iterations: 0 };
  if (prior === 0 && !counts.mleExists())
    throw new RangeError(
      'pacer: the Bradley–Terry MLE does not exist for these comparisons (some items never beat or tied the ' +
        'others, or the comparison graph is not connected); collect more votes or fit with prior > 0',
    );
  const P = compact(counts);
  const { model, davidson, T, decisive } = modelFor(n, P, ties, prior);
  const x = new Float64Array(model.size);
  if (o.init) for (let i = 0; i < n; i++) x[i] = o.init[i];
  if (davidson) x[n] = Math.log((2 * T) / decisive);
  const { f, it } = ascend(model, x, n, prior === 0, o.maxIter ?? 100, o.tol ?? 1e-9);
  return result(x, n, ties, davidson, T, decisive, f, it);
}

/** The model for these counts: Davidson without ties is BT with ν = 0; with only ties ν is unbounded. */
function modelFor(n: number, P: Pairs, ties: TieModel, prior: number) {
  let T = 0,
    decisive = 0;
  for (let q = 0; q < P.m; q++) {
    T += P.t[q];
    decisive += P.wij[q] + P.wji[q];
  }
  const davidson = ties === 'davidson' && T > 0 && decisive > 0;
  return { model: davidson ? davidsonModel(n, P, prior) : halfModel(n, P, prior), davidson, T, decisive };
}

function result(
  x: Float64Array,
  n: number,
  ties: TieModel,
  davidson: boolean,
  T: number,
  decisive: number,
  f: number,
  it: number,
): RatingFit {
  let nu: number | null = null;
  if (ties === 'davidson') nu = davidson ? Math.exp(x[n]) : decisive === 0 && T > 0 ? Infinity : 0;
  return { ratings: center(x, n), nu, logLik: f, iterations: it };
}

/**
 * Refits for resamples of `base` (the same items and compared pairs, other counts), starting at its
 * fit `start` and stepping with −H at that fit (a chord method), then Newton if 30 chord steps did
 * not converge. Bootstrap rounds use it: most need a handful of cheap steps.
 */
export function makeRefitter(base: PairCounts, start: RatingFit, o: FitOptions = {}): (c: PairCounts) => RatingFit {
  const n = base.n;
  const ties = o.ties ?? 'half';
  const prior = o.prior ?? 0;
  const tol = o.tol ?? 1e-9;
  const P0 = compact(base);
  const b = modelFor(n, P0, ties, prior);
  const x0 = new Float64Array(b.model.size);
  x0.set(start.ratings);
  if (b.davidson) x0[n] = Math.log(start.nu!);
  const m = b.model.size;
  const A0 = new Float64Array(m * m);
  b.model.derivs(x0, new Float64Array(m), A0);
  if (prior === 0) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A0[i * m + j] += 1;
  const L = cholesky(A0, m);
  return (c) => {
    if (c.n !== n) throw new RangeError('pacer: a refit needs the same items');
    if (prior === 0 && !c.mleExists()) return fitBradleyTerry(c, o); // throws, naming the reason
    const P: Pairs = { ...P0, wij: new Float64Array(P0.m), wji: new Float64Array(P0.m), t: new Float64Array(P0.m) };
    for (let q = 0; q < P.m; q++) {
      P.wij[q] = c.wins[P.i[q] * n + P.j[q]];
      P.wji[q] = c.wins[P.j[q] * n + P.i[q]];
      P.t[q] = c.ties[P.i[q] * n + P.j[q]];
    }
    const r = modelFor(n, P, ties, prior);
    if (!L || r.davidson !== b.davidson) return fitBradleyTerry(c, { ...o, init: start.ratings });
    const x = x0.slice();
    const steps = chord(r.model, x, L, 30, tol);
    if (steps > 0) return result(x, n, ties, r.davidson, r.T, r.decisive, r.model.value(x), steps);
    const out = ascend(r.model, x, n, prior === 0, o.maxIter ?? 100, tol);
    return result(x, n, ties, r.davidson, r.T, r.decisive, out.f, out.it);
  };
}

/**
 * Fisher information −H of the half-wins log-likelihood at `ratings` (n×n), and the covariance of
 * the ratings: its inverse with a prior, else the pseudo-inverse (−H + 11ᵀ/n)⁻¹ − 11ᵀ/n.
 */
export function ratingCovariance(counts: PairCounts, ratings: ArrayLike<number>, prior = 0): Float64Array {
  const n = counts.n;
  const model = halfModel(n, compact(counts), prior);
  const g = new Float64Array(n);
  const A = new Float64Array(n * n);
  model.derivs(Float64Array.from(ratings), g, A);
  if (prior > 0) return inverse(A, n);
  for (let k = 0; k < n * n; k++) A[k] += 1 / n;
  const S = inverse(A, n);
  for (let k = 0; k < n * n; k++) S[k] -= 1 / n;
  return S;
}

/** Log-strengths on the Elo scale: 1000 + r·400/ln 10 (Arena's r·400 + 1000 in base 10). */
export function toEloScale(r: number): number {
  return 1000 + (r * 400) / Math.LN10;
}
