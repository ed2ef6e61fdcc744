// nn: Module with named parameters and buffers (state dicts with dotted names, as HF checkpoints
// use: "h.0.attn.c_attn.weight"), and the basic layers: Linear, Embedding, LayerNorm, RMSNorm,
// Dropout. Parameters are exempt from memory scopes; Module.dispose() frees them.
import type { Tensor } from './tensor.js';
import { keep, noGrad } from './scope.js';
import { empty, ones, zeros } from './create.js';
import * as F from './functional.js';
import type { Generator } from './random.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  /** Register (or replace) a trainable parameter; it is kept out of scopes and requires grad. */
  protected param(name: string, t: Tensor, requiresGrad = true): Tensor {
    keep(t);
    if (requiresGrad) t.requiresGrad_(true);
    const old = this._params.get(name);
    if (old && old !== t) old.dispose();
    this._params.set(name, t);
    return t;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this._buffers.set(name, t);
    return t;
  }
  /** A registered buffer (the current tensor: to() replaces it). */
  protected getBuffer(name: string): Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`pacer: no buffer '${name}'`);
    return b;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }
  /** Attach a submodule from outside (adapters, heads); its parameters join namedParameters(). */
  addModule<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this._children;
  }
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this._children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [n, p] of this._params) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, c] of this._children) yield* c.namedParameters(prefix ? `${prefix}.${n}` : n);
  }
  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [n, b] of this._buffers) yield [prefix ? `${prefix}.${n}` : n, b];
    for (const [n, c] of this._children) yield* c.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.numel, 0);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const [n, p] of this.namedParameters()) m.set(n, p);
    for (const [n, b] of this.namedBuffers()) m.set(n, b);
    return m;
  }

  /** Copy values in by name. strict: every key must match, with the same shape. */
  loadStateDict(
    sd: Map<string, Tensor> | Record<string, Tensor>,
    opts: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    if ((opts.strict ?? true) && (missing.length || unexpected.length))
      throw new Error(
        `pacer: loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`,
      );
    noGrad(() => {
      for (const [k, t] of own) {
        const s = src.get(k);
        if (!s) continue;
        if (s.shape.join(',') !== t.shape.join(','))
          throw new Error(
            `pacer: loadStateDict: '${k}' has shape [${s.shape}] in the state dict but [${t.shape}] in the model`,
          );
        t.copy_(s);
      }
    });
    return { missing, unexpected };
  }

  /** Replace the parameter at a dotted path (e.g. "model.layers.0.mlp.up_proj.weight"). */
  setParameter(path: string, t: Tensor, requiresGrad = true): void {
    const parts = path.split('.');
    let m: Module = this;
    for (const p of parts.slice(0, -1)) {
      const c = m._children.get(p);
      if (!c) throw new Error(`pacer: no submodule '${p}' on the way to '${path}'`);
      m = c;
    }
    const leaf = parts[parts.length - 1];
    if (!m._params.has(leaf)) throw new Error(`pacer: no parameter '${path}'`);
    m.param(leaf, t, requiresGrad);
    (m as unknown as Record<string, unknown>)[leaf] = t;
  }

  /** Move every parameter (keeping requiresGrad) and buffer to `device` ('cpu', 'cuda', 'cuda:1'). */
  to(device: string): this {
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        for (const [n, p] of m._params) if (p.device !== device) m.setOwn(n, p.to(device), p.requiresGrad, m._params);
        for (const [n, b] of m._buffers) if (b.device !== device) m.setOwn(n, b.to(device), false, m._buffers);
      }
    });
    return this;
  }
  private setOwn(name: string, t: Tensor, requiresGrad: boolean, where: Map<string, Tensor>): void {
    keep(t);
    if (requiresGrad) t.requiresGrad_(true);
    where.get(name)?.dispose();
    where.set(name, t);
    (this as unknown as Record<string, unknown>)[name] = t;
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const p of m._params.values()) p.dispose();
      for (const b of m._buffers.values()) b.dispose();
    }
  }
}

/** An indexed list of modules; names are "0", "1", ... as in torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(mods: M[] = []) {
    super();
    for (const m of mods) this.push(m);
  }
  push(m: M): void {
    this.child(String(this.items.length), m);
    this.items.push(m);
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

export interface InitOptions {
  generator?: Generator;
}

/** y = x W^T + b. Default init as PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** An adapter (e.g. LoRA) adding to the output: y = base(x) + adapter(x) (null: nothing to add). */
  adapter: ((x: Tensor) => Tensor | null) | null = null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', empty([outFeatures, inFeatures]).uniform_(-bound, bound, opts.generator));
    this.bias =
      opts.bias === false ? null : this.param('bias', empty([outFeatures]).uniform_(-bound, bound, opts.generator));
  }
  forward(x: Tensor): Tensor {
    const y = F.linear(x, this.weight, this.bias);
    const a = this.adapter ? this.adapter(x) : null;
    return a ? y.add(a) : y;
  }
}

/** A lookup table; default init N(0, 1) as PyTorch. */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: InitOptions = {},
  ) {
    super();
    this.weight = this.param('weight', empty([numEmbeddings, embeddingDim]).normal_(0, 1, opts.generator));
  }
  forward(idx: Tensor): Tensor {
    return F.embedding(this.weight, idx);
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
    opts: { elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones([dim])) : null;
    this.bias = affine && opts.bias !== false ? this.param('bias', zeros([dim])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, [this.dim], this.weight, this.bias, this.eps);
  }
}

/** RMSNorm as in Llama (weight * x / rms(x)). */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = this.param('weight', ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.weight, this.eps);
  }
}

export class Dropout extends Module {
  constructor(
    readonly p = 0.1,
    readonly generator?: Generator,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? F.dropout(x, this.p, true, this.generator) : x;
  }
}
