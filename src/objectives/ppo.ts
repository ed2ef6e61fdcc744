// Proximal Policy Optimization (Schulman et al. 2017, arXiv 1707.06347) with generalized advantage
// estimation (Schulman et al. 2016, arXiv 1506.02438), as CleanRL computes them (vwxyzjn/cleanrl
// cleanrl/ppo.py and cleanrl/ppo_continuous_action.py; names and metric names are CleanRL's).
//   GAE: δ_t = r_t + γ·(1 − term_t)·V(s_{t+1}) − V(s_t);  A_t = δ_t + γλ·(1 − done_t)·A_{t+1};  R_t = A_t + V(s_t)
//     done_t = the episode ended at t (terminated or truncated). CleanRL treats truncation as termination
//     (term = done, V(s_{t+1}) the next observation's value); passing the value of the truncated episode's
//     final observation as V(s_{t+1}) with term_t = 0 bootstraps it instead (Pardo et al. 2018).
//   ratio ρ = exp(logπθ(a|s) − logπ_old(a|s)); with Â = (A − mean A)/(std A + 1e-8) when norm_adv:
//   policy loss  L_pg = mean max(−Â·ρ, −Â·clip(ρ, 1 − ε, 1 + ε))                         (ε = clip_coef)
//   value loss   L_v  = ½·mean max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²)      (clip_vloss)
//                     or ½·mean (V − R)²
//   loss = L_pg − ent_coef·mean H[π(·|s)] + vf_coef·L_v
//   approx_kl = mean((ρ − 1) − log ρ) (Schulman's k3), old_approx_kl = mean(−log ρ),
//   clipfrac = mean 1[|ρ − 1| > ε].
// Policies: categorical over logits (discrete), and a diagonal Gaussian N(μ(s), exp(logσ)) whose
// log-density and entropy are summed over action dimensions (continuous), as torch.distributions computes.
import { type Tensor, F, noGrad } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';

export interface GAEInputs {
  /** Rewards r_t, time-major: index t·numEnvs + i. */
  rewards: ArrayLike<number>;
  /** V(s_t). */
  values: ArrayLike<number>;
  /** V(s_{t+1}) of the true next state (for an ended episode: the value of its final observation, or 0). */
  nextValues: ArrayLike<number>;
  /** 1 when s_{t+1} is terminal (no bootstrap). */
  terminated: ArrayLike<number | boolean>;
  /** 1 when the episode ended at t (terminated or truncated): the λ-chain stops there. */
  dones: ArrayLike<number | boolean>;
}

export function gae(
  x: GAEInputs,
  numSteps: number,
  numEnvs: number,
  gamma: number,
  gaeLambda: number,
): { advantages: Float64Array; returns: Float64Array } {
  const n = numSteps * numEnvs;
  for (const k of ['rewards', 'values', 'nextValues', 'terminated', 'dones'] as const)
    if (x[k].length !== n)
      throw new RangeError(`pacer: gae: ${k} has ${x[k].length} entries, expected numSteps·numEnvs = ${n}`);
  const adv = new Float64Array(n);
  const ret = new Float64Array(n);
  for (let i = 0; i < numEnvs; i++) {
    let last = 0;
    for (let t = numSteps - 1; t >= 0; t--) {
      const k = t * numEnvs + i;
      const notTerm = x.terminated[k] ? 0 : 1;
      const notDone = x.dones[k] ? 0 : 1;
      const delta = x.rewards[k] + gamma * x.nextValues[k] * notTerm - x.values[k];
      last = delta + gamma * gaeLambda * notDone * last;
      adv[k] = last;
      ret[k] = last + x.values[k];
    }
  }
  return { advantages: adv, returns: ret };
}

