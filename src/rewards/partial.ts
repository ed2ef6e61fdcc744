// Partial-credit rewards.
//   partial_match: the fraction of reference items (a list, or a comma/semicolon-separated string)
//     found in the completion's answer (case-insensitive), e.g. multi-label or multi-cue answers.
//   hierarchical: credit by the depth of agreement along a reference path ("animal/dog/terrier"):
//     (number of leading levels matched) / (depth of the reference) — coarse right, fine wrong
//     still earns part of the reward (CueBench-style hierarchical labels).
import { extractAnswer } from './accuracy.js';
import { column, completionText, type RewardFunction } from './types.js';

function items(v: unknown): string[] {
  const arr = Array.isArray(v) ? v.map(String) : String(v).split(/[;,]/);
  return arr.map((s) => s.trim().toLowerCase()).filter(Boolean);
}

export function partialMatchReward(o: { column?: string } = {}): RewardFunction {
  return (input) => {
    const ref = column(input, o.column ?? 'answer', 'partial_match');
    return input.completions.map((c, i) => {
      if (ref[i] == null) return null;
      const want = items(ref[i]);
      if (want.length === 0) return null;
      const got = new Set(items(extractAnswer(completionText(c)) ?? completionText(c)));
      return want.filter((w) => got.has(w)).length / want.length;
    });
  };
}

export function hierarchicalReward(o: { column?: string; separator?: string } = {}): RewardFunction {
  const sep = o.separator ?? '/';
  return (input) => {
    const ref = column(input, o.column ?? 'answer', 'hierarchical');
    return input.completions.map((c, i) => {
      if (ref[i] == null) return null;
      const want = String(ref[i])
        .toLowerCase()
        .split(sep)
        .map((s) => s.trim());
      const got = (extractAnswer(completionText(c)) ?? completionText(c))
        .toLowerCase()
        .split(sep)
        .map((s) => s.trim());
      let k = 0;
      while (k < want.length && got[k] === want[k]) k++;
      return k / want.length;
    });
  };
}
