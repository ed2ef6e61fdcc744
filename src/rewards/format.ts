// Format and length rewards.
//   think_answer: 1 when the completion is "<think>…</think> <answer>…</answer>" (DeepSeek-R1 style).
//   reasoning_pattern: fraction of reasoning cues present (verification, step markers, conclusion),
//     a soft signal for structured reasoning (our choice of cues; configurable).
//   length: a linear penalty beyond a token budget, -min(1, (L - budget)/budget).
//   overlong (DAPO, Yu et al. 2025, arXiv 2503.14476, soft overlong punishment):
//     0 if L <= Lmax - Lcache; (Lmax - Lcache - L)/Lcache if Lmax - Lcache < L <= Lmax; -1 if L > Lmax.
import { completionText, type RewardFunction } from './types.js';

const THINK_ANSWER = /^\s*<think>[\s\S]+?<\/think>\s*<answer>[\s\S]+?<\/answer>\s*$/;

export function thinkAnswerFormatReward(): RewardFunction {
  return (input) => input.completions.map((c) => (THINK_ANSWER.test(completionText(c)) ? 1 : 0));
}

export const DEFAULT_REASONING_CUES = [
  /\b(first|second|then|next|finally)\b/i,
  /\b(because|since|so|therefore|thus)\b/i,
  /\b(check|verify|double-check)\b/i,
  /\b(answer is|the result is)\b/i,
];

export function reasoningPatternReward(cues: RegExp[] = DEFAULT_REASONING_CUES): RewardFunction {
  return (input) =>
    input.completions.map((c) => {
      const t = completionText(c);
      return cues.filter((re) => re.test(t)).length / cues.length;
    });
}

function lengths(input: { completions: string[]; completionIds?: number[][] }): number[] {
  return input.completionIds
    ? input.completionIds.map((ids) => ids.length)
    : input.completions.map((c) => completionText(c).length);
}

export function lengthPenaltyReward(o: { budget: number }): RewardFunction {
  if (!(o.budget > 0)) throw new Error('pacer: length reward needs a positive budget');
  return (input) => lengths(input).map((L) => (L <= o.budget ? 0 : -Math.min(1, (L - o.budget) / o.budget)));
}

/** DAPO's soft overlong punishment (lengths in tokens when completion ids are given). */
export function overlongPenalty(L: number, maxLength: number, cache: number): number {
  if (L <= maxLength - cache) return 0;
  if (L <= maxLength) return (maxLength - cache - L) / cache;
  return -1;
}

export function overlongPenaltyReward(o: { maxLength: number; cache: number }): RewardFunction {
  if (!(o.cache > 0 && o.cache < o.maxLength)) throw new Error('pacer: overlong reward needs 0 < cache < max_length');
  return (input) => lengths(input).map((L) => overlongPenalty(L, o.maxLength, o.cache));
}
