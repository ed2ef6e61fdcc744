// Tensor factories: from JS data (copying), constants, ranges and random draws.
import { nativeOrDeferred } from './native.js';
import { Tensor, DTYPES, type DType, type Device } from './tensor.js';
import type { Generator } from './random.js';

const N = nativeOrDeferred();

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

type Nested = number | boolean | Nested[];
export type TensorData =
  | Nested
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Int8Array
  | Uint8Array;

function checkDtype(d: DType | undefined): DType | undefined {
  if (d !== undefined && !DTYPES.includes(d))
    throw new TypeError(`pacer: unknown dtype '${d}' (expected one of ${DTYPES.join(', ')})`);
  return d;
}

function checkShape(shape: number[]): number[] {
  for (const s of shape)
    if (!Number.isInteger(s) || s < 0)
      throw new TypeError(`pacer: a shape must hold non-negative integers, got [${shape}]`);
  return shape;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

const TYPED: Array<[abstract new (...a: never[]) => unknown, DType]> = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
];

/**
 * A tensor from JS data (copied). Nested number arrays give float32 and boolean arrays bool: JS has
 * no separate integer type, so unlike torch.tensor, [1, 2] is float32 too; pass { dtype: 'int64' }
 * for token ids and indices. Typed arrays keep their type; `shape` reshapes a flat array.
 */
export function tensor(data: TensorData, opts: CreateOptions & { shape?: number[] } = {}): Tensor {
  checkDtype(opts.dtype);
  for (const [ctor, dt] of TYPED) {
    if (data instanceof (ctor as any)) {
      const arr = data as ArrayBufferView & { length: number };
      const shape = checkShape(opts.shape ?? [arr.length]);
      const n = shape.reduce((a, b) => a * b, 1);
      if (n !== arr.length)
        throw new TypeError(`pacer: shape [${shape}] needs ${n} elements, the data has ${arr.length}`);
      let t = new Tensor(N.fromBuffer(arr, shape, dt, opts.device));
      if (opts.dtype && opts.dtype !== dt) {
        const c = t.to(opts.dtype);
        t.dispose();
        t = c;
      }
      return finish(t, opts);
    }
  }
  const shape = inferShape(data as Nested);
  const flat: (number | boolean)[] = [];
  const walk = (v: Nested): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else flat.push(v);
  };
  walk(data as Nested);
  const n = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== n)
    throw new TypeError(`pacer: tensor() data is ragged: shape [${shape}] needs ${n} elements, found ${flat.length}`);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' && typeof v !== 'boolean')
      throw new TypeError(`pacer: tensor() data element ${i} is ${typeof v}, expected a number or boolean`);
  }
  let natural: DType;
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) natural = 'bool';
  else if (opts.dtype && !['float32', 'float16', 'bfloat16', 'float64', 'bool'].includes(opts.dtype)) {
    for (let i = 0; i < flat.length; i++)
      if (!Number.isInteger(flat[i]))
        throw new TypeError(
          `pacer: tensor() data element ${i} (${flat[i]}) is not an integer, but dtype ${opts.dtype} was asked for`,
        );
    natural = 'int64';
  } else natural = 'float32';
  const target = opts.dtype ?? natural;
  let t: Tensor;
  if (natural === 'bool')
    t = new Tensor(
      N.fromBuffer(
        Uint8Array.from(flat as boolean[], (b) => (b ? 1 : 0)),
        opts.shape ?? shape,
        'bool',
        opts.device,
      ),
    );
  else if (natural === 'int64')
    t = new Tensor(
      N.fromBuffer(
        BigInt64Array.from(flat as number[], (x) => BigInt(x)),
        opts.shape ?? shape,
        'int64',
        opts.device,
      ),
    );
  else t = new Tensor(N.fromBuffer(Float64Array.from(flat as number[]), opts.shape ?? shape, 'float64', opts.device));
  if (t.dtype !== target) {
    const c = t.to(target);
    t.dispose();
    t = c;
  }
  return finish(t, opts);
}

function shapeOf(s: number[] | number): number[] {
  return checkShape(typeof s === 'number' ? [s] : s);
}

export function zeros(shape: number[] | number, o: CreateOptions = {}): Tensor {
  return finish(new Tensor(N.create('zeros', shapeOf(shape), checkDtype(o.dtype), o.device ?? null)), o);
}
export function ones(shape: number[] | number, o: CreateOptions = {}): Tensor {
  return finish(new Tensor(N.create('ones', shapeOf(shape), checkDtype(o.dtype), o.device ?? null)), o);
}
export function empty(shape: number[] | number, o: CreateOptions = {}): Tensor {
  return finish(new Tensor(N.create('empty', shapeOf(shape), checkDtype(o.dtype), o.device ?? null)), o);
}
export function full(shape: number[] | number, value: number, o: CreateOptions = {}): Tensor {
  return finish(new Tensor(N.create('full', shapeOf(shape), checkDtype(o.dtype), o.device ?? null, value)), o);
}
export function eye(n: number, o: CreateOptions = {}): Tensor {
  return finish(new Tensor(N.create('eye', n, checkDtype(o.dtype), o.device ?? null)), o);
}
/** arange(end) or arange(start, end, step); int64 unless a dtype is given. */
export function arange(startOrEnd: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  if (step === 0) throw new RangeError('pacer: arange step must not be 0');
  return finish(new Tensor(N.create('arange', [0], checkDtype(o.dtype) ?? 'int64', o.device ?? null, s, e, step)), o);
}
export function randn(shape: number[] | number, o: RandomOptions = {}): Tensor {
  return finish(
    new Tensor(
      N.create('randn', shapeOf(shape), checkDtype(o.dtype), o.device ?? null, 0, 0, 0, o.generator?.handle ?? null),
    ),
    o,
  );
}
export function rand(shape: number[] | number, o: RandomOptions = {}): Tensor {
  return finish(
    new Tensor(
      N.create('rand', shapeOf(shape), checkDtype(o.dtype), o.device ?? null, 0, 0, 0, o.generator?.handle ?? null),
    ),
    o,
  );
}
/** Integers uniformly in [low, high); int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: number[] | number, o: RandomOptions = {}): Tensor {
  if (!(high > low)) throw new RangeError(`pacer: randint needs high > low, got [${low}, ${high})`);
  return finish(
    new Tensor(
      N.create(
        'randint',
        shapeOf(shape),
        checkDtype(o.dtype) ?? 'int64',
        o.device ?? null,
        0,
        low,
        high,
        o.generator?.handle ?? null,
      ),
    ),
    o,
  );
}
