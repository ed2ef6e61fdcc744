// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback", arXiv
// 2402.04792; TRL's OnlineDPOTrainer with a reward function as the judge). For each prompt G
// completions are sampled from the current policy and scored; the best is chosen (y_w) and the
// worst rejected (y_l) — groups whose rewards are all equal give no pair — and DPO's sigmoid loss
//   L = −log σ(β·[(logπ(y_w) − logπ_ref(y_w)) − (logπ(y_l) − logπ_ref(y_l))])
// is minimised over the pairs (sequence log-probs summed over completion tokens).
import { type Tensor, tensor } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';
import { dpoLoss } from './dpo.js';

/** [chosen row, rejected row] per group of G: its best and worst reward (first on ties). */
export function bestWorstPairs(rewards: number[], G: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let g = 0; g < rewards.length; g += G) {
    const rows = Array.from({ length: G }, (_, j) => g + j);
    const best = rows.reduce((a, b) => (rewards[b] > rewards[a] ? b : a));
    const worst = rows.reduce((a, b) => (rewards[b] < rewards[a] ? b : a));
    if (rewards[best] > rewards[worst]) pairs.push([best, worst]);
  }
  return pairs;
}

/** DPO on the pairs: seqLogps / refSeqLogps are [B] sums over completion tokens. Null: no pair. */
export function onlineDpoLoss(
  x: { seqLogps: Tensor; refSeqLogps: Tensor },
  pairs: Array<[number, number]>,
  beta: number,
): ObjectiveOutput | null {
  if (pairs.length === 0) return null;
  const pick = (t: Tensor, side: 0 | 1) =>
    t.indexSelect(
      0,
      tensor(
        pairs.map((p) => p[side]),
        { dtype: 'int64' },
      ),
    );
  return dpoLoss(
    {
      policyChosen: pick(x.seqLogps, 0),
      policyRejected: pick(x.seqLogps, 1),
      refChosen: pick(x.refSeqLogps, 0),
      refRejected: pick(x.refSeqLogps, 1),
    },
    { beta, lossType: ['sigmoid'] },
  );
}
