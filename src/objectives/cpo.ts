// CPO (Xu et al. 2024, arXiv 2401.08417) and SimPO (Meng et al. 2024, arXiv 2405.14734) as TRL's
// CPOTrainer, reference-free. logits = l_w − l_l (summed log-probs; mean-token for simpo and ipo);
//   sigmoid: −(1−ε)logσ(β·logits) − ε·logσ(−β·logits);  hinge: relu(1 − β·logits);
//   ipo: (logits − 1/(2β))²;  simpo: the sigmoid loss on logits − γ/β (simpo_gamma γ, default 0.5);
//   total = mean(loss) + cpo_alpha · NLL(chosen)  (cpo_alpha 1 for CPO; 0 gives pure SimPO).
import type { Tensor } from '../engine/index.js';
import { meanOf, type ObjectiveOutput } from './common.js';

export const CPO_LOSS_TYPES = ['sigmoid', 'hinge', 'ipo', 'simpo'] as const;
export type CPOLossType = (typeof CPO_LOSS_TYPES)[number];
export interface CPOLossOptions {
  beta: number;
  lossType: CPOLossType;
  labelSmoothing?: number;
  simpoGamma?: number;
  cpoAlpha?: number;
}

/** Whether this loss type scores completions by mean-token log-prob (else summed). */
export function cpoAveragesLogps(t: CPOLossType): boolean {
  return t === 'simpo' || t === 'ipo';
}

export function cpoLoss(
  x: { chosen: Tensor; rejected: Tensor; chosenNll: Tensor },
  c: CPOLossOptions,
): ObjectiveOutput {
  if (!CPO_LOSS_TYPES.includes(c.lossType))
    throw new Error(`unknown loss_type '${c.lossType}' for cpo (expected ${CPO_LOSS_TYPES.join(', ')})`);
  let logits = x.chosen.sub(x.rejected);
  const b = c.beta,
    eps = c.labelSmoothing ?? 0;
  if (c.lossType === 'simpo') logits = logits.sub((c.simpoGamma ?? 0.5) / b);
  let losses: Tensor;
  if (c.lossType === 'sigmoid' || c.lossType === 'simpo')
    losses = logits
      .mul(b)
      .logsigmoid()
      .mul(-(1 - eps))
      .sub(logits.mul(-b).logsigmoid().mul(eps));
  else if (c.lossType === 'hinge') losses = logits.mul(b).rsub(1).relu();
  else losses = logits.sub(1 / (2 * b)).square();
  const alpha = c.cpoAlpha ?? 1;
  const loss = alpha ? losses.mean().add(x.chosenNll.mul(alpha)) : losses.mean();
  const cr = x.chosen.mul(b).detach(),
    rr = x.rejected.mul(b).detach();
  return {
    loss,
    metrics: {
      loss: loss.item(),
      nll_loss: x.chosenNll.item(),
      'rewards/chosen': meanOf(cr),
      'rewards/rejected': meanOf(rr),
      'rewards/accuracies': meanOf(cr.gt(rr).float()),
      'rewards/margins': meanOf(cr.sub(rr)),
      'logps/chosen': meanOf(x.chosen),
      'logps/rejected': meanOf(x.rejected),
    },
  };
}
