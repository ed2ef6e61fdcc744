// Tensor: a TypeScript handle to a libtorch tensor. Methods mirror PyTorch's names in camelCase
// (maskedFill = masked_fill, logSoftmax = log_softmax, ...). Results are new tensors tracked by the
// current memory scope (see scope.ts); in-place methods end in an underscore, as in PyTorch.
import { nativeOrDeferred, type Handle, type GenHandle } from './native.js';
import { currentCtx, type Disposable, type Scope } from './scope.js';

export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';
export const DTYPES: readonly DType[] = [
  'float32',
  'float16',
  'bfloat16',
  'float64',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];
export type Device = string; // 'cpu' | 'cuda' | 'cuda:N'
export type Scalar = number | boolean;
export type TensorLike = Tensor | number;

const N = nativeOrDeferred();
let nativeGrad = true;

/** Call a native op with the caller's grad mode applied. */
export function rawCall(op: string, ...args: unknown[]): any {
  const want = currentCtx().grad;
  if (want !== nativeGrad) {
    N.autograd('setGradEnabled', want);
    nativeGrad = want;
  }
  return N.call(op, ...args);
}

function h(x: TensorLike | null | undefined): unknown {
  if (x instanceof Tensor) return x.handle;
  return x;
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

/** Wrap a raw result (a handle or an array of handles) as tensors. */
export function wrapResult(r: unknown): any {
  if (Array.isArray(r)) return r.map((x) => new Tensor(x as Handle));
  if (r === undefined) return undefined;
  return new Tensor(r as Handle);
}

function op(name: string, ...args: unknown[]): Tensor {
  return new Tensor(rawCall(name, ...args) as Handle);
}

function ops(name: string, ...args: unknown[]): Tensor[] {
  return (rawCall(name, ...args) as Handle[]).map((x) => new Tensor(x));
}

export class Tensor implements Disposable {
  /** @internal */ _h: Handle | null;
  /** @internal */ _scope: Scope | null = null;
  private _meta: [number[], string, string] | null = null;

  /** @internal Use the factory functions (tensor, zeros, randn, ...) instead. */
  constructor(handle: Handle) {
    this._h = handle;
    const s = currentCtx().scope;
    if (s) s.track(this);
  }

  /** The native handle; throws a clear error if the tensor was disposed. */
  get handle(): Handle {
    if (this._h === null)
      throw new Error(
        'pacer: this tensor was disposed; it cannot be used any more (keep() it or clone() it before its scope ends)',
      );
    return this._h;
  }

  private meta(): [number[], string, string] {
    if (!this._meta) this._meta = N.meta(this.handle);
    return this._meta;
  }

  get shape(): number[] {
    return this.meta()[0].slice();
  }
  get dtype(): DType {
    return this.meta()[1] as DType;
  }
  get device(): Device {
    return this.meta()[2];
  }
  get ndim(): number {
    return this.meta()[0].length;
  }
  get numel(): number {
    return this.meta()[0].reduce((a, b) => a * b, 1);
  }
  size(dim?: number): number | number[] {
    if (dim === undefined) return this.shape;
    const s = this.meta()[0];
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`pacer: size(${dim}) out of range for a ${s.length}-d tensor`);
    return s[d];
  }
  get disposed(): boolean {
    return this._h === null;
  }

  /** Free the native memory now (views and autograd graphs that still use it keep it alive). */
  dispose(): void {
    if (this._h !== null) {
      N.dispose(this._h);
      this._h = null;
    }
  }

  toString(): string {
    if (this._h === null) return 'Tensor(<disposed>)';
    return (
      `Tensor(shape=[${this.shape}], dtype=${this.dtype}, ` +
      `device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`
    );
  }

  // ---------------------------------------------------------------- data out
  /** A copy of the data as a typed array of the natural type (float16/bfloat16 come out as Float32Array). */
  data(): Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array {
    const d = this.dtype;
    if (d === 'float16' || d === 'bfloat16') {
      const f = op('to_dtype', this.handle, 'float32');
      try {
        return new Float32Array(N.toBuffer(f.handle));
      } finally {
        f.dispose();
      }
    }
    const buf = N.toBuffer(this.handle);
    switch (d) {
      case 'float32':
        return new Float32Array(buf);
      case 'float64':
        return new Float64Array(buf);
      case 'int64':
        return new BigInt64Array(buf);
      case 'int32':
        return new Int32Array(buf);
      case 'int16':
        return new Int16Array(buf);
      case 'int8':
        return new Int8Array(buf);
      default:
        return new Uint8Array(buf);
    }
  }

  /** Flat copy as JS numbers (int64 converted with Number()). */
  toArray(): number[] {
    const d = this.data();
    if (d instanceof BigInt64Array) return Array.from(d, (x) => Number(x));
    return Array.from(d as ArrayLike<number>);
  }

  /** Nested JS arrays (a number for a 0-d tensor), like PyTorch's tolist(). */
  tolist(): any {
    const flat = this.toArray();
    const shape = this.shape;
    if (shape.length === 0) return flat[0];
    const build = (dim: number, off: number): any => {
      const n = shape[dim];
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dim === shape.length - 1 ? flat[off + i] : build(dim + 1, off + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    return Number(N.item(this.handle));
  }

  // ---------------------------------------------------------------- autograd
  get requiresGrad(): boolean {
    return N.autograd('requiresGrad', this.handle);
  }
  set requiresGrad(v: boolean) {
    N.autograd('setRequiresGrad', this.handle, v);
  }
  requiresGrad_(v = true): this {
    N.autograd('setRequiresGrad', this.handle, v);
    return this;
  }
  get isLeaf(): boolean {
    return N.autograd('isLeaf', this.handle);
  }
  get gradFn(): string | null {
    return N.autograd('gradFn', this.handle);
  }
  /** The accumulated gradient (a new handle on the same memory), or null. */
  get grad(): Tensor | null {
    const g = N.autograd('grad', this.handle);
    return g ? new Tensor(g) : null;
  }
  set grad(g: Tensor | null) {
    N.autograd('setGrad', this.handle, g ? g.handle : null);
  }
  retainGrad(): this {
    N.autograd('retainGrad', this.handle);
    return this;
  }
  /** Backpropagate from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: Tensor | null, opts: { retainGraph?: boolean } = {}): void {
    if (!gradient && this.numel !== 1)
      throw new Error(`pacer: backward() without a gradient needs a one-element tensor, got shape [${this.shape}]`);
    N.autograd('backward', this.handle, gradient ? gradient.handle : null, !!opts.retainGraph);
  }
  detach(): Tensor {
    return op('detach', this.handle);
  }

  // ---------------------------------------------------------------- conversion
  to(target: DType | Device): Tensor {
    if ((DTYPES as readonly string[]).includes(target)) return op('to_dtype', this.handle, target);
    return op('to_device', this.handle, target);
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return op('clone', this.handle);
  }
  contiguous(): Tensor {
    return op('contiguous', this.handle);
  }

  // ---------------------------------------------------------------- math (broadcasting)
  add(o: TensorLike, alpha?: number): Tensor {
    return op('add', this.handle, h(o), alpha);
  }
  sub(o: TensorLike, alpha?: number): Tensor {
    return op('sub', this.handle, h(o), alpha);
  }
  /** o - this */
  rsub(o: number): Tensor {
    return op('rsub', this.handle, o);
  }
  mul(o: TensorLike): Tensor {
    return op('mul', this.handle, h(o));
  }
  div(o: TensorLike): Tensor {
    return op('div', this.handle, h(o));
  }
  /** o / this */
  rdiv(o: number): Tensor {
    return op('rdiv', this.handle, o);
  }
  pow(e: TensorLike): Tensor {
    return op('pow', this.handle, h(e));
  }
  remainder(o: TensorLike): Tensor {
    return op('remainder', this.handle, h(o));
  }
  neg(): Tensor {
    return op('neg', this.handle);
  }
  exp(): Tensor {
    return op('exp', this.handle);
  }
  expm1(): Tensor {
    return op('expm1', this.handle);
  }
  log(): Tensor {
    return op('log', this.handle);
  }
  log1p(): Tensor {
    return op('log1p', this.handle);
  }
  sqrt(): Tensor {
    return op('sqrt', this.handle);
  }
  rsqrt(): Tensor {
    return op('rsqrt', this.handle);
  }
  square(): Tensor {
    return op('square', this.handle);
  }
  reciprocal(): Tensor {
    return op('reciprocal', this.handle);
  }
  tanh(): Tensor {
    return op('tanh', this.handle);
  }
  sigmoid(): Tensor {
    return op('sigmoid', this.handle);
  }
  logsigmoid(): Tensor {
    return op('logsigmoid', this.handle);
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return op('softplus', this.handle, beta, threshold);
  }
  relu(): Tensor {
    return op('relu', this.handle);
  }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return op('gelu', this.handle, approximate);
  }
  silu(): Tensor {
    return op('silu', this.handle);
  }
  abs(): Tensor {
    return op('abs', this.handle);
  }
  sign(): Tensor {
    return op('sign', this.handle);
  }
  sin(): Tensor {
    return op('sin', this.handle);
  }
  cos(): Tensor {
    return op('cos', this.handle);
  }
  erf(): Tensor {
    return op('erf', this.handle);
  }
  floor(): Tensor {
    return op('floor', this.handle);
  }
  ceil(): Tensor {
    return op('ceil', this.handle);
  }
  round(): Tensor {
    return op('round', this.handle);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return op('clamp', this.handle, min ?? null, max ?? null);
  }
  minimum(o: Tensor): Tensor {
    return op('minimum', this.handle, o.handle);
  }
  maximum(o: Tensor): Tensor {
    return op('maximum', this.handle, o.handle);
  }
  eq(o: TensorLike): Tensor {
    return op('eq', this.handle, h(o));
  }
  ne(o: TensorLike): Tensor {
    return op('ne', this.handle, h(o));
  }
  lt(o: TensorLike): Tensor {
    return op('lt', this.handle, h(o));
  }
  le(o: TensorLike): Tensor {
    return op('le', this.handle, h(o));
  }
  gt(o: TensorLike): Tensor {
    return op('gt', this.handle, h(o));
  }
  ge(o: TensorLike): Tensor {
    return op('ge', this.handle, h(o));
  }
  logicalAnd(o: Tensor): Tensor {
    return op('logical_and', this.handle, o.handle);
  }
  logicalOr(o: Tensor): Tensor {
    return op('logical_or', this.handle, o.handle);
  }
  logicalNot(): Tensor {
    return op('logical_not', this.handle);
  }
  isnan(): Tensor {
    return op('isnan', this.handle);
  }
  isfinite(): Tensor {
    return op('isfinite', this.handle);
  }
  any(): Tensor {
    return op('any', this.handle);
  }
  all(): Tensor {
    return op('all', this.handle);
  }
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    return op('masked_fill', this.handle, mask.handle, h(value));
  }

  // ---------------------------------------------------------------- reductions
  sum(dim?: number | number[], keepdim = false, dtype?: DType): Tensor {
    return op('sum', this.handle, dim ?? null, keepdim, dtype ?? null);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return op('mean', this.handle, dim ?? null, keepdim);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return op('prod', this.handle, dim ?? null, keepdim);
  }
  /** max over everything, or (values, indices) along dim. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return op('max', this.handle);
    return ops('max', this.handle, dim, keepdim) as [Tensor, Tensor];
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    if (dim === undefined) return op('min', this.handle);
    return ops('min', this.handle, dim, keepdim) as [Tensor, Tensor];
  }
  amax(dim: number | number[], keepdim = false): Tensor {
    return op('amax', this.handle, dim, keepdim);
  }
  amin(dim: number | number[], keepdim = false): Tensor {
    return op('amin', this.handle, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return op('argmax', this.handle, dim ?? null, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return op('argmin', this.handle, dim ?? null, keepdim);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return op('logsumexp', this.handle, dim, keepdim);
  }
  /** Variance; unbiased (Bessel-corrected) by default, as in PyTorch. */
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return op('var', this.handle, dim ?? null, unbiased, keepdim);
  }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return op('std', this.handle, dim ?? null, unbiased, keepdim);
  }
  cumsum(dim: number, dtype?: DType): Tensor {
    return op('cumsum', this.handle, dim, dtype ?? null);
  }
  /** Vector p-norm over dims (all by default). */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return op('norm', this.handle, p, dim ?? null, keepdim);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    return ops('topk', this.handle, k, dim, largest, sorted) as [Tensor, Tensor];
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    return ops('sort', this.handle, dim, descending) as [Tensor, Tensor];
  }

  // ---------------------------------------------------------------- linear algebra, nn
  matmul(o: Tensor): Tensor {
    return op('matmul', this.handle, o.handle);
  }
  mm(o: Tensor): Tensor {
    return op('mm', this.handle, o.handle);
  }
  bmm(o: Tensor): Tensor {
    return op('bmm', this.handle, o.handle);
  }
  softmax(dim: number, dtype?: DType): Tensor {
    return op('softmax', this.handle, dim, dtype ?? null);
  }
  logSoftmax(dim: number, dtype?: DType): Tensor {
    return op('log_softmax', this.handle, dim, dtype ?? null);
  }

  // ---------------------------------------------------------------- views and indexing
  reshape(...shape: number[] | [number[]]): Tensor {
    return op('reshape', this.handle, flatShape(shape));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return op('view', this.handle, flatShape(shape));
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return op('permute', this.handle, flatShape(dims));
  }
  transpose(d0: number, d1: number): Tensor {
    return op('transpose', this.handle, d0, d1);
  }
  /** Transpose of a 2-d tensor. */
  get T(): Tensor {
    return this.transpose(0, 1);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return op('narrow', this.handle, dim, start, length);
  }
  /** Python-style slice along dim: start/end may be negative or null. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return op('slice', this.handle, dim, start, end, step);
  }
  select(dim: number, index: number): Tensor {
    return op('select', this.handle, dim, index);
  }
  squeeze(dim?: number): Tensor {
    return op('squeeze', this.handle, dim ?? null);
  }
  unsqueeze(dim: number): Tensor {
    return op('unsqueeze', this.handle, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return op('flatten', this.handle, startDim, endDim);
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return op('expand', this.handle, flatShape(shape));
  }
  expandAs(o: Tensor): Tensor {
    return this.expand(o.shape);
  }
  repeat(...reps: number[] | [number[]]): Tensor {
    return op('repeat', this.handle, flatShape(reps));
  }
  flip(dims: number | number[]): Tensor {
    return op('flip', this.handle, dims);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return op('index_select', this.handle, dim, index.handle);
  }
  gather(dim: number, index: Tensor): Tensor {
    return op('gather', this.handle, dim, index.handle);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return op('scatter_add', this.handle, dim, index.handle, src.handle);
  }
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor {
    return op('scatter', this.handle, dim, index.handle, h(src));
  }
  maskedSelect(mask: Tensor): Tensor {
    return op('masked_select', this.handle, mask.handle);
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return ops('split', this.handle, sizeOrSizes, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return ops('chunk', this.handle, chunks, dim);
  }
  tril(diagonal = 0): Tensor {
    return op('tril', this.handle, diagonal);
  }
  triu(diagonal = 0): Tensor {
    return op('triu', this.handle, diagonal);
  }

  // ---------------------------------------------------------------- in place (no autograd on leaves)
  add_(o: TensorLike, alpha?: number): this {
    rawCall('add_', this.handle, h(o), alpha);
    return this;
  }
  sub_(o: TensorLike, alpha = 1): this {
    rawCall('add_', this.handle, h(o), -alpha);
    return this;
  }
  mul_(o: TensorLike): this {
    rawCall('mul_', this.handle, h(o));
    return this;
  }
  div_(o: TensorLike): this {
    rawCall('div_', this.handle, h(o));
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    rawCall('addcmul_', this.handle, a.handle, b.handle, value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    rawCall('addcdiv_', this.handle, a.handle, b.handle, value);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    rawCall('lerp_', this.handle, end.handle, weight);
    return this;
  }
  sqrt_(): this {
    rawCall('sqrt_', this.handle);
    return this;
  }
  copy_(src: Tensor): this {
    rawCall('copy_', this.handle, src.handle);
    return this;
  }
  fill_(v: number): this {
    rawCall('fill_', this.handle, v);
    return this;
  }
  zero_(): this {
    rawCall('zero_', this.handle);
    return this;
  }
  clamp_(min?: number | null, max?: number | null): this {
    rawCall('clamp_', this.handle, min ?? null, max ?? null);
    return this;
  }
  maskedFill_(mask: Tensor, v: number): this {
    rawCall('masked_fill_', this.handle, mask.handle, v);
    return this;
  }
  normal_(mean = 0, std = 1, gen?: { handle: GenHandle } | null): this {
    rawCall('normal_', this.handle, mean, std, gen ? gen.handle : null);
    return this;
  }
  uniform_(lo = 0, hi = 1, gen?: { handle: GenHandle } | null): this {
    rawCall('uniform_', this.handle, lo, hi, gen ? gen.handle : null);
    return this;
  }
}

function flatShape(s: number[] | [number[]]): number[] {
  return (s.length === 1 && Array.isArray(s[0]) ? s[0] : s) as number[];
}

export { op as _op, ops as _ops, h as _h };
