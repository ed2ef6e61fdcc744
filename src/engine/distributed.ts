// Process groups for data-parallel training, on PyTorch's c10d (native/src/dist.cc): a TCPStore
// rendezvous hosted by rank 0, then Gloo (CPU tensors) or NCCL (CUDA tensors, in CUDA builds).
// The environment is torchrun's — RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT — so pacer
// runs under torchrun-style launchers, Slurm wrappers and Kubernetes operators as well as under
// `pacer launch`. Collectives block until every rank has joined them; a peer that dies ends them
// with an error (Gloo sees the closed connection), a peer that stalls runs into the group's timeout
// (PACER_DIST_TIMEOUT seconds, default 1800 as torch.distributed's); the rendezvous waits up to
// PACER_RDZV_TIMEOUT seconds (default 900, as torchrun's) for every rank to start. Gloo has no 'avg'
// (allReduce averages as a sum divided by the world size) and no bfloat16 in libtorch 1.13 (bfloat16
// tensors travel as float32, which holds every bfloat16 value; results are rounded back).
//   const pg = initProcessGroup();            // from the environment
//   pg.allReduce(grad, 'avg'); pg.broadcast(w, 0); const parts = pg.allGather(x); pg.barrier();
import { native } from './native.js';
import { type Tensor, wrapResult } from './tensor.js';
import { tensor } from './create.js';
import { noGrad, scope } from './scope.js';
import { DistributedError } from '../util/errors.js';

export { DistributedError };

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'product' | 'min' | 'max';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** The rank within this machine (selects the CUDA device under NCCL). */
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Default: nccl when CUDA is available and the build has NCCL, else gloo. */
  backend?: Backend;
  /** Seconds a collective may wait for its peers (default 1800). */
  timeoutS?: number;
  /** Seconds the rendezvous waits for every rank to start (default 900). */
  rendezvousTimeoutS?: number;
}

/** Which backends this build of the addon has. */
export function distBackends(): { gloo: boolean; nccl: boolean } {
  return native().dist('backends');
}

function envInt(env: NodeJS.ProcessEnv, name: string, dflt?: number): number {
  const v = env[name];
  if (v === undefined || v === '') {
    if (dflt !== undefined) return dflt;
    throw new Error(`pacer: the environment variable ${name} is not set (torchrun and 'pacer launch' set it)`);
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`pacer: ${name}=${v} is not a non-negative integer`);
  return n;
}

/**
 * torchrun's environment as process-group options; null when WORLD_SIZE is unset (a single
 * process). MASTER_ADDR defaults to 127.0.0.1; MASTER_PORT must be set when WORLD_SIZE > 1.
 */
export function torchrunEnv(env: NodeJS.ProcessEnv = process.env): ProcessGroupOptions | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = envInt(env, 'WORLD_SIZE');
  if (worldSize < 1) throw new Error(`pacer: WORLD_SIZE=${env.WORLD_SIZE} must be at least 1`);
  const rank = envInt(env, 'RANK', 0);
  if (rank >= worldSize) throw new Error(`pacer: RANK=${rank} must be below WORLD_SIZE=${worldSize}`);
  const masterPort = envInt(env, 'MASTER_PORT', worldSize === 1 ? 29500 : undefined);
  if (masterPort < 1 || masterPort > 65535) throw new Error(`pacer: MASTER_PORT=${masterPort} is not a TCP port`);
  const backend = env.PACER_DIST_BACKEND as Backend | undefined;
  if (backend !== undefined && backend !== 'gloo' && backend !== 'nccl')
    throw new Error(`pacer: PACER_DIST_BACKEND=${backend} must be gloo or nccl`);
  return {
    rank,
    worldSize,
    localRank: envInt(env, 'LOCAL_RANK', rank),
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort,
    backend,
    timeoutS: envSeconds(env, 'PACER_DIST_TIMEOUT'),
    rendezvousTimeoutS: envSeconds(env, 'PACER_RDZV_TIMEOUT'),
  };
}

function envSeconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const t = env[name];
  if (t === undefined || t === '') return undefined;
  const s = Number(t);
  if (!(s > 0)) throw new Error(`pacer: ${name}=${t} must be a number of seconds > 0`);
  return s;
}

/** A group of processes that run collectives together (torch.distributed's default group). */
export class ProcessGroup {
  private h: unknown;
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly backend: Backend;
  /** Where this rank's tensors must live: 'cpu' (gloo) or 'cuda:LOCAL_RANK' (nccl). */
  readonly device: string;

