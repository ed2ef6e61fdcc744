// RAFT — reward-ranked fine-tuning (Dong et al. 2023, "RAFT: Reward rAnked FineTuning for Generative
// Foundation Model Alignment", arXiv 2304.06767); rejection-sampling fine-tuning. For each prompt G
// completions are sampled and scored; the top k by reward are kept (ties: the earlier completion)
// and the policy is fine-tuned on them by maximum likelihood:
//   L = −(1/N) Σ_{i kept} Σ_t log π(y_i,t | x, y_i,<t),   N = kept completion tokens
// (N over the whole accumulated batch when `tokens` is given). Log-probs are the policy's raw
// distribution (no sampling temperature), as in SFT.
import { type Tensor, tensor } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';

/** Rows kept: the top-k rewards of each consecutive group of G (ties: earlier first). */
export function raftSelect(rewards: number[], G: number, topK: number): number[] {
  if (rewards.length % G !== 0) throw new Error(`pacer: ${rewards.length} rewards do not split into groups of ${G}`);
  const keep: number[] = [];
  for (let g = 0; g < rewards.length; g += G) {
    const order = Array.from({ length: G }, (_, j) => g + j).sort((a, b) => rewards[b] - rewards[a] || a - b);
    keep.push(...order.slice(0, topK));
  }
  return keep;
}

/**
 * The NLL of the kept rows: logps [B, T] per-token log-probs (raw distribution), mask [B, T] float
 * (1 on completion tokens), rows the kept row indices; `tokens` normalises by a global token count.
 */
export function raftLoss(x: { logps: Tensor; mask: Tensor }, rows: number[], tokens?: number): ObjectiveOutput {
  const idx = tensor(rows, { dtype: 'int64' });
  const keptMask = x.mask.indexSelect(0, idx);
  const n = keptMask.sum().item();
  const loss = x.logps
    .indexSelect(0, idx)
    .mul(keptMask)
    .sum()
    .neg()
    .div(Math.max(1, tokens ?? n));
  return { loss, metrics: { loss: loss.item(), num_tokens: n } };
}