/** log π(a|s) and H[π(·|s)] of a categorical policy; logits [B, A], actions int64 [B]. */
export function categoricalLogProbEntropy(logits: Tensor, actions: Tensor): { logprob: Tensor; entropy: Tensor } {
  const logp = logits.logSoftmax(-1);
  const logprob = logp.gather(1, actions.unsqueeze(1)).squeeze(1);
  const entropy = logp.exp().mul(logp).sum(-1).neg();
  return { logprob, entropy };
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log-density and entropy of N(mean, exp(logStd)²), summed over the action dimension; mean, actions [B, D]. */
export function gaussianLogProbEntropy(
  mean: Tensor,
  logStd: Tensor,
  actions: Tensor,
): { logprob: Tensor; entropy: Tensor } {
  const z = actions.sub(mean).mul(logStd.neg().exp());
  const logprob = z.square().mul(-0.5).sub(logStd).sub(HALF_LOG_2PI).sum(-1);
  const entropy = logStd
    .add(0.5 + HALF_LOG_2PI)
    .expandAs(mean)
    .sum(-1);
  return { logprob, entropy };
}

export interface PPOConfig {
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
  normAdv: boolean;
}

export interface PPOInputs {
  newLogprob: Tensor; // [B], with gradients
  oldLogprob: Tensor; // [B], from the rollout
  advantages: Tensor; // [B]
  newValue: Tensor; // [B], with gradients
  oldValue: Tensor; // [B], from the rollout
  returns: Tensor; // [B]
  entropy: Tensor; // [B], with gradients
}

export function ppoLoss(x: PPOInputs, c: PPOConfig): ObjectiveOutput {
  if (!(c.clipCoef > 0)) throw new RangeError(`pacer: PPO clip_coef must be > 0, got ${c.clipCoef}`);
  const logratio = x.newLogprob.sub(x.oldLogprob.detach());
  const ratio = logratio.exp();
  let adv = x.advantages.detach();
  if (c.normAdv) adv = adv.sub(adv.mean()).div(adv.std().add(1e-8));
  const negAdv = adv.neg();
  const pg1 = negAdv.mul(ratio);
  const pg2 = negAdv.mul(ratio.clamp(1 - c.clipCoef, 1 + c.clipCoef));
  const pgLoss = pg1.maximum(pg2).mean();
  const ret = x.returns.detach();
  let vLoss: Tensor;
  if (c.clipVloss) {
    const old = x.oldValue.detach();
    const unclipped = x.newValue.sub(ret).square();
    const vClipped = old.add(x.newValue.sub(old).clamp(-c.clipCoef, c.clipCoef));
    vLoss = unclipped.maximum(vClipped.sub(ret).square()).mean().mul(0.5);
  } else vLoss = x.newValue.sub(ret).square().mean().mul(0.5);
  const entropy = x.entropy.mean();
  const loss = pgLoss.sub(entropy.mul(c.entCoef)).add(vLoss.mul(c.vfCoef));
  // the seven scalars without a graph, copied out at once
  const v = noGrad(() => {
    const rm1 = ratio.sub(1);
    const clipfrac = rm1.abs().gt(c.clipCoef).to(ratio.dtype).mean();
    return F.stack([loss, pgLoss, vLoss, entropy, logratio.neg().mean(), rm1.sub(logratio).mean(), clipfrac]).toArray();
  });
  const metrics = {
    loss: v[0],
    'losses/policy_loss': v[1],
    'losses/value_loss': v[2],
    'losses/entropy': v[3],
    'losses/old_approx_kl': v[4],
    'losses/approx_kl': v[5],
    'losses/clipfrac': v[6],
  };
  return { loss, metrics };
}

/** 1 − Var(R − V)/Var(R) (CleanRL's losses/explained_variance; NaN when Var(R) = 0). */
export function explainedVariance(values: ArrayLike<number>, returns: ArrayLike<number>): number {
  const n = returns.length;
  const mean = (f: (k: number) => number) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += f(k);
    return s / n;
  };
  const my = mean((k) => returns[k]);
  const vy = mean((k) => (returns[k] - my) ** 2);
  const md = mean((k) => returns[k] - values[k]);
  const vd = mean((k) => (returns[k] - values[k] - md) ** 2);
  return vy === 0 ? Number.NaN : 1 - vd / vy;
}

/** Sample an action index per row of logits with the given generator (categorical). */
export function sampleCategorical(logits: Tensor, generator?: Parameters<typeof F.multinomial>[3]): Tensor {
  return F.multinomial(logits.softmax(-1), 1, true, generator).squeeze(1);
}

// ---- PPO for language models, as TRL's PPOTrainer (trl/trainer/ppo_trainer.py) computes it. Rollouts are
// [B, T] grids whose mask marks the completion's token predictions (position t predicts token t + 1):
//   per-token KL  k1 = log π_old − log π_ref, or k3 = (r − 1) − log r with r = π_ref/π_old
//   rewards       r_t = −kl_coef·KL_t, plus the sequence's score on its last completion token (TRL puts it
//                 one position later, on a padding slot it keeps unmasked; pacer keeps the mask exact)
//   whiten_rewards  r ← (r − mean)/sqrt(var + 1e-8) + mean over the batch's masked tokens (var unbiased)
//   GAE           δ_t = r_t + γ·V_{t+1} − V_t (V after the last token = 0), A_t = δ_t + γλ·A_{t+1};
//                 returns R = A + V; A whitened over the batch's masked tokens (mean removed)
//   loss          masked_mean max(−A·ρ, −A·clip(ρ, 1 ± cliprange))
//                 + vf_coef · ½·masked_mean max((V − R)², (clip(V, V_old ± cliprange_value) − R)²)

