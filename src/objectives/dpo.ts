// Direct Preference Optimization and its family, exactly as TRL's DPOTrainer (v1.x) defines them.
// Rafailov et al. 2023 (DPO, arXiv 2305.18290). With cl = logπ(y_w) − logπ_ref(y_w),
// rl = logπ(y_l) − logπ_ref(y_l), Δ = cl − rl (or the f-divergence link, below):
//   sigmoid   −(1−ε)logσ(βΔ) − ε·logσ(−βΔ)          (ε = label_smoothing: cDPO)
//   robust    [−(1−ε)logσ(βΔ) + ε·logσ(−βΔ)]/(1−2ε)  (Chowdhury et al. 2024)
//   hinge     relu(1 − βΔ)                           (SLiC, Zhao et al. 2023)
//   ipo       (Δ − 1/(2β))², on length-normalised log-probs (Azar et al. 2023)
//   apo_zero  (1 − σ(β·cl)) + σ(β·rl);  apo_down  σ(β·cl) + (1 − σ(βΔ))  (D'Oosterlinck et al. 2024)
//   bco_pair  −logσ(β·cl − δ) − logσ(−(β·rl − δ)), δ the running mean of the batch rewards (Jung et al. 2024)
//   sppo_hard (cl − 1/(2β))² + (rl + 1/(2β))²         (Wu et al. 2024)
// Several types at once: Σ_i loss_weights[i]·loss_i. rpo_alpha adds α·NLL(chosen) (Pang et al. 2024,
// IRPO). f_divergence_type (Wang et al. 2023, "Beyond Reverse KL"): reverse_kl is the above;
// js_divergence: Δ − (softplus(cl) − softplus(rl)); alpha_divergence (coef a):
// (e^{−a·rl} − e^{−a·cl})/a; forward_kl is alpha_divergence with a = 1 (f'(u) = 1 − 1/u).
// WPO (use_weighting, Zhou et al. 2024): each pair's loss times min(1, exp(w_c + w_l)), w the
// length-averaged token log-prob renormalised by logsumexp(2·logits) — computed by the trainer.
// MADPO-style margin weighting (our choice; the paper's exact form is not reproduced): each pair's
// loss times 2·σ(−m/τ), m a margin estimate (a dataset `margin` column, e.g. a reward model's
// r_c − r_r, else the reference margin β·(logπ_ref(y_w) − logπ_ref(y_l))), so hard pairs (small or
// negative margins) weigh up to 2 and easy ones toward 0; the weights are detached.
import { type Tensor, cat } from '../engine/index.js';
import { capExp, meanOf, type ObjectiveOutput } from './common.js';

export const DPO_LOSS_TYPES = [
  'sigmoid',
  'robust',
  'hinge',
  'ipo',
  'apo_zero',
  'apo_down',
  'bco_pair',
  'sppo_hard',
] as const;
export type DPOLossType = (typeof DPO_LOSS_TYPES)[number];
export const F_DIVERGENCES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;
export type FDivergence = (typeof F_DIVERGENCES)[number];

export interface DPOLossOptions {
  beta: number;
  lossType: DPOLossType[];
  lossWeights?: number[] | null;
  labelSmoothing?: number;
  fDivergenceType?: FDivergence;
  alphaDivergenceCoef?: number;
  rpoAlpha?: number | null;
  referenceFree?: boolean;
  madpoTemperature?: number | null;
}

/** TRL's RunningMoments (for bco_pair): running mean/variance of rewards across batches. */
export class RunningMoments {
  mean = 0;
  std = 1;
  var = 1;
  count = 1e-24;
  update(xs: number[]): void {
    const n = xs.length;
    const m = xs.reduce((a, b) => a + b, 0) / n;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    const delta = m - this.mean;
    const tot = this.count + n;
    const totSum = this.var * this.count + (delta ** 2 * this.count * n) / tot + v * n;
    this.mean += (delta * n) / tot;
    const newVar = totSum / tot;
    this.std = Math.sqrt((newVar * tot) / (tot - 1));
    this.var = newVar;
    this.count = tot;
  }
  toJSON(): Record<string, number> {
    return { mean: this.mean, std: this.std, var: this.var, count: this.count };
  }
  load(s: Record<string, number>): void {
    Object.assign(this, s);
  }
}

export interface DPOInputs {
  /** Summed completion log-probs [B] of the policy and the reference. */
  policyChosen: Tensor;
  policyRejected: Tensor;
  refChosen: Tensor;
  refRejected: Tensor;
  /** Completion token counts [B] (float), needed for ipo. */
  chosenLengths?: Tensor;
  rejectedLengths?: Tensor;
  /** WPO weights [B] (detached). */
  policyWeights?: Tensor | null;
  /** Mean NLL of the chosen completions (scalar), for rpo_alpha. */
  chosenNll?: Tensor | null;
  /** Margin estimates [B] for MADPO weighting. */
  margins?: Tensor | null;
}

