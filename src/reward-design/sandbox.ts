// A sandbox for reward functions written by a language model (ICPL / Eureka): the code is JavaScript that
// defines `function compute_reward(state) { … return { total, components: { name: number, … } }; }`.
// Layers, outermost first (the design of research/video-io.md §4):
//   1. a child process (sandbox-child.ts) started with an empty environment, in a fresh temporary
//      directory, without network when `unshare -n` is permitted, under prlimit (CPU seconds, no file
//      writes, no core dumps, a bounded address space) and Node's permission model (no fs writes,
//      no child processes or workers; reads of pacer's own package only), with a small host heap;
//   2. inside it, a V8 isolate (isolated-vm 5, which needs node --no-node-snapshot): only ECMAScript
//      built-ins — no process, require, import(), timers, fs or network — with a heap limit and a
//      timeout on every call;
//   3. a wall-clock limit in this process: a call that has not answered by timeoutMs + graceMs kills
//      the child (SIGKILL); the next call starts a new one and compiles the last code again.
// A rollout crosses once: its fields (Float64Arrays of equal length) go in, the reward function is called
// per step inside the isolate with a state object {field: value}, and totals and per-component values
// come back as Float64Arrays. Outputs are checked inside and outside the isolate and bounded in size;
// everything that goes wrong comes back as {ok: false, kind, message, step}.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export type SandboxFailureKind = 'syntax' | 'missing' | 'threw' | 'invalid_output' | 'timeout' | 'memory' | 'crash';

export type RewardResult =
  | { ok: true; total: Float64Array; components: Record<string, Float64Array> }
  | { ok: false; kind: SandboxFailureKind; message: string; step: number };

export type CompileResult = { ok: true } | { ok: false; kind: SandboxFailureKind; message: string; step: number };

export interface SandboxOptions {
  /** The function the code must define. */
  entry?: string;
  /** Heap limit of the isolate that runs the code, in MB (isolated-vm memoryLimit, ≥ 8). */
  memoryMb?: number;
  /** Wall-clock limit of one compile or evaluate call inside the isolate, in ms. */
  timeoutMs?: number;
  /** Extra time before this process kills an unanswering child, in ms. */
  graceMs?: number;
  /** Host heap of the child process (node --max-old-space-size), in MB. */
  heapMb?: number;
  /** CPU seconds the child may use in its lifetime (prlimit --cpu). */
  cpuSeconds?: number;
}

const DEFAULTS: Required<SandboxOptions> = {
  entry: 'compute_reward',
  memoryMb: 64,
  timeoutMs: 2000,
  graceMs: 3000,
  heapMb: 128,
  cpuSeconds: 600,
};
const STARTUP_MS = 60_000; // a child that has not come up by then (a loaded machine takes ~1 s) is killed
const ADDRESS_SPACE = 4 * 1024 ** 3; // V8 reserves ~1-2 GB of address space up front; this only stops runaways

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = resolve(HERE, '..', '..');
/** isolated-vm's folder, which may lie outside pacer's when pacer is installed as a dependency. */
const IVM_ROOT = dirname(createRequire(import.meta.url).resolve('isolated-vm'));
const live = new Set<RewardSandbox>();
let exitHook = false;

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 }).status === 0;
  } catch {
    return false;
  }
}

let probed: { unshare: boolean; prlimit: boolean; permission: boolean } | null = null;
function probe() {
  probed ??= {
    unshare: works('unshare', ['-n', 'true']),
    prlimit: works('prlimit', ['--cpu=1', 'true']),
    permission: process.allowedNodeEnvironmentFlags.has('--allow-addons'),
  };
  return probed;
}

export class RewardSandbox {
  readonly options: Required<SandboxOptions>;
  /** The isolation layers in force, for reports. */
  readonly layers: string[];
  private child: ChildProcess | null = null;
  private cwd: string | null = null;
  private code: string | null = null;
  private nextId = 1;
  /** Answers awaited from each child (a killed child's exit fails only its own requests). */
  private pending = new WeakMap<ChildProcess, Map<number, (r: any) => void>>();
  /** Whether each child came up (its first message); the call timeouts start only after that. */
  private ready = new WeakMap<ChildProcess, Promise<boolean>>();
  private stderrTail = '';
  private killing: ChildProcess | null = null;

  constructor(opts: SandboxOptions = {}) {
    for (const k of Object.keys(opts))
      if (!(k in DEFAULTS))
        throw new Error(`pacer: sandbox option '${k}' is not known (expected ${Object.keys(DEFAULTS).join(', ')})`);
    const o = { ...DEFAULTS, ...opts };
    if (!/^[A-Za-z_$][\w$]*$/.test(o.entry))
      throw new Error(`pacer: sandbox option entry must be an identifier, got '${o.entry}'`);
    for (const k of ['memoryMb', 'timeoutMs', 'graceMs', 'heapMb', 'cpuSeconds'] as const)
      if (!(Number.isInteger(o[k]) && o[k] > 0))
        throw new RangeError(`pacer: sandbox option ${k} must be a positive integer, got ${o[k]}`);
    if (o.memoryMb < 8)
      throw new RangeError(`pacer: sandbox option memoryMb must be at least 8 (isolated-vm's minimum)`);
    this.options = o;
    const p = probe();
    this.layers = [
      'child process (empty environment, temporary cwd, killed on timeout)',
      ...(p.prlimit ? ['prlimit (cpu, no file writes, no core, address space)'] : []),
      ...(p.unshare ? ['no network (unshare -n)'] : []),
      ...(p.permission ? ['node permission model (no fs writes, no subprocesses)'] : []),
      'V8 isolate without Node globals (isolated-vm; heap limit, timeout)',
    ];
  }

