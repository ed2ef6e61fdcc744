// The child side of the reward sandbox (sandbox.ts starts it): it holds one V8 isolate (isolated-vm) with
// no Node globals, compiles the reward code into it, and evaluates whole rollouts in one call each.
// Messages arrive over the IPC channel: {id, type: 'compile', code, entry, memoryMb, timeoutMs} and
// {id, type: 'evaluate', names, data: Float64Array[], length, timeoutMs}; every reply is bounded in size
// (numbers, at most MAX_COMPONENTS component names of MAX_NAME characters, messages of MAX_MESSAGE).
import ivm from 'isolated-vm';

export const MAX_COMPONENTS = 32;
export const MAX_NAME = 64;
export const MAX_MESSAGE = 1000;

// Runs inside the isolate before the user's code, so it holds the intrinsics as they were.
const DRIVER = `(function () {
  const F64 = Float64Array, isFinite = Number.isFinite, keys = Object.keys, S = String;
  const MAXC = ${MAX_COMPONENTS}, MAXN = ${MAX_NAME}, MAXM = ${MAX_MESSAGE};
  const describe = (e) => {
    try { return S(e && e.message !== undefined ? e.message : e).slice(0, MAXM); }
    catch (_) { return '<unprintable error>'; }
  };
  const fail = (kind, step, message) => ({ error: { kind, step, message: S(message).slice(0, MAXM) } });
  const bad = (t, message) => fail('invalid_output', t, message);
  const what = (v) => (v === null ? 'null' : typeof v === 'number' ? S(v) : typeof v);
  return function run(fn, input) {
    if (typeof fn !== 'function') return fail('missing', -1, 'the reward is not a function');
    const names = input.names, data = input.data, n = input.length;
    const total = new F64(n);
    let cnames = null, comps = null;
    for (let t = 0; t < n; t++) {
      const s = {};
      for (let k = 0; k < names.length; k++) s[names[k]] = data[k][t];
      let out;
      try { out = fn(s); } catch (e) { return fail('threw', t, describe(e)); }
      try {
        if (out === null || typeof out !== 'object')
          return bad(t, 'the reward must return {total, components}, got ' + (out === null ? 'null' : typeof out));
        const tot = out.total;
        if (typeof tot !== 'number' || !isFinite(tot)) return bad(t, 'total must be a finite number, got ' + what(tot));
        total[t] = tot;
        const c = out.components === undefined ? {} : out.components;
        if (c === null || typeof c !== 'object') return bad(t, 'components must be an object of numbers');
        const ks = keys(c);
        if (cnames === null) {
          if (ks.length > MAXC) return bad(t, 'at most ' + MAXC + ' components, got ' + ks.length);
          for (const k of ks) if (k.length > MAXN) return bad(t, 'a component name is over ' + MAXN + ' characters');
          cnames = ks;
          comps = ks.map(() => new F64(n));
        } else if (ks.length !== cnames.length || ks.some((k, i) => k !== cnames[i]))
          return bad(t, 'the components changed from [' + cnames.join(', ').slice(0, 200) + '] at step ' + t);
        for (let i = 0; i < ks.length; i++) {
          const v = c[ks[i]];
          if (typeof v !== 'number' || !isFinite(v))
            return bad(t, 'component ' + ks[i] + ' must be a finite number, got ' + what(v));
          comps[i][t] = v;
        }
      } catch (e) { return bad(t, describe(e)); }
    }
    return { total, names: cnames || [], comps: comps || [] };
  };
})()`;

let isolate: ivm.Isolate | null = null;
let runner: ivm.Reference<(fn: unknown, input: unknown) => unknown> | null = null;
let entryFn: ivm.Reference<unknown> | null = null;

type Reply = Record<string, unknown>;

function failure(kind: string, message: unknown, step = -1): Reply {
  return { ok: false, kind, step, message: String(message).slice(0, MAX_MESSAGE) };
}

/** Timeouts and memory-limit disposals as isolated-vm reports them. */
function classify(e: unknown): Reply {
  const msg = String((e as Error)?.message ?? e);
  if (isolate?.isDisposed || /memory limit/i.test(msg)) return failure('memory', msg);
  if (/timed out/i.test(msg)) return failure('timeout', msg);
  return failure('threw', msg);
}

function compile(m: { code: string; entry: string; memoryMb: number; timeoutMs: number }): Reply {
  if (isolate && !isolate.isDisposed) isolate.dispose();
  isolate = new ivm.Isolate({ memoryLimit: m.memoryMb });
  entryFn = null;
  const ctx = isolate.createContextSync();
  runner = isolate.compileScriptSync(DRIVER, { filename: 'pacer-driver.js' }).runSync(ctx, { reference: true });
  let script: ivm.Script;
  try {
    script = isolate.compileScriptSync(m.code, { filename: 'reward.js' });
  } catch (e) {
    return failure('syntax', (e as Error)?.message ?? e);
  }
  try {
    script.runSync(ctx, { timeout: m.timeoutMs });
    // m.entry is an identifier (sandbox.ts checks it); `const f = …` and `function f` are both found.
    const kind = ctx.evalSync(`typeof ${m.entry}`, { timeout: m.timeoutMs });
    if (kind !== 'function')
      return failure('missing', `the code must define a function ${m.entry}(state), found ${kind}`);
    entryFn = ctx.evalSync(m.entry, { timeout: m.timeoutMs, reference: true });
  } catch (e) {
    return classify(e);
  }
  return { ok: true };
}

function evaluate(m: { names: string[]; data: Float64Array[]; length: number; timeoutMs: number }): Reply {
  if (!isolate || isolate.isDisposed || !runner || !entryFn) return failure('missing', 'no reward code is compiled');
  let out: any;
  try {
    const input = new ivm.ExternalCopy({ names: m.names, data: m.data, length: m.length }).copyInto();
    out = runner.applySync(undefined, [entryFn.derefInto(), input], { timeout: m.timeoutMs, result: { copy: true } });
  } catch (e) {
    return classify(e);
  }
  if (out?.error) return failure(String(out.error.kind), out.error.message, Number(out.error.step));
  const ok =
    out?.total instanceof Float64Array &&
    out.total.length === m.length &&
    Array.isArray(out.names) &&
    out.names.length <= MAX_COMPONENTS &&
    out.names.every((n: unknown) => typeof n === 'string' && n.length <= MAX_NAME) &&
    Array.isArray(out.comps) &&
    out.comps.length === out.names.length &&
    out.comps.every((c: unknown) => c instanceof Float64Array && c.length === m.length);
  if (!ok) return failure('invalid_output', 'the sandbox driver returned a malformed result');
  return { ok: true, total: out.total, names: out.names, comps: out.comps };
}

process.on('message', (m: any) => {
  const reply =
    m?.type === 'compile' ? compile(m) : m?.type === 'evaluate' ? evaluate(m) : failure('crash', 'bad request');
  process.send?.({ id: m?.id, ...reply });
});
process.send?.({ id: 0, ok: true, ready: true });
