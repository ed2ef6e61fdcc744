// Shared pieces of the objectives: metric records and numerically safe helpers.
import type { Tensor } from '../engine/index.js';

/** A loss and the scalar metrics (TRL names) describing the batch it was computed on. */
export interface ObjectiveOutput {
  loss: Tensor;
  metrics: Record<string, number>;
}

/** exp(min(x, cap)), cap = log(max float32), as TRL's cap_exp. */
export function capExp(x: Tensor, cap = 88.72): Tensor {
  return x.clamp(null, cap).exp();
}

export function meanOf(t: Tensor): number {
  if (t.numel === 0) return NaN;
  const d = t.detach();
  return (d.dtype === 'float64' ? d : d.float()).mean().item();
}
