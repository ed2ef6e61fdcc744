// Optimizers with PyTorch's update rules (torch.optim.AdamW / SGD, single-tensor path; AdamW also
// through libtorch's fused kernel where the build has it), parameter groups, weight-decay masks,
// global-norm gradient clipping and gradient accumulation.
import { Tensor } from './tensor.js';
import { keep, noGrad, scope } from './scope.js';
import { full, zeros } from './create.js';
import * as F from './functional.js';
import type { Module } from './nn.js';
import { rawCall } from './tensor.js';
import { hasFusedAdamW } from './amp.js';
import { native } from './native.js';

export interface ParamGroup<O> {
  params: Tensor[];
  /** Names, parallel to params, for state dicts and error messages. */
  names?: string[];
  options: O;
}
type GroupSpec<O> = Tensor[] | Array<{ params: Tensor[]; names?: string[] } & Partial<O>>;

function makeGroups<O extends object>(spec: GroupSpec<O>, defaults: O): ParamGroup<O>[] {
  if (spec.length === 0) throw new Error('pacer: an optimizer needs at least one parameter');
  if (spec[0] instanceof Tensor) return [{ params: spec as Tensor[], options: { ...defaults } }];
  return (spec as Array<{ params: Tensor[]; names?: string[] } & Partial<O>>).map(({ params, names, ...o }) => ({
    params,
    names,
    options: { ...defaults, ...(o as Partial<O>) },
  }));
}

/**
 * Two parameter groups from a module: with weight decay, and without it for parameters the mask
 * excludes (by default biases, norms and other tensors of fewer than 2 dims, as nanoGPT/HF do).
 */
export function decayGroups(
  model: Module,
  weightDecay: number,
  noDecay: (name: string, p: Tensor) => boolean = (_n, p) => p.ndim < 2,
): Array<{ params: Tensor[]; names: string[]; weightDecay: number }> {
  const d: [string, Tensor][] = [];
  const nd: [string, Tensor][] = [];
  for (const [n, p] of model.namedParameters()) if (p.requiresGrad) (noDecay(n, p) ? nd : d).push([n, p]);
  return [
    { params: d.map((x) => x[1]), names: d.map((x) => x[0]), weightDecay },
    { params: nd.map((x) => x[1]), names: nd.map((x) => x[0]), weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
}

export abstract class Optimizer<O extends { lr: number }> {
  readonly groups: ParamGroup<O>[];
  stepCount = 0;
  constructor(spec: GroupSpec<O>, defaults: O) {
    this.groups = makeGroups(spec, defaults);
  }
  get lr(): number {
    return this.groups[0].options.lr;
  }
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }
  step(): void {
    this.stepCount++;
    noGrad(() =>
      scope(() => {
        for (const g of this.groups)
          g.params.forEach((p, i) => {
            const grad = p.grad;
            if (grad) this.update(p, grad, g.options, this.stateFor(p, g, i));
          });
      }),
    );
  }
  protected abstract update(p: Tensor, grad: Tensor, o: O, state: Map<string, Tensor>): void;
  private readonly state = new Map<Tensor, Map<string, Tensor>>();
  private stateFor(p: Tensor, _g: ParamGroup<O>, _i: number): Map<string, Tensor> {
    return this.stateOf(p);
  }
  protected stateOf(p: Tensor): Map<string, Tensor> {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = new Map()));
    return s;
  }
  protected lazy(state: Map<string, Tensor>, key: string, like: Tensor): Tensor {
    let t = state.get(key);
    if (!t) state.set(key, (t = keep(zeros(like.shape, { dtype: like.dtype, device: like.device }))));
    return t;
  }
  /** Optimizer state by "group.param.key" plus the step count and group options, for checkpoints. */
  stateDict(): { step: number; options: O[]; tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    this.groups.forEach((g, gi) =>
      g.params.forEach((p, pi) => {
        for (const [k, t] of this.state.get(p) ?? []) tensors.set(`${gi}.${pi}.${k}`, t);
      }),
    );
    return { step: this.stepCount, options: this.groups.map((g) => ({ ...g.options })), tensors };
  }
  loadStateDict(sd: { step: number; options: O[]; tensors: Map<string, Tensor> }): void {
    if (sd.options.length !== this.groups.length)
      throw new Error(
        `pacer: optimizer state has ${sd.options.length} parameter groups, this optimizer has ${this.groups.length}`,
      );
    this.stepCount = sd.step;
    this.groups.forEach((g, gi) => {
      Object.assign(g.options, sd.options[gi]);
      g.params.forEach((p, pi) => {
        const s = new Map<string, Tensor>();
        for (const [k, t] of sd.tensors) {
          const [a, b, key] = k.split('.');
          if (Number(a) === gi && Number(b) === pi) {
            if (t.shape.join(',') !== p.shape.join(',') && key !== 'step')
              throw new Error(
                `pacer: optimizer state '${k}' has shape [${t.shape}], parameter ${g.names?.[pi] ?? pi} has ` +
                  `[${p.shape}]`,
              );
            s.set(key, keep(t.clone()));
          }
        }
        const old = this.state.get(p);
        if (old) for (const t of old.values()) t.dispose();
        this.state.set(p, s);
      });
    });
  }
  dispose(): void {
    for (const s of this.state.values()) for (const t of s.values()) t.dispose();
    this.state.clear();
  }
}

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/**
 * AdamW (Loshchilov & Hutter 2019), decoupled weight decay; the update of torch.optim.AdamW. With
 * `fused: true` each group's update is one call of libtorch's _fused_adamw_ kernel (libtorch 2.x;
 * CUDA, and CPU from 2.4), as torch.optim.AdamW(fused=True); the same state, so checkpoints carry over.
 */
