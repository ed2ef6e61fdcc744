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
