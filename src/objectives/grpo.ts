// Group-relative policy optimisation and relatives, as TRL's GRPOTrainer (v0.2x) computes them.
// GRPO (Shao et al. 2024, arXiv 2402.03300): per token, with ρ = exp(logπθ − logπ_old) (token level)
// or exp(mean over the sequence of the log-ratio) (sequence level, GSPO, Zheng et al. 2025),
//   ℓ_t = −min(ρ·A, clip(ρ, 1−ε_low, 1+ε_high)·A) + β·KL_t,  KL_t (k3) = e^{ref−logp} − (ref−logp) − 1
// normalised by loss_type: grpo = mean over each sequence's tokens, then over sequences;
// bnpo = Σ(ℓ·m)/Σm over the batch; dr_grpo = Σ(ℓ·m)/(B·max_completion_length) (Liu et al. 2025);
// dapo = Σ(ℓ·m)/(active tokens in the global accumulated batch) (Yu et al. 2025).
// Advantages: group A_i = (r_i − mean_g)/(std_g + 1e-4) with scale_rewards group | batch | none
// (std unbiased, as torch.std); RLOO (Ahmadian et al. 2024): A_i = r_i − mean_{j≠i} r_j.
// Reg-GRPO (DeepVideo-R1, arXiv 2506.07464, Eq. 5–8): regress the standardised sequence log-ratio
// onto the standardised reward advantage: L = mean_i (Â_i − (ρ_i − μ_ρ)/σ_ρ)² + β·KL, no clipping.
import { type Tensor, tensor } from '../engine/index.js';
import { meanOf, type ObjectiveOutput } from './common.js';

export const GRPO_LOSS_TYPES = ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const;
export type GRPOLossType = (typeof GRPO_LOSS_TYPES)[number];