export class AdamW extends Optimizer<AdamWOptions> {
  readonly fused: boolean;
  constructor(params: GroupSpec<AdamWOptions>, o: Partial<AdamWOptions> & { fused?: boolean } = {}) {
    const { fused, ...rest } = o;
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...rest });
    if (fused && !hasFusedAdamW())
      throw new Error(
        `pacer: fused AdamW needs libtorch's _fused_adamw_ kernel (libtorch 2.x); this build has libtorch ` +
          `${native().buildInfo().torchVersion}`,
      );
    this.fused = !!fused;
  }
  override step(): void {
    if (this.fused) this.fusedStep();
    else super.step();
  }
  /** Each group's update in one _fused_adamw_ call (its steps are counted up first, as torch does). */
  private fusedStep(): void {
    this.stepCount++;
    noGrad(() =>
      scope(() => {
        for (const g of this.groups) {
          const live = g.params.filter((p) => p.grad);
          if (!live.length) continue;
          const st = live.map((p) => this.stateOf(p));
          const steps = st.map((s, i) => {
            let t = s.get('step');
            if (!t) s.set('step', (t = keep(zeros([], { dtype: 'float32', device: live[i].device }))));
            t.add_(1);
            return t;
          });
          const [b1, b2] = g.options.betas;
          const h = (ts: Tensor[]) => ts.map((t) => t.handle);
          rawCall(
            'fused_adamw_',
            h(live),
            h(live.map((p) => p.grad!)),
            h(live.map((p, i) => this.lazy(st[i], 'exp_avg', p))),
            h(live.map((p, i) => this.lazy(st[i], 'exp_avg_sq', p))),
            h(steps),
            g.options.lr,
            b1,
            b2,
            g.options.weightDecay,
            g.options.eps,
          );
        }
      }),
    );
  }
  protected update(p: Tensor, grad: Tensor, o: AdamWOptions, st: Map<string, Tensor>): void {
    const [b1, b2] = o.betas;
    const m = this.lazy(st, 'exp_avg', p);
    const v = this.lazy(st, 'exp_avg_sq', p);
    const step = (st.get('step')?.item() ?? 0) + 1;
    const stepT = st.get('step');
    if (stepT) stepT.fill_(step);
    else st.set('step', keep(full([], step)));
    if (o.weightDecay !== 0) p.mul_(1 - o.lr * o.weightDecay);
    m.lerp_(grad, 1 - b1);
    v.mul_(b2).addcmul_(grad, grad, 1 - b2);
    const bc1 = 1 - b1 ** step;
    const bc2 = 1 - b2 ** step;
    const denom = v.sqrt().div_(Math.sqrt(bc2)).add_(o.eps);
    p.addcdiv_(m, denom, -o.lr / bc1);
  }
}

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** SGD with optional momentum / Nesterov and L2 weight decay (torch.optim.SGD). */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: GroupSpec<SGDOptions>, o: Partial<SGDOptions> = {}) {
    super(params, { lr: 1e-2, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o });
  }
  protected update(p: Tensor, grad: Tensor, o: SGDOptions, st: Map<string, Tensor>): void {
    let d = o.weightDecay !== 0 ? grad.add(p, o.weightDecay) : grad;
    if (o.momentum !== 0) {
      let buf = st.get('momentum_buffer');
      if (!buf) st.set('momentum_buffer', (buf = keep(d.clone())));
      else buf.mul_(o.momentum).add_(d, 1 - o.dampening);
      d = o.nesterov ? d.add(buf, o.momentum) : buf;
    }
    p.add_(d, -o.lr);
  }
}

/**
 * Scale all gradients so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping; a non-finite norm is returned as is and nothing is scaled
 * (the caller decides: trainers report it and skip the step).
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() =>
    scope(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const total = F.stack(grads.map((g) => g.norm(2)))
        .norm(2)
        .item();
      if (!Number.isFinite(total)) return total;
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) g.mul_(coef);
      return total;
    }),
  );
}

/** True when any gradient holds NaN or Inf. */
export function gradsAreFinite(params: Tensor[]): boolean {
  return noGrad(() =>
    scope(() =>
      params.every((p) => {
        const g = p.grad;
        return !g || g.isfinite().all().item() === 1;
      }),
    ),
  );
}

/**
 * Gradient accumulation over `steps` micro-batches: scale each micro-batch loss by 1/steps, call
 * backward, and step the optimizer when boundary() is true. The accumulated gradient equals the
 * gradient of the mean loss over the whole batch when micro-batches are of equal size.
 */
export class GradientAccumulation {
  private micro = 0;
  constructor(readonly steps: number) {
    if (!Number.isInteger(steps) || steps < 1)
      throw new RangeError(`pacer: gradient accumulation steps must be a positive integer, got ${steps}`);
  }
  /** Backpropagate loss/steps; returns true when the optimizer should step now. */
  backward(loss: Tensor): boolean {
    scope(() => loss.div(this.steps).backward());
    this.micro++;
    return this.micro % this.steps === 0;
  }
  get microStep(): number {
    return this.micro;
  }
}
