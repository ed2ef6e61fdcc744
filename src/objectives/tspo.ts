// TSPO's policy loss for an input policy (a frame sampler) whose choices a frozen generator answers from
// (Tang et al., "TSPO: Temporal Sampling Policy Optimization for Long-form Video Language
// Understanding", arXiv 2508.04369; Hui-design/TSPO src/open_tspo/trainer/tspo_trainer.py compute_loss).
// For a group of G frame subsets of one question, with rewards r_i (answer accuracy + fraction of chosen
// frames inside the needle) and group-normalised advantages A_i = (r_i − mean r)/(std r + 1e-4)
// (std unbiased; objectives/grpo.ts groupAdvantages 'group'):
//   ρ_i = mean_k exp(lp_ik − sg(lp_ik)),    lp_ik = log softmax(s)[chosen_ik]   (ρ_i = 1 in value)
//   L   = −(1/G) Σ_i ρ_i · A_i               (no KL term: the authors pass beta 0.04 but never use it)
// so ∇L = −(1/G) Σ_i A_i · mean_k ∇lp_ik, REINFORCE with the group baseline on the per-frame log-probs.
// Several groups in one micro-batch average their group losses.
import { cat, type Tensor, tensor } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';

export interface TspoInputs {
  /** Per rollout, the log-probs [k_i] of its chosen frames (with gradients). */
  logps: Tensor[];
  /** Per rollout, its advantage (groups of G consecutive rollouts). */
  advantages: number[];
  groupSize: number;
}

/** The TSPO ratio loss; metrics: loss, advantages/mean_abs, logps/chosen (mean chosen-frame log-prob). */
export function tspoLoss(x: TspoInputs): ObjectiveOutput {
  const n = x.logps.length;
  const G = x.groupSize;
  if (n === 0 || n !== x.advantages.length || n % G !== 0)
    throw new Error(
      `pacer: tspoLoss needs groups of ${G} rollouts with one advantage each, got ${n} and ` + `${x.advantages.length}`,
    );
  const ratios = x.logps.map((lp) => lp.sub(lp.detach()).exp().mean().unsqueeze(0));
  const rho = cat(ratios, 0);
  // −(1/G) Σ_i ρ_i A_i per group, averaged over the n/G groups: −(1/n) Σ ρ_i A_i
  const loss = rho.mul(tensor(x.advantages)).sum().neg().div(n);
  const lpMean = cat(
    x.logps.map((l) => l.detach()),
    0,
  )
    .mean()
    .item();
  return {
    loss,
    metrics: {
      loss: loss.item(),
      'advantages/mean_abs': x.advantages.reduce((a, b) => a + Math.abs(b), 0) / n,
      'logps/chosen': lpMean,
    },
  };
}