/** Group-normalised advantages for rewards laid out as consecutive groups of G. */
export function groupAdvantages(rewards: number[], G: number, scale: 'group' | 'batch' | 'none' = 'group'): number[] {
  if (rewards.length % G !== 0) throw new Error(`pacer: ${rewards.length} rewards do not split into groups of ${G}`);
  const std = (xs: number[]) => {
    if (xs.length < 2) return 0;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const batchStd = std(rewards);
  const out: number[] = [];
  for (let g = 0; g < rewards.length; g += G) {
    const grp = rewards.slice(g, g + G);
    const m = grp.reduce((a, b) => a + b, 0) / G;
    const s = scale === 'group' ? std(grp) : scale === 'batch' ? batchStd : null;
    for (const r of grp) out.push(s === null ? r - m : (r - m) / (s + 1e-4));
  }
  return out;
}

/** RLOO advantages: each reward minus the mean of the others in its group. */
export function rlooAdvantages(rewards: number[], G: number): number[] {
  if (G < 2) throw new Error('pacer: RLOO needs at least 2 samples per prompt');
  if (rewards.length % G !== 0) throw new Error(`pacer: ${rewards.length} rewards do not split into groups of ${G}`);
  return rewards.map((r, i) => {
    const g = Math.floor(i / G) * G;
    const others = rewards.slice(g, g + G).reduce((a, b) => a + b, 0) - r;
    return r - others / (G - 1);
  });
}

export interface GRPOLossOptions {
  lossType: GRPOLossType;
  epsilon: number;
  epsilonHigh?: number;
  beta: number;
  importanceSampling?: 'token' | 'sequence';
  maxCompletionLength?: number;
  /** dapo: active tokens in the whole accumulated batch (defaults to this batch's). */
  globalActiveTokens?: number;
}

export interface GRPOInputs {
  logps: Tensor; // [B, T] per-token log-probs under π_θ (with gradients)
  oldLogps: Tensor; // [B, T] under π_old (detached)
  refLogps?: Tensor | null; // [B, T] under π_ref (needed when beta > 0)
  advantages: Tensor; // [B]
  mask: Tensor; // [B, T] float, 1 on completion tokens
}

/** Per-token k3 estimate of KL(π_θ ‖ π_ref): e^{ref−logp} − (ref−logp) − 1 (Schulman 2020). */
export function k3Kl(logps: Tensor, refLogps: Tensor): Tensor {
  const d = refLogps.sub(logps);
  return d.exp().sub(d).sub(1);
}

/** k3 KL averaged over each sequence's completion tokens [B] (mask [B, T] float). */
export function k3KlPerSequence(logps: Tensor, refLogps: Tensor, mask: Tensor): Tensor {
  return k3Kl(logps, refLogps).mul(mask).sum(1).div(mask.sum(1).clamp(1, null));
}

export function grpoLoss(x: GRPOInputs, c: GRPOLossOptions): ObjectiveOutput {
  if (!GRPO_LOSS_TYPES.includes(c.lossType))
    throw new Error(`unknown loss_type '${c.lossType}' (expected ${GRPO_LOSS_TYPES.join(', ')})`);
  const m = x.mask;
  const lens = m.sum(-1).clamp(1, null);
  const logRatio = x.logps.sub(x.oldLogps.detach());
  const logW =
    (c.importanceSampling ?? 'token') === 'sequence' ? logRatio.mul(m).sum(-1).div(lens).unsqueeze(-1) : logRatio;
  const coef1 = logW.exp();
  const lo = 1 - c.epsilon,
    hi = 1 + (c.epsilonHigh ?? c.epsilon);
  const coef2 = coef1.clamp(lo, hi);
  const A = x.advantages.unsqueeze(1);
  let perToken = coef1.mul(A).minimum(coef2.mul(A)).neg();
  let kl: Tensor | null = null;
  if (c.beta !== 0) {
    if (!x.refLogps) throw new Error('beta > 0 needs reference log-probs');
    kl = k3Kl(x.logps, x.refLogps);
    perToken = perToken.add(kl.mul(c.beta));
  }
  const B = x.logps.shape[0];
  let loss: Tensor;
  switch (c.lossType) {
    case 'grpo':
      loss = perToken.mul(m).sum(-1).div(lens).mean();
      break;
    case 'bnpo':
      loss = perToken.mul(m).sum().div(Math.max(1, m.sum().item()));
      break;
    case 'dr_grpo':
      if (!c.maxCompletionLength) throw new Error('dr_grpo needs max_completion_length');
      loss = perToken
        .mul(m)
        .sum()
        .div(B * c.maxCompletionLength);
      break;
    case 'dapo':
      loss = perToken
        .mul(m)
        .sum()
        .div(Math.max(1, c.globalActiveTokens ?? m.sum().item()));
      break;
  }
  const tokens = Math.max(1, m.sum().item());
  const masked = (t: Tensor) => t.float().mul(m).sum().item() / tokens;
  const low = coef1.lt(lo).logicalAnd(A.lt(0).expand(B, coef1.shape[1]));
  const high = coef1.gt(hi).logicalAnd(A.gt(0).expand(B, coef1.shape[1]));
  const metrics: Record<string, number> = {
    loss: loss.item(),
    'clip_ratio/low_mean': masked(low),
    'clip_ratio/high_mean': masked(high),
    'clip_ratio/region_mean': masked(low.logicalOr(high)),
  };
  if (kl) metrics.kl = masked(kl.detach());
  return { loss, metrics };
}

/** Reg-GRPO: squared error between standardised reward advantages and standardised sequence log-ratios, per group. */
export function regGrpoLoss(
  x: { seqLogps: Tensor; oldSeqLogps: Tensor; rewards: number[]; groupSize: number; klPerSeq?: Tensor | null },
  c: { beta: number },
): ObjectiveOutput {
  const G = x.groupSize;
  const n = x.rewards.length;
  const adv = tensor(groupAdvantages(x.rewards, G, 'group'), { dtype: x.seqLogps.dtype });
  const rho = x.seqLogps.sub(x.oldSeqLogps.detach()).view(n / G, G);
  const mu = rho.mean(1, true);
  const sd = rho.std(1, true, true).add(1e-4);
  const advTheta = rho.sub(mu).div(sd).view(n);
  let loss = adv.sub(advTheta).square().mean();
  const metrics: Record<string, number> = {};
  if (c.beta && x.klPerSeq) {
    loss = loss.add(x.klPerSeq.mean().mul(c.beta));
    metrics.kl = meanOf(x.klPerSeq);
  }
  metrics.loss = loss.item();
  return { loss, metrics };
}
