// Supervised fine-tuning: next-token negative log-likelihood averaged over the tokens the loss
// mask selects (completion-only loss when the mask covers completions only), as TRL's SFTTrainer.
//   L = - sum_{t in mask} log p(y_t | y_<t) / |mask|
import { type Tensor, F } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';

/** logits [B, T, V]; labels [B, T] (int64) already shifted so labels[t] is predicted at t; -100 = ignore. */
export function sftLoss(logits: Tensor, labels: Tensor): ObjectiveOutput {
  const V = logits.shape[2];
  const loss = F.crossEntropy(logits.reshape(-1, V), labels.reshape(-1), { ignoreIndex: -100 });
  const n = labels.ne(-100).sum().item();
  return { loss, metrics: { loss: loss.item(), num_tokens: n } };
}
