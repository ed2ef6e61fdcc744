// Memory scopes and grad mode, both carried in one AsyncLocalStorage context so that they follow
// async code (awaits, timers) as well as sync code.
//
//   const loss = scope(() => model.loss(batch));          // temporaries freed, `loss` kept
//   const out = await scope(async () => { ... });         // same for async functions
//   noGrad(() => ...)                                      // no autograd graph inside
//
// Tensors created inside a scope are disposed when it ends, except those reachable from its
// return value (arrays, plain objects, Maps, Sets) and those passed to keep(); survivors move to
// the enclosing scope. dispose() frees a tensor at once; a GC finalizer is only a backstop.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Disposable {
  dispose(): void;
  /** @internal */ _scope: Scope | null;
}

export class Scope {
  readonly items: Disposable[] = [];
  constructor(readonly parent: Scope | null) {}

  track(t: Disposable): void {
    t._scope = this;
    this.items.push(t);
  }

  /** Dispose everything tracked here except `survivors`, which move to the parent scope. */
  close(survivors: Set<Disposable>): void {
    for (const t of this.items) {
      if (t._scope !== this) continue; // kept, or already moved
      if (survivors.has(t)) {
        if (this.parent) this.parent.track(t);
        else t._scope = null;
      } else {
        t.dispose();
        t._scope = null;
      }
    }
    this.items.length = 0;
  }
}

interface Ctx {
  scope: Scope | null;
  grad: boolean;
}

const storage = new AsyncLocalStorage<Ctx>();
const rootCtx: Ctx = { scope: null, grad: true };

export function currentCtx(): Ctx {
  return storage.getStore() ?? rootCtx;
}

/** Is the value (or anything inside it) disposable? Collects them into `out`. */
function collect(v: unknown, out: Set<Disposable>, depth = 0): void {
  if (v === null || typeof v !== 'object' || depth > 6) return;
  if ('_scope' in (v as object) && typeof (v as Disposable).dispose === 'function') {
    out.add(v as Disposable);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, depth + 1);
  else if (v instanceof Set) for (const x of v) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
}

function isPromise(v: unknown): v is Promise<unknown> {
  return !!v && typeof (v as Promise<unknown>).then === 'function';
}

/** Run fn in a new memory scope; see the file header. Works for sync and async functions. */
export function scope<T>(fn: () => T): T {
  const parent = currentCtx();
  const s = new Scope(parent.scope);
  const ctx: Ctx = { scope: s, grad: parent.grad };
  let result: T;
  try {
    result = storage.run(ctx, fn);
  } catch (e) {
    s.close(new Set());
    throw e;
  }
  if (isPromise(result)) {
    return result.then(
      (v) => {
        const keepSet = new Set<Disposable>();
        collect(v, keepSet);
        s.close(keepSet);
        return v;
      },
      (e) => {
        s.close(new Set());
        throw e;
      },
    ) as T;
  }
  const keepSet = new Set<Disposable>();
  collect(result, keepSet);
  s.close(keepSet);
  return result;
}

/** Exempt tensors from every scope: they live until dispose() (or GC). Returns its argument. */
export function keep<T>(v: T): T {
  const set = new Set<Disposable>();
  collect(v, set);
  for (const t of set) t._scope = null;
  return v;
}

function withGrad<T>(enabled: boolean, fn: () => T): T {
  const parent = currentCtx();
  return storage.run({ scope: parent.scope, grad: enabled }, fn);
}

/** Run fn without recording an autograd graph (like torch.no_grad()); sync or async. */
export function noGrad<T>(fn: () => T): T {
  return withGrad(false, fn);
}

/** Run fn with autograd recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  return withGrad(true, fn);
}

export function isGradEnabled(): boolean {
  return currentCtx().grad;
}