/** Per-token rewards of one [B, T] grid (row-major); `kl` holds the per-token KL estimate. */
export function tokenRewards(
  x: { logps: ArrayLike<number>; refLogps: ArrayLike<number> | null; mask: ArrayLike<number>; scores: number[] },
  T: number,
  o: { klCoef: number; klEstimator: 'k1' | 'k3' },
): { rewards: Float64Array; kl: Float64Array } {
  const n = x.mask.length;
  const rewards = new Float64Array(n);
  const kl = new Float64Array(n);
  for (let b = 0; b < n / T; b++) {
    let last = -1;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (!x.mask[i]) continue;
      last = i;
      if (x.refLogps) {
        const logr = x.refLogps[i] - x.logps[i];
        kl[i] = o.klEstimator === 'k1' ? -logr : Math.expm1(logr) - logr;
      }
      rewards[i] = -o.klCoef * kl[i];
    }
    if (last >= 0) rewards[last] += x.scores[b];
  }
  return { rewards, kl };
}

/** TRL's masked_whiten: (x − mean)/sqrt(var + 1e-8) over masked entries (unbiased var); shiftMean false keeps mean. */
export function maskedWhiten(x: Float64Array, mask: ArrayLike<number>, shiftMean = true): Float64Array {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++)
    if (mask[i]) {
      n++;
      s += x[i];
    }
  const mean = n ? s / n : 0;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) ss += (x[i] - mean) ** 2;
  const variance = n > 1 ? ss / (n - 1) : 0;
  const scale = 1 / Math.sqrt(variance + 1e-8);
  return x.map((v, i) => (mask[i] ? (v - mean) * scale + (shiftMean ? 0 : mean) : 0));
}

/** GAE along each row's masked positions (the completion), value 0 after the last; advantages and returns. */
export function tokenGae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  mask: ArrayLike<number>,
  T: number,
  gamma: number,
  lam: number,
): { advantages: Float64Array; returns: Float64Array } {
  const n = mask.length;
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  for (let b = 0; b < n / T; b++) {
    let last = 0;
    let nextValue = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = b * T + t;
      if (!mask[i]) continue;
      const delta = rewards[i] + gamma * nextValue - values[i];
      last = delta + gamma * lam * last;
      advantages[i] = last;
      returns[i] = last + values[i];
      nextValue = values[i];
    }
  }
  return { advantages, returns };
}

export interface PPOTokenInputs {
  logps: Tensor; // [B, T] with gradients
  oldLogps: Tensor;
  advantages: Tensor; // [B, T], whitened
  values: Tensor; // V_old [B, T]
  returns: Tensor;
  vpred: Tensor; // [B, T] with gradients
  mask: Tensor; // float [B, T]
}

/** TRL PPOTrainer's loss on one micro-batch, with its logged statistics. */
export function ppoTokenLoss(
  x: PPOTokenInputs,
  c: { cliprange: number; cliprangeValue: number; vfCoef: number },
): ObjectiveOutput {
  const m = x.mask;
  const count = m.sum().clamp(1, null);
  const mmean = (t: Tensor) => t.mul(m).sum().div(count);
  const vClipped = x.vpred.maximum(x.values.sub(c.cliprangeValue)).minimum(x.values.add(c.cliprangeValue));
  const vf1 = x.vpred.sub(x.returns).square();
  const vf2 = vClipped.sub(x.returns).square();
  const vfLoss = mmean(vf1.maximum(vf2)).mul(0.5);
  const diff = x.logps.sub(x.oldLogps.detach());
  const ratio = diff.exp();
  const adv = x.advantages.detach();
  const pg1 = adv.neg().mul(ratio);
  const pg2 = adv.neg().mul(ratio.clamp(1 - c.cliprange, 1 + c.cliprange));
  const pgLoss = mmean(pg1.maximum(pg2));
  const loss = pgLoss.add(vfLoss.mul(c.vfCoef));
  const v = noGrad(() =>
    F.stack([
      loss,
      pgLoss,
      vfLoss,
      mmean(pg2.gt(pg1).to(ratio.dtype)),
      mmean(vf2.gt(vf1).to(ratio.dtype)),
      mmean(diff.square()).mul(0.5),
      mmean(ratio),
      mmean(x.vpred),
    ]).toArray(),
  );
  const metrics = {
    loss: v[0],
    'loss/policy_avg': v[1],
    'loss/value_avg': v[2],
    'policy/clipfrac_avg': v[3],
    'val/clipfrac_avg': v[4],
    'policy/approxkl_avg': v[5],
    'val/ratio': v[6],
    'val/vpred': v[7],
  };
  return { loss, metrics };
}
