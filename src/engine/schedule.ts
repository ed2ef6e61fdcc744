// Learning-rate schedules as in HF transformers (get_*_schedule_with_warmup): a multiplier of each
// group's base learning rate, computed from the optimizer step.
import type { Optimizer } from './optim.js';

export type ScheduleName = 'constant' | 'constant_with_warmup' | 'linear' | 'cosine';

/** The multiplier at `step` (0-based count of completed optimizer steps). */
export function lrLambda(
  name: ScheduleName,
  step: number,
  warmupSteps: number,
  totalSteps: number,
  numCycles = 0.5,
): number {
  if (name === 'constant') return 1;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (name === 'constant_with_warmup') return 1;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (name === 'linear') return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  if (name === 'cosine') return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  throw new Error(
    `pacer: unknown lr_scheduler_type '${name}' (expected constant, constant_with_warmup, linear or cosine)`,
  );
}

export class LRScheduler {
  private readonly baseLrs: number[];
  private stepNum = 0;
  constructor(
    private readonly opt: Optimizer<{ lr: number }>,
    readonly name: ScheduleName,
    readonly warmupSteps = 0,
    readonly totalSteps = 1,
    readonly numCycles = 0.5,
  ) {
    lrLambda(name, 0, warmupSteps, totalSteps, numCycles); // validates the name
    this.baseLrs = opt.groups.map((g) => g.options.lr);
    this.apply();
  }
  private apply(): void {
    const f = lrLambda(this.name, this.stepNum, this.warmupSteps, this.totalSteps, this.numCycles);
    this.opt.groups.forEach((g, i) => (g.options.lr = this.baseLrs[i] * f));
  }
  /** Advance one optimizer step. */
  step(): void {
    this.stepNum++;
    this.apply();
  }
  get lastLr(): number[] {
    return this.opt.groups.map((g) => g.options.lr);
  }
  stateDict(): { step: number; baseLrs: number[] } {
    return { step: this.stepNum, baseLrs: [...this.baseLrs] };
  }
  loadStateDict(s: { step: number; baseLrs: number[] }): void {
    this.stepNum = s.step;
    this.baseLrs.splice(0, this.baseLrs.length, ...s.baseLrs);
    this.apply();
  }
}
