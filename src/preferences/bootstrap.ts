// Bootstrap confidence intervals for ratings, as Chatbot Arena computes them (FastChat
// elo_analysis.py): resample the votes with replacement (a multinomial draw of the outcome counts),
// refit, and take the 2.5 and 97.5 percentiles of each item's rating over the rounds (linear
// interpolation between order statistics, numpy's default). Ratings are centred in every round, so
// the intervals are for ratings relative to the mean item. An item's rank is 1 + the number of items
// whose lower bound is above its upper bound (Arena's rule). Refits start from the full-data fit.
import { rng } from '../data/random.js';
import { type Comparison, PairCounts } from './counts.js';
import { type FitOptions, type RatingFit, fitBradleyTerry, makeRefitter } from './bradley-terry.js';

export interface BootstrapOptions extends FitOptions {
  /** Resampling rounds (default 1000). */
  rounds?: number;
  seed?: number;
  /** Two-sided coverage (default 0.95). */
  level?: number;
}

export interface BootstrapResult {
  fit: RatingFit;
  lower: Float64Array;
  upper: Float64Array;
  /** Arena's rank: 1 + items whose lower bound exceeds this item's upper bound. */
  rank: Int32Array;
  rounds: number;
}

/** The q-quantile of sorted values, interpolating linearly (numpy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Arena's rank from interval bounds. */
export function ranksFromIntervals(lower: ArrayLike<number>, upper: ArrayLike<number>): Int32Array {
  const n = lower.length;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let above = 0;
    for (let j = 0; j < n; j++) if (j !== i && lower[j] > upper[i]) above++;
    rank[i] = 1 + above;
  }
  return rank;
}

export function bootstrapRatings(
  n: number,
  comparisons: readonly Comparison[],
  o: BootstrapOptions = {},
): BootstrapResult {
  const rounds = o.rounds ?? 1000;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`pacer: rounds must be an integer >= 1`);
  if (!(level > 0 && level < 1)) throw new RangeError(`pacer: level must be in (0, 1), got ${level}`);
  const base = PairCounts.from(n, comparisons);
  const fit = fitBradleyTerry(base, o);
  // refits stop when no rating moves by 1e-6 (0.0002 Elo points), far below the intervals' precision
  const refitOf = makeRefitter(base, fit, { ...o, tol: o.tol ?? 1e-6 });
  // each vote as the cell it adds to: winner·n + loser in `wins`, or min·n + max in `ties`
  const N = comparisons.length;
  const cell = new Int32Array(N);
  const isTie = new Uint8Array(N);
  const weight = new Float64Array(N);
  comparisons.forEach((c, k) => {
    const [w, l] = c.outcome === 0 ? [c.b, c.a] : [c.a, c.b];
    isTie[k] = c.outcome === 0.5 ? 1 : 0;
    cell[k] = isTie[k] ? Math.min(w, l) * n + Math.max(w, l) : w * n + l;
    weight[k] = c.weight ?? 1;
  });
  const rand = rng(o.seed ?? 0);
  const samples = Array.from({ length: n }, () => new Float64Array(rounds));
  const counts = new PairCounts(n);
  for (let r = 0; r < rounds; r++) {
    counts.wins.fill(0);
    counts.ties.fill(0);
    for (let k = 0; k < N; k++) {
      const v = Math.floor(rand() * N);
      (isTie[v] ? counts.ties : counts.wins)[cell[v]] += weight[v];
    }
    let refit: RatingFit;
    try {
      refit = refitOf(counts);
    } catch (e) {
      throw new RangeError(`${(e as Error).message} (bootstrap round ${r + 1})`);
    }
    for (let i = 0; i < n; i++) samples[i][r] = refit.ratings[i];
  }
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const a = (1 - level) / 2;
  samples.forEach((s, i) => {
    s.sort();
    lower[i] = quantileSorted(s, a);
    upper[i] = quantileSorted(s, 1 - a);
  });
  return { fit, lower, upper, rank: ranksFromIntervals(lower, upper), rounds };
}
