// Intuitive Fine-Tuning (Hua et al., ACL 2025, arXiv 2405.11870; TsinghuaC3I/Intuitive-Fine-Tuning,
// src/trainers.py get_batch_metrics with loss=ift: propagation_type loss, side left, norm L1).
//   1. guess      a no-grad pass on the true tokens x gives ŷ_t = argmax p(· | x_<t) at every position
//   2. temporal residual connection: the grad pass runs on mixed input embeddings
//                 ê_t = (1 − λ)·e(x_t) + λ·e(ŷ_t)   at completion positions (e(x_t) elsewhere)
//   3. relation propagation: ℓ_t = −log p(x_{t+1} | ê_≤t); with n the sequence's loss tokens,
//                 w_t = Σ_{k ≥ t} γ^{k−t} ℓ_k / n   (masked positions 0), rescaled so Σ_t w_t = n;
//                 w is not detached (gradients flow through the weights, as in the authors' code)
//   4. L = Σ_b Σ_t ℓ_t w_t / Σ_b n_b
// γ = 0 gives w = 1 (the authors' special case), and λ = 0 gives ê = e(x), so λ = γ = 0 is exactly
// pacer's SFT loss and gradients. Two choices differ from the authors' code, both so that holds: the
// loss is a token mean over the batch (theirs averages per sequence, then over the batch), and the
// mixing uses the model's live embedding table (theirs a frozen copy re-synced from the policy).
// λ may follow a linear warm-up from ift_min_lambda and carry multiplicative N(0, 1)·std noise per
// step (the authors' lambda_schedule and lambda_disturb), clamped to [0, 1].
import { type Tensor, arange, cat, noGrad, where } from '../engine/index.js';
import type { ObjectiveOutput } from './common.js';

/**
 * The ids whose embeddings are mixed in: the model's greedy guess ŷ_t = argmax logits[t − 1] where
 * token t is a completion token (labels[t − 1] ≠ −100, labels shifted as pacer collates them), x_t
 * elsewhere. ids, labels [B, T]; logits [B, T, V] from the pass on the true tokens.
 */
export function iftGuessIds(ids: Tensor, labels: Tensor, logits: Tensor): Tensor {
  return noGrad(() => {
    const [B, T] = ids.shape;
    if (T < 2) return ids;
    const guess = logits.narrow(1, 0, T - 1).argmax(-1); // [B, T-1]: the guess for tokens 1..T-1
    const inLoss = labels.narrow(1, 0, T - 1).ne(-100);
    const mixed = where(inLoss, guess, ids.narrow(1, 1, T - 1));
    return cat([ids.narrow(1, 0, 1), mixed], 1).view(B, T);
  });
}

/** w_t = Σ_{k ≥ t} γ^{k−t} x_k along the last axis (x [B, T]), as one matmul with a γ-Toeplitz matrix. */
export function discountedCumsumRight(x: Tensor, gamma: number): Tensor {
  const T = x.shape[x.ndim - 1];
  const k = arange(T).view(T, 1);
  const t = arange(T).view(1, T);
  const d = k.sub(t); // [k, t]: k − t
  const G = d.clamp(0, null).float().mul(Math.log(gamma)).exp().mul(d.ge(0).float());
  return x.matmul(G.to(x.dtype));
}

/**
 * Relation-propagation weights: nll [B, T] per-token −log p at loss positions (0 elsewhere, with
 * gradients), mask [B, T] float. γ = 0 gives ones (masked 0).
 */
export function iftWeights(nll: Tensor, mask: Tensor, gamma: number): Tensor {
  if (gamma === 0) return mask;
  const n = mask.sum(-1, true).clamp(1, null);
  const w = discountedCumsumRight(nll.mul(mask).div(n), gamma).mul(mask);
  return w.mul(n.div(w.sum(-1, true).clamp(1e-12, null)));
}

/** The IFT loss from the mixed-input pass: logits [B, T, V], labels [B, T] shifted (−100 = ignore). */
export function iftLoss(logits: Tensor, labels: Tensor, gamma: number): ObjectiveOutput {
  const mask = labels.ne(-100);
  const safe = labels.maskedFill(labels.eq(-100), 0);
  const nll = logits.to('float32').logSoftmax(-1).gather(2, safe.unsqueeze(2)).squeeze(2).neg();
  const m = mask.float();
  const w = iftWeights(nll.mul(m), m, gamma);
  const tokens = m.sum();
  const loss = nll.mul(w).mul(m).sum().div(tokens.clamp(1, null));
  const plain = noGrad(() => nll.mul(m).sum().div(tokens.clamp(1, null)).item());
  return { loss, metrics: { loss: loss.item(), nll_mixed: plain, num_tokens: tokens.item() } };
}

export interface LambdaSchedule {
  /** λ after warm-up (the authors' max_lambda). */
  lambda: number;
  /** λ at step 0 of a linear warm-up (min_lambda). */
  minLambda: number;
  schedule: 'constant' | 'linear';
  warmupSteps: number;
  /** Multiplicative noise std (lambda_disturb normal, disturb_std); 0 = none. */
  noiseStd: number;
}

/** λ at a step (noise: a standard normal draw for the step, from the caller). */
export function iftLambda(step: number, s: LambdaSchedule, normal: number): number {
  const frac = s.schedule === 'linear' && step < s.warmupSteps ? step / Math.max(1, s.warmupSteps) : 1;
  let l = s.schedule === 'linear' ? s.minLambda + (s.lambda - s.minLambda) * frac : s.lambda;
  if (s.noiseStd > 0) l += normal * s.noiseStd * l;
  return Math.min(1, Math.max(0, l));
}
