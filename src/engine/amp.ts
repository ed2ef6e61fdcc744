// Mixed precision, as torch.amp does it: autocast regions (native/src/amp.cc sets libtorch's own
// autocast state, so matmuls, linear layers and the other ops on libtorch's lists run in bfloat16 or
// float16 while the weights — the optimizer's master copy — stay float32 and their gradients arrive
// in float32), and GradScaler's dynamic loss scaling for float16, whose small gradients would
// otherwise underflow: the loss is multiplied by S before backward, the gradients divided by S
// before the optimizer; a step whose gradients hold Inf/NaN is skipped and S halved; after
// `growthInterval` clean steps S doubles (torch.cuda.amp.GradScaler's defaults: 2^16, 2, 0.5, 2000).
// libtorch 1.13's CPU autocast runs bfloat16 only.
import { native } from './native.js';
import { noGrad, scope } from './scope.js';
import { stack } from './functional.js';
import type { Tensor } from './tensor.js';

export type AmpDType = 'bfloat16' | 'float16';

function setAutocast(device: 'cpu' | 'cuda', dtype: AmpDType | null): AmpDType | null {
  return native().amp('autocast', device, dtype);
}

/** The device type autocast keys on ('cuda:1' → 'cuda'). */
export function deviceType(device: string): 'cpu' | 'cuda' {
  if (device === 'cpu' || device.startsWith('cuda')) return device === 'cpu' ? 'cpu' : 'cuda';
  throw new Error(`pacer: autocast knows cpu and cuda devices, not '${device}'`);
}

/**
 * Run fn with autocast on for `device` in `dtype` (torch.autocast); the previous state comes back
 * after it, also when fn is async (then other code running between its awaits also sees autocast).
 */
export function autocast<T>(device: string, dtype: AmpDType, fn: () => T): T {
  const dev = deviceType(device);
  const prev = setAutocast(dev, dtype);
  const restore = () => setAutocast(dev, prev);
  let r: T;
  try {
    r = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (r instanceof Promise) return r.finally(restore) as T;
  restore();
  return r;
}

/** Wait until the CUDA device has finished its queued work (a no-op without CUDA); for timing. */
export function synchronize(): void {
  native().amp('synchronize');
}

/** Whether this libtorch has the fused AdamW kernel (torch.optim.AdamW(fused=True); libtorch 2.x). */
export function hasFusedAdamW(): boolean {
  return native().amp('fusedAdamW');
}

export interface GradScalerOptions {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
}

/** Dynamic loss scaling for float16 training (torch.cuda.amp.GradScaler's update rule). */
export class GradScaler {
  scale: number;
  private growthTracker = 0;
  private readonly o: GradScalerOptions;
  /** Whether the last step() found Inf/NaN gradients (and skipped the update). */
  foundInf = false;

  constructor(o: Partial<GradScalerOptions> = {}) {
    this.o = { initScale: 2 ** 16, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, ...o };
    this.scale = this.o.initScale;
  }

  /** The loss times the current scale (call backward on this). */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.scale);
  }

  /** Divide the gradients by the scale; true when all of them are finite. */
  unscale(params: Tensor[]): boolean {
    const inv = 1 / this.scale;
    return noGrad(() =>
      scope(() => {
        const ok: Tensor[] = [];
        for (const p of params) {
          const g = p.grad;
          if (!g) continue;
          g.mul_(inv);
          ok.push(g.isfinite().all());
        }
        // one device-to-host read for all of them
        return ok.length === 0 || stack(ok).all().item() === 1;
      }),
    );
  }

  /** Unscale, step the optimizer unless a gradient is Inf/NaN, then update the scale. */
  step(opt: { step(): void }, params: Tensor[]): void {
    this.foundInf = !this.unscale(params);
    if (!this.foundInf) opt.step();
    this.update();
  }

  private update(): void {
    if (this.foundInf) {
      this.scale *= this.o.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker === this.o.growthInterval) {
      this.scale *= this.o.growthFactor;
      this.growthTracker = 0;
    }
  }

  stateDict(): { scale: number; growthTracker: number } {
    return { scale: this.scale, growthTracker: this.growthTracker };
  }
  loadStateDict(s: { scale: number; growthTracker: number }): void {
    this.scale = s.scale;
    this.growthTracker = s.growthTracker;
  }
}