  constructor(o: ProcessGroupOptions) {
    const b = distBackends();
    const backend = o.backend ?? (b.nccl && native().buildInfo().cuda ? 'nccl' : 'gloo');
    const ms = (s: number) => Math.max(1, Math.round(s * 1000));
    if (backend === 'nccl') {
      // NCCL honours the timeout only with blocking waits (TORCH_NCCL_BLOCKING_WAIT in torch 2.x)
      process.env.TORCH_NCCL_BLOCKING_WAIT ??= '1';
      process.env.NCCL_BLOCKING_WAIT ??= '1';
    }
    this.h = initGroup(
      backend,
      o.rank,
      o.worldSize,
      o.masterAddr,
      o.masterPort,
      ms(o.timeoutS ?? 1800),
      ms(o.rendezvousTimeoutS ?? 900),
    );
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank;
    this.backend = backend;
    this.device = backend === 'nccl' ? `cuda:${o.localRank}` : 'cpu';
  }

  /** A collective; c10d's errors (a peer died or timed out) become DistributedErrors naming the op. */
  private call(what: string, ...args: unknown[]): any {
    if (this.h === null) throw new DistributedError(`pacer: ${what}: this process group was destroyed`);
    try {
      return native().dist(what, this.h, ...args);
    } catch (e) {
      throw new DistributedError((e as Error).message);
    }
  }

  /** Reduce `t` in place, element-wise across ranks (same shape and dtype on every rank). */
  allReduce(t: Tensor, op: ReduceOp = 'sum'): void {
    this.viaFloat32(t, (x) => {
      this.call('allReduce', x.handle, op === 'avg' ? 'sum' : op);
      if (op === 'avg') noGrad(() => x.div_(this.worldSize));
    });
  }

  /** Overwrite `t` in place with rank `root`'s. */
  broadcast(t: Tensor, root = 0): void {
    this.viaFloat32(t, (x) => this.call('broadcast', x.handle, root));
  }

  /** Run `fn` on t, or on a float32 copy that is copied back where Gloo has no bfloat16. */
  private viaFloat32(t: Tensor, fn: (x: Tensor) => void): void {
    if (this.backend !== 'gloo' || t.dtype !== 'bfloat16') {
      fn(t);
      return;
    }
    scope(() => {
      const x = t.to('float32');
      fn(x);
      noGrad(() => t.copy_(x));
    });
  }

  /** Every rank's copy of `t` (same shape and dtype on every rank), in rank order. */
  allGather(t: Tensor): Tensor[] {
    if (this.backend === 'gloo' && t.dtype === 'bfloat16')
      return scope(() => this.allGather(t.to('float32')).map((x) => x.to('bfloat16')));
    return wrapResult(this.call('allGather', t.handle)) as Tensor[];
  }

  /** Wait until every rank has reached this point. */
  barrier(): void {
    this.call('barrier');
  }

  /** Numbers reduced across ranks (as float64). */
  allReduceNumbers(xs: number[], op: ReduceOp = 'sum'): number[] {
    if (xs.length === 0) return [];
    return scope(() => {
      const t = tensor(Float64Array.from(xs), { device: this.device });
      this.allReduce(t, op);
      return t.to('cpu').toArray();
    });
  }

  /** Every rank's bytes (any length), in rank order: lengths first, then the padded bytes. */
  allGatherBytes(buf: Uint8Array): Uint8Array[] {
    return scope(() => {
      const lens = this.allGather(tensor([buf.length], { dtype: 'int64', device: this.device })).map(
        (t) => t.to('cpu').toArray()[0] as number,
      );
      const max = Math.max(1, ...lens);
      const padded = new Uint8Array(max);
      padded.set(buf);
      const parts = this.allGather(tensor(padded, { device: this.device }));
      return parts.map((p, r) => (p.to('cpu').data() as Uint8Array).slice(0, lens[r]));
    });
  }

  /** Every rank's JSON-serialisable value, in rank order. */
  allGatherJson<T>(value: T): T[] {
    const parts = this.allGatherBytes(new TextEncoder().encode(JSON.stringify(value)));
    return parts.map((p) => JSON.parse(new TextDecoder().decode(p)) as T);
  }

  /** Rank `root`'s JSON-serialisable value on every rank. */
  broadcastJson<T>(value: T, root = 0): T {
    return this.allGatherJson(this.rank === root ? value : null)[root] as T;
  }

  /** Leave the group (after a barrier, so no rank still needs the store rank 0 hosts). */
  destroy(): void {
    if (this.h === null) return;
    this.call('destroy');
    this.h = null;
  }
}

/** The rendezvous and the group's connections; a peer that never comes is a DistributedError. */
function initGroup(...args: unknown[]): unknown {
  try {
    return native().dist('init', ...args);
  } catch (e) {
    throw new DistributedError((e as Error).message);
  }
}

/** Join the process group torchrun's environment (or `o`) describes; rank 0 hosts the rendezvous. */
export function initProcessGroup(o?: ProcessGroupOptions): ProcessGroup {
  const opts = o ?? torchrunEnv();
  if (!opts)
    throw new Error(
      'pacer: initProcessGroup needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (run under pacer launch or ' +
        'torchrun), or explicit options',
    );
  return new ProcessGroup(opts);
}