  /** Compile reward code (replacing any before it); syntax errors and a missing entry are reported. */
  async compile(code: string): Promise<CompileResult> {
    if (typeof code !== 'string') throw new TypeError('pacer: sandbox compile() needs the code as a string');
    this.code = code;
    const o = this.options;
    const r = await this.request({
      type: 'compile',
      code,
      entry: o.entry,
      memoryMb: o.memoryMb,
      timeoutMs: o.timeoutMs,
    });
    return r.ok ? { ok: true } : r;
  }

  /** Call the reward once per step of a rollout: fields are per-step values (all of one length). */
  async evaluate(fields: Record<string, ArrayLike<number>>): Promise<RewardResult> {
    const names = Object.keys(fields);
    const length = names.length ? fields[names[0]].length : 0;
    for (const n of names) {
      if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`pacer: sandbox field name '${n}' must be an identifier`);
      if (fields[n].length !== length)
        throw new RangeError(`pacer: sandbox field '${n}' has ${fields[n].length} values, '${names[0]}' has ${length}`);
    }
    if (this.code === null) throw new Error('pacer: sandbox evaluate() before compile()');
    if (!this.child) {
      const c = await this.compile(this.code);
      if (!c.ok) return c;
    }
    const data = names.map((n) => Float64Array.from(fields[n]));
    const r = await this.request({ type: 'evaluate', names, data, length, timeoutMs: this.options.timeoutMs });
    if (!r.ok) return r;
    return checkResult(r, length);
  }

  /** Stop the child and remove its directory. */
  close(): void {
    this.kill();
    live.delete(this);
  }

  private start(): ChildProcess {
    const o = this.options;
    const p = probe();
    this.cwd = mkdtempSync(join(tmpdir(), 'pacer-sandbox-'));
    const node = [
      process.execPath,
      '--no-node-snapshot',
      `--max-old-space-size=${o.heapMb}`,
      ...(p.permission
        ? [
            '--experimental-permission',
            `--allow-fs-read=${PACKAGE_ROOT}`,
            `--allow-fs-read=${IVM_ROOT}`,
            '--allow-addons',
            '--no-warnings',
          ]
        : []),
      join(HERE, 'sandbox-child.js'),
    ];
    const limits = p.prlimit
      ? ['prlimit', `--cpu=${o.cpuSeconds}`, '--fsize=0', '--core=0', `--as=${ADDRESS_SPACE}`, '--']
      : [];
    const cmd = [...(p.unshare ? ['unshare', '-n', '--'] : []), ...limits, ...node];
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd: this.cwd,
      env: {},
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-2000);
    });
    const waiting = new Map<number, (r: any) => void>();
    this.pending.set(child, waiting);
    this.ready.set(
      child,
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), STARTUP_MS);
        waiting.set(0, (m) => {
          clearTimeout(timer);
          resolve(m?.ok === true && m?.ready === true);
        });
      }),
    );
    child.on('message', (m: any) => {
      const resolve = waiting.get(m?.id);
      if (resolve) {
        waiting.delete(m.id);
        resolve(m);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
      const why = `the sandbox process exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`;
      const kind = this.killing === child ? 'timeout' : 'crash';
      for (const [, res] of waiting) res({ ok: false, kind, message: why, step: -1 });
      waiting.clear();
    });
    this.child = child;
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const s of live) s.kill();
      });
    }
    return child;
  }

  /** The child's process id (null when none is running). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  private kill(): void {
    if (this.child) {
      this.killing = this.child;
      this.child.kill('SIGKILL');
      this.child = null;
    }
    if (this.cwd) rmSync(this.cwd, { recursive: true, force: true });
    this.cwd = null;
  }

  private async request(msg: Record<string, unknown>): Promise<any> {
    const child = this.child ?? this.start();
    if (!(await this.ready.get(child))) {
      this.kill();
      const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
      return {
        ok: false,
        kind: 'crash',
        message: `the sandbox process did not start${tail ? `: ${tail}` : ''}`,
        step: -1,
      };
    }
    const waiting = this.pending.get(child) as Map<number, (r: any) => void>;
    const id = this.nextId++;
    const limit = this.options.timeoutMs + this.options.graceMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!waiting.has(id)) return;
        waiting.delete(id);
        this.kill();
        resolve({
          ok: false,
          kind: 'timeout',
          message: `the sandbox did not answer within ${limit} ms and was killed`,
          step: -1,
        });
      }, limit);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        if (!r.ok && (r.kind === 'memory' || r.kind === 'crash')) this.kill(); // a disposed isolate: start afresh
        resolve(r.ok ? r : { ok: false, kind: r.kind, message: String(r.message), step: Number(r.step ?? -1) });
      });
      child.send({ id, ...msg });
    });
  }
}

/** The child's answer, checked again on this side. */
function checkResult(r: any, length: number): RewardResult {
  const bad = (m: string): RewardResult => ({ ok: false, kind: 'invalid_output', message: m, step: -1 });
  if (!(r.total instanceof Float64Array) || r.total.length !== length) return bad('the sandbox returned no totals');
  if (!Array.isArray(r.names) || !Array.isArray(r.comps) || r.names.length !== r.comps.length || r.names.length > 32)
    return bad('the sandbox returned malformed components');
  const components: Record<string, Float64Array> = {};
  r.names.forEach((n: unknown, i: number) => {
    if (typeof n === 'string' && r.comps[i] instanceof Float64Array && r.comps[i].length === length)
      components[n] = r.comps[i];
  });
  if (Object.keys(components).length !== r.names.length) return bad('the sandbox returned malformed components');
  for (let t = 0; t < length; t++) if (!Number.isFinite(r.total[t])) return bad(`total at step ${t} is not finite`);
  return { ok: true, total: r.total, components };
}
