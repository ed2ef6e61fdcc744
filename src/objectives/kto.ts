// KTO (Ethayarajh et al. 2024, arXiv 2402.01306) as TRL's KTOTrainer: unpaired examples labelled
// desirable or undesirable. With r = logπ(y|x) − logπ_ref(y|x) and the batch KL estimate
//   z = max(0, mean(logπ(y'|x) − logπ_ref(y'|x)))  (detached; y' a mismatched completion — TRL
//   pairs each prompt with the previous example's completion),
// desirable: 1 − σ(β(r − z)) weighted by desirable_weight; undesirable: 1 − σ(β(z − r)) weighted by
// undesirable_weight; the loss is the mean over all examples.
import { type Tensor, cat, tensor } from '../engine/index.js';
import { meanOf, type ObjectiveOutput } from './common.js';

export interface KTOLossOptions {
  beta: number;
  desirableWeight?: number;
  undesirableWeight?: number;
}

export interface KTOInputs {
  policy: Tensor; // [B] summed log-probs of each example's completion
  ref: Tensor; // [B]
  label: boolean[]; // desirable?
  policyKL: Tensor; // [B] log-probs of the mismatched completions
  refKL: Tensor; // [B]
}

export function ktoLoss(x: KTOInputs, c: KTOLossOptions): ObjectiveOutput {
  const kl = x.policyKL.sub(x.refKL).mean().clamp(0, null).detach();
  const r = x.policy.sub(x.ref);
  const idx = (want: boolean) => x.label.map((l, i) => (l === want ? i : -1)).filter((i) => i >= 0);
  const pick = (t: Tensor, ids: number[]) => t.indexSelect(0, tensorOf(ids));
  const di = idx(true),
    ui = idx(false);
  const parts: Tensor[] = [];
  let chosenR: Tensor | null = null,
    rejR: Tensor | null = null;
  if (di.length) {
    const rd = pick(r, di);
    parts.push(
      rd
        .sub(kl)
        .mul(c.beta)
        .sigmoid()
        .rsub(1)
        .mul(c.desirableWeight ?? 1),
    );
    chosenR = rd.mul(c.beta).detach();
  }
  if (ui.length) {
    const ru = pick(r, ui);
    parts.push(
      kl
        .sub(ru)
        .mul(c.beta)
        .sigmoid()
        .rsub(1)
        .mul(c.undesirableWeight ?? 1),
    );
    rejR = ru.mul(c.beta).detach();
  }
  const loss = cat(parts).mean();
  const metrics: Record<string, number> = { loss: loss.item(), kl: kl.item() };
  if (chosenR) {
    metrics['rewards/chosen'] = meanOf(chosenR);
    metrics['logps/chosen'] = meanOf(pick(x.policy, di));
  }
  if (rejR) {
    metrics['rewards/rejected'] = meanOf(rejR);
    metrics['logps/rejected'] = meanOf(pick(x.policy, ui));
  }
  if (chosenR && rejR) metrics['rewards/margins'] = metrics['rewards/chosen'] - metrics['rewards/rejected'];
  return { loss, metrics };
}

function tensorOf(ids: number[]): Tensor {
  return tensor(ids, { dtype: 'int64' });
}
