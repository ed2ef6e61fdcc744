// Active pair selection: show next the pair whose vote most reduces rating uncertainty, with a
// fairness floor so every item gets seen. With Σ the covariance of the Bradley–Terry ratings (the
// inverse Fisher information at the current fit) and d = e_i − e_j, one more comparison of i and j
// adds w·d·dᵀ to the information, w = p(1 − p), p = σ(r_i − r_j); by Sherman–Morrison the total
// variance tr Σ drops by
//     gain(i, j) = w·‖Σd‖² / (1 + w·dᵀΣd)
// (A-optimal design; cf. Chatbot Arena's rule of sampling the pair whose interval shrinks most,
// arXiv 2403.04132 §5). Fairness floor: an item compared fewer than `fairness` × the mean number of
// comparisons (or never) is starved; while one is, the next pair must include the most starved
// item. Equal gains are broken at random, so concurrent annotators spread over pairs.
import type { PairCounts } from './counts.js';
import { fitBradleyTerry, ratingCovariance, sigmoid } from './bradley-terry.js';

export interface ActiveOptions {
  /** Virtual ties per item for the fit (default 1; the plain MLE rarely exists early on). */
  prior?: number;
  /** Starved below this share of the mean comparison count (default 0.5; 0 turns the floor off). */
  fairness?: number;
  /** Uniform random numbers in [0, 1) for tie-breaking (default Math.random). */
  random?: () => number;
  /** A warm start for the fit (the ratings of the previous choice). */
  init?: ArrayLike<number>;
}

export interface PairChoice {
  pair: [number, number];
  gain: number;
  reason: 'fairness' | 'uncertainty';
  /** The fit the choice was made on. */
  ratings: Float64Array;
}

/** The expected drop of tr Σ for each candidate pair. */
export function pairGains(
  ratings: ArrayLike<number>,
  cov: Float64Array,
  n: number,
  candidates: ReadonlyArray<readonly [number, number]>,
): number[] {
  return candidates.map(([i, j]) => {
    const p = sigmoid(ratings[i] - ratings[j]);
    const w = p * (1 - p);
    let norm2 = 0;
    for (let k = 0; k < n; k++) norm2 += (cov[k * n + i] - cov[k * n + j]) ** 2;
    const q = cov[i * n + i] - 2 * cov[i * n + j] + cov[j * n + j];
    return (w * norm2) / (1 + w * q);
  });
}

export function choosePair(
  counts: PairCounts,
  candidates: ReadonlyArray<readonly [number, number]>,
  o: ActiveOptions = {},
): PairChoice | null {
  if (candidates.length === 0) return null;
  const prior = o.prior ?? 1;
  const fairness = o.fairness ?? 0.5;
  const random = o.random ?? Math.random;
  const seen = counts.perItem();
  const items = [...new Set(candidates.flat())];
  const mean = items.reduce((s, i) => s + seen[i], 0) / items.length;
  const starved = items.filter((i) => seen[i] === 0 || seen[i] < fairness * mean);
  let pool = candidates;
  let reason: PairChoice['reason'] = 'uncertainty';
  if (fairness > 0 && starved.length > 0 && starved.length < items.length) {
    const least = Math.min(...starved.map((i) => seen[i]));
    const who = new Set(starved.filter((i) => seen[i] === least));
    pool = candidates.filter(([i, j]) => who.has(i) || who.has(j));
    reason = 'fairness';
  }
  const fit = fitBradleyTerry(counts, { prior, init: o.init });
  const gains = pairGains(fit.ratings, ratingCovariance(counts, fit.ratings, prior), counts.n, pool);
  const best = Math.max(...gains);
  const top = pool.filter((_, k) => gains[k] >= best * (1 - 1e-9));
  const pick = top[Math.min(top.length - 1, Math.floor(random() * top.length))];
  return { pair: [pick[0], pick[1]], gain: best, reason, ratings: fit.ratings };
}
