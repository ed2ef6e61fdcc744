// ORPO (Hong et al. 2024, arXiv 2403.07691) as TRL's ORPOTrainer, reference-free. With mean-token
// log-probs l_w, l_l of the chosen and rejected completions:
//   log_odds = (l_w − l_l) − (log(1 − e^{l_w}) − log(1 − e^{l_l}))
//   L = NLL(chosen) − β · mean(logσ(log_odds))
import type { Tensor } from '../engine/index.js';
import { meanOf, type ObjectiveOutput } from './common.js';

/** log(1 − e^x) for x < 0 (TRL's torch.log1p(-torch.exp(x))). */
export function log1mexp(x: Tensor): Tensor {
  return x.exp().neg().log1p();
}

export function orpoLoss(
  x: { chosenMean: Tensor; rejectedMean: Tensor; chosenNll: Tensor },
  c: { beta: number },
): ObjectiveOutput {
  const logOdds = x.chosenMean.sub(x.rejectedMean).sub(log1mexp(x.chosenMean).sub(log1mexp(x.rejectedMean)));
  const ratio = logOdds.logsigmoid();
  const loss = x.chosenNll.sub(ratio.mean().mul(c.beta));
  const cr = x.chosenMean.mul(c.beta).detach(),
    rr = x.rejectedMean.mul(c.beta).detach();
  return {
    loss,
    metrics: {
      loss: loss.item(),
      nll_loss: x.chosenNll.item(),
      log_odds_ratio: meanOf(ratio),
      log_odds_chosen: meanOf(logOdds),
      'rewards/chosen': meanOf(cr),
      'rewards/rejected': meanOf(rr),
      'rewards/accuracies': meanOf(cr.gt(rr).float()),
      'rewards/margins': meanOf(cr.sub(rr)),
      'logps/chosen': meanOf(x.chosenMean),
      'logps/rejected': meanOf(x.rejectedMean),
    },
  };
}