export function validateDPOOptions(c: DPOLossOptions): void {
  if (!(c.beta > 0)) throw new Error(`beta must be > 0, got ${c.beta}`);
  for (const t of c.lossType)
    if (!DPO_LOSS_TYPES.includes(t))
      throw new Error(`unknown loss_type '${t}' (expected one of ${DPO_LOSS_TYPES.join(', ')})`);
  if (c.lossWeights && c.lossWeights.length !== c.lossType.length)
    throw new Error(`loss_weights has ${c.lossWeights.length} entries but loss_type has ${c.lossType.length}`);
  const ls = c.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls < 0.5)) throw new Error(`label_smoothing must be in [0, 0.5), got ${ls}`);
  if (ls > 0 && c.lossType.some((t) => !['sigmoid', 'robust'].includes(t)))
    throw new Error(`label_smoothing applies to the sigmoid and robust losses only, not ${c.lossType.join(', ')}`);
  if (c.fDivergenceType && !F_DIVERGENCES.includes(c.fDivergenceType))
    throw new Error(`unknown f_divergence_type '${c.fDivergenceType}' (expected ${F_DIVERGENCES.join(', ')})`);
  if (c.rpoAlpha != null && !(c.rpoAlpha >= 0)) throw new Error(`rpo_alpha must be >= 0, got ${c.rpoAlpha}`);
}

function term(
  t: DPOLossType,
  c: DPOLossOptions,
  logits: Tensor,
  cl: Tensor,
  rl: Tensor,
  running: RunningMoments,
): Tensor {
  const b = c.beta;
  const eps = c.labelSmoothing ?? 0;
  switch (t) {
    case 'sigmoid':
      return logits
        .mul(b)
        .logsigmoid()
        .mul(-(1 - eps))
        .sub(logits.mul(-b).logsigmoid().mul(eps));
    case 'robust':
      return logits
        .mul(b)
        .logsigmoid()
        .mul(-(1 - eps))
        .add(logits.mul(-b).logsigmoid().mul(eps))
        .div(1 - 2 * eps);
    case 'hinge':
      return logits.mul(b).rsub(1).relu();
    case 'ipo':
      return logits.sub(1 / (2 * b)).square();
    case 'apo_zero':
      return cl.mul(b).sigmoid().rsub(1).add(rl.mul(b).sigmoid());
    case 'apo_down':
      return cl.mul(b).sigmoid().add(cl.sub(rl).mul(b).sigmoid().rsub(1));
    case 'bco_pair': {
      const rewards = cat([cl.mul(b), rl.mul(b)]).detach();
      running.update(rewards.toArray());
      const d = running.mean;
      return cl.mul(b).sub(d).logsigmoid().neg().sub(rl.mul(b).sub(d).neg().logsigmoid());
    }
    case 'sppo_hard':
      return cl
        .sub(0.5 / b)
        .square()
        .add(rl.add(0.5 / b).square());
  }
}

/** The DPO-family loss of a batch and TRL's metrics for it. */
export function dpoLoss(
  x: DPOInputs,
  c: DPOLossOptions,
  running: RunningMoments = new RunningMoments(),
): ObjectiveOutput {
  let pc = x.policyChosen,
    pr = x.policyRejected,
    rc = x.refChosen,
    rr = x.refRejected;
  if (c.lossType.includes('ipo')) {
    if (!x.chosenLengths || !x.rejectedLengths) throw new Error('ipo needs completion lengths');
    pc = pc.div(x.chosenLengths);
    pr = pr.div(x.rejectedLengths);
    rc = rc.div(x.chosenLengths);
    rr = rr.div(x.rejectedLengths);
  }
  if (c.referenceFree) {
    rc = rc.mul(0);
    rr = rr.mul(0);
  }
  const cl = pc.sub(rc);
  const rl = pr.sub(rr);
  const f = c.fDivergenceType ?? 'reverse_kl';
  let logits: Tensor;
  if (f === 'alpha_divergence' || f === 'forward_kl') {
    const a = f === 'forward_kl' ? 1 : (c.alphaDivergenceCoef ?? 1);
    logits = capExp(rl.mul(-a))
      .sub(capExp(cl.mul(-a)))
      .div(a);
  } else {
    logits = pc.sub(pr).sub(rc.sub(rr));
    if (f === 'js_divergence') logits = logits.sub(cl.softplus().sub(rl.softplus()));
  }
  const weights = c.lossWeights ?? c.lossType.map(() => 1);
  let losses: Tensor | null = null;
  c.lossType.forEach((t, i) => {
    const l = term(t, c, logits, cl, rl, running).mul(weights[i]);
    losses = losses ? losses.add(l) : l;
  });
  let perPair = losses!;
  if (x.policyWeights) perPair = perPair.mul(x.policyWeights.detach());
  const metrics: Record<string, number> = {};
  if (c.madpoTemperature != null) {
    const m = x.margins ?? x.refChosen.sub(x.refRejected).mul(c.beta);
    const w = m.detach().div(c.madpoTemperature).neg().sigmoid().mul(2);
    perPair = perPair.mul(w);
    metrics['madpo/weight_mean'] = meanOf(w);
  }
  let loss = perPair.mean();
  if (c.rpoAlpha && x.chosenNll) {
    loss = loss.add(x.chosenNll.mul(c.rpoAlpha));
    metrics.nll_loss = x.chosenNll.item();
  }
  // As TRL: rewards from the log-probs the loss saw (length-normalised for ipo).
  const chosenRewards = cl.mul(c.beta).detach();
  const rejectedRewards = rl.mul(c.beta).detach();
  Object.assign(metrics, {
    loss: loss.item(),
    'rewards/chosen': meanOf(chosenRewards),
    'rewards/rejected': meanOf(rejectedRewards),
    'rewards/accuracies': meanOf(chosenRewards.gt(rejectedRewards).float()),
    'rewards/margins': meanOf(chosenRewards.sub(rejectedRewards)),
    'logps/chosen': meanOf(pc),
    'logps/rejected': meanOf(pr),
  });
  if (x.policyWeights) metrics['policy_weights'] = meanOf(x.policyWeights);
  return { loss, metrics };
}
