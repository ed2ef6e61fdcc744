// Judgments as pairwise outcomes, the common currency of the rating fits and of TRL export:
//   pairwise (Arena)       a | b | tie | both_bad  → one comparison (both bad counts as a tie, as
//                          Arena's "tie (bothbad)")
//   best and worst of K    the best beats each other candidate, each other candidate beats the worst
//   (ICPL, MaxDiff)        (2K − 3 comparisons; K = 2 gives one)
//   ranking with ties      all K(K−1)/2 pairs: the better rank wins, equal ranks tie (InstructGPT)
import type { Comparison } from './counts.js';

export const PAIRWISE_VERDICTS = ['a', 'b', 'tie', 'both_bad'] as const;
export type PairwiseVerdict = (typeof PAIRWISE_VERDICTS)[number];

export function pairwiseComparison(a: number, b: number, v: PairwiseVerdict): Comparison {
  return { a, b, outcome: v === 'a' ? 1 : v === 'b' ? 0 : 0.5 };
}

export function bestWorstComparisons(items: readonly number[], best: number, worst: number): Comparison[] {
  if (!items.includes(best) || !items.includes(worst) || best === worst)
    throw new RangeError('pacer: best and worst must be two different candidates of the set');
  const out: Comparison[] = [];
  for (const x of items) if (x !== best) out.push({ a: best, b: x, outcome: 1 });
  for (const x of items) if (x !== best && x !== worst) out.push({ a: x, b: worst, outcome: 1 });
  return out;
}

/** ranks[k] is the rank of items[k] (1 = best; equal numbers are ties). */
export function rankingComparisons(items: readonly number[], ranks: readonly number[]): Comparison[] {
  if (items.length !== ranks.length) throw new RangeError('pacer: one rank per candidate');
  const out: Comparison[] = [];
  for (let x = 0; x < items.length; x++)
    for (let y = x + 1; y < items.length; y++)
      out.push({ a: items[x], b: items[y], outcome: ranks[x] < ranks[y] ? 1 : ranks[x] > ranks[y] ? 0 : 0.5 });
  return out;
}
