// Bradley–Terry reward-model loss (as TRL's RewardTrainer):
//   L = -log sigma(r_c - r_r - margin) + center_rewards_coefficient * mean((r_c + r_r)^2)
// (Ouyang et al. 2022; the centring term from Eisenstein et al. 2023.)
import type { Tensor } from '../engine/index.js';
import { meanOf, type ObjectiveOutput } from './common.js';

export interface RewardLossOptions {
  margin?: Tensor | null;
  centerRewardsCoefficient?: number | null;
}

export function rewardLoss(rChosen: Tensor, rRejected: Tensor, o: RewardLossOptions = {}): ObjectiveOutput {
  let diff = rChosen.sub(rRejected);
  if (o.margin) diff = diff.sub(o.margin);
  let loss = diff.logsigmoid().neg().mean();
  if (o.centerRewardsCoefficient)
    loss = loss.add(rChosen.add(rRejected).square().mean().mul(o.centerRewardsCoefficient));
  return {
    loss,
    metrics: {
      loss: loss.item(),
      'rewards/chosen': meanOf(rChosen),
      'rewards/rejected': meanOf(rRejected),
      'rewards/margins': meanOf(rChosen.sub(rRejected)),
      'rewards/accuracies': meanOf(rChosen.gt(rRejected).float()),
    },
  };
}
