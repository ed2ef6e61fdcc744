// Free functions over tensors (torch.* and torch.nn.functional.* in PyTorch), with the argument
// checks that turn a wrong dtype or shape into a message saying what was expected.
import { type Tensor, _op as op, _ops as ops, _h as h, isFloating, type TensorLike, type DType } from './tensor.js';
import type { Generator } from './random.js';

export function expectDtype(t: Tensor, what: string, allowed: DType[]): void {
  if (!allowed.includes(t.dtype))
    throw new TypeError(`pacer: ${what} must have dtype ${allowed.join(' or ')}, got ${t.dtype} (shape [${t.shape}])`);
}
export function expectFloat(t: Tensor, what: string): void {
  if (!isFloating(t.dtype))
    throw new TypeError(`pacer: ${what} must be a floating-point tensor, got ${t.dtype} (shape [${t.shape}])`);
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TypeError('pacer: cat needs at least one tensor');
  return op(
    'cat',
    tensors.map((t) => t.handle),
    dim,
  );
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TypeError('pacer: stack needs at least one tensor');
  return op(
    'stack',
    tensors.map((t) => t.handle),
    dim,
  );
}
/** cond ? a : b, elementwise with broadcasting. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  expectDtype(cond, 'where() condition', ['bool']);
  return op('where', cond.handle, h(a), h(b));
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}
export function bmm(a: Tensor, b: Tensor): Tensor {
  return a.bmm(b);
}
/** beta * input + alpha * (b1 @ b2), batched. */
export function baddbmm(input: Tensor, b1: Tensor, b2: Tensor, beta = 1, alpha = 1): Tensor {
  return op('baddbmm', input.handle, b1.handle, b2.handle, beta, alpha);
}
export function einsum(eq: string, ...tensors: Tensor[]): Tensor {
  return op(
    'einsum',
    eq,
    tensors.map((t) => t.handle),
  );
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return a.minimum(b);
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return a.maximum(b);
}

/** x @ weight^T + bias (weight [out, in], as torch.nn.functional.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  const last = x.shape[x.ndim - 1];
  if (weight.ndim !== 2 || last !== inF)
    throw new TypeError(`pacer: linear expects input [..., ${inF}] for weight [${weight.shape}], got [${x.shape}]`);
  return op('linear', x.handle, weight.handle, bias ? bias.handle : null);
}
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const tail = x.shape.slice(x.ndim - normalizedShape.length);
  if (tail.join(',') !== normalizedShape.join(','))
    throw new TypeError(
      `pacer: layerNorm over [${normalizedShape}] expects input [..., ${normalizedShape}], got [${x.shape}]`,
    );
  return op('layer_norm', x.handle, normalizedShape, weight ? weight.handle : null, bias ? bias.handle : null, eps);
}
/** RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * weight, computed in float32. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  const xf = x.dtype === 'float32' ? x : x.to('float32');
  const y = xf.mul(xf.square().mean(-1, true).add(eps).rsqrt());
  const yc = y.dtype === x.dtype ? y : y.to(x.dtype);
  return weight ? yc.mul(weight) : yc;
}
export function embedding(weight: Tensor, indices: Tensor, paddingIdx = -1): Tensor {
  expectDtype(indices, 'embedding indices', ['int64', 'int32']);
  return op('embedding', weight.handle, indices.handle, paddingIdx);
}
export interface CrossEntropyOptions {
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
  labelSmoothing?: number;
}
/** Cross-entropy from logits [N, C] (or [N, C, ...]) and integer targets [N] (torch semantics). */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  expectFloat(logits, 'crossEntropy logits');
  expectDtype(target, 'crossEntropy target', ['int64']);
  if (logits.shape[0] !== target.shape[0])
    throw new TypeError(
      `pacer: crossEntropy logits [${logits.shape}] and target [${target.shape}] disagree on the batch size`,
    );
  return op(
    'cross_entropy',
    logits.handle,
    target.handle,
    o.ignoreIndex ?? -100,
    o.reduction ?? 'mean',
    o.labelSmoothing ?? 0,
  );
}
export function softmax(x: Tensor, dim: number): Tensor {
  return x.softmax(dim);
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return x.logSoftmax(dim);
}
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return x.gelu(approximate);
}
/** Inverted dropout: zeroes with probability p and scales survivors by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training = true, generator?: Generator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`pacer: dropout probability must be in [0, 1], got ${p}`);
  return op('dropout', x.handle, p, training, generator?.handle ?? null);
}
/** Draw `n` indices per row of non-negative weights. */
export function multinomial(probs: Tensor, n: number, replacement = false, generator?: Generator): Tensor {
  expectFloat(probs, 'multinomial probabilities');
  return op('multinomial', probs.handle, n, replacement, generator?.handle ?? null);
}
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  expectDtype(indices, 'oneHot indices', ['int64']);
  return op('one_hot', indices.handle, numClasses);
}
/**
 * F.interpolate(x, [h, w], mode='bicubic', antialias=True) on float images [N, C, H, W]: Keys' cubic
 * (a = −0.5) widened by the scale when shrinking, as torchvision's and HF's fast processors resize.
 */
export function interpolateBicubicAA(x: Tensor, size: [number, number], alignCorners = false): Tensor {
  expectFloat(x, 'interpolateBicubicAA input');
  if (x.ndim !== 4) throw new RangeError(`pacer: interpolateBicubicAA expects [N, C, H, W], got [${x.shape}]`);
  if (!size.every((v) => Number.isInteger(v) && v > 0))
    throw new RangeError(`pacer: interpolateBicubicAA: output size must be positive integers, got [${size}]`);
  return op('upsample_bicubic2d_aa', x.handle, size, alignCorners);
}
export function split(x: Tensor, sizeOrSizes: number | number[], dim = 0): Tensor[] {
  return ops('split', x.handle, sizeOrSizes, dim);
}
