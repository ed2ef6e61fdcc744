// Data parallelism for the shared loop (PyTorch DDP's contract, on src/engine/distributed.ts):
//   world     one process per rank, from torchrun's environment (WORLD_SIZE > 1), else a world of one
//             in which every call below is a no-op
//   start     rank 0's parameters are broadcast to every rank
//   shard     a global batch (world_size × per_device_train_batch_size items, the same on every rank)
//             is split into contiguous, balanced slices: rank r takes items [⌊r·n/W⌋, ⌊(r+1)·n/W⌋)
//   weights   a rank's loss is scaled by W·w_r/w, w_r its share of what the loss averages over (items,
//             or tokens for SFT), so that averaging gradients over ranks gives the gradient of the whole
//             batch's mean even when the slices differ (the last batch of an epoch)
//   gradients averaged across ranks in buckets of ≤ 25 MiB (DDP's bucket_cap_mb) after backward and
//             before clipping; a parameter without a gradient on every rank keeps none
//   metrics   every rank's records all-gathered and combined by weight (the same numbers everywhere)
//   state     what must be identical on all ranks (data position, curriculum) is hashed and compared
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import {
  type Module,
  type ProcessGroup,
  type Tensor,
  cat,
  initProcessGroup,
  noGrad,
  scope,
  tensor,
  torchrunEnv,
  zeros,
} from '../engine/index.js';
import { DistributedError, TrainingError } from '../util/errors.js';

/** DDP's default bucket size (bucket_cap_mb = 25). */
const BUCKET_BYTES = 25 * 2 ** 20;

/** A rank's share of a global batch and what its loss is scaled by. */
export interface Shard<T> {
  items: T[];
  /** W · (this rank's weight) / (the batch's weight); 1 when the batch splits evenly (and for one rank). */
  scale: number;
  /** This rank's fraction of the batch's weight (for combining metrics); 1 for one rank. */
  share: number;
}

/** Metrics of one piece of work and the fraction of the whole it stands for. */
export interface WeightedMetrics {
  weight: number;
  metrics: Record<string, number>;
}

let processWorld: World | null = null;

/** Leave the process's group, if one was joined (after a barrier: rank 0 hosts the rendezvous store). */
export function shutdownWorld(): void {
  if (!processWorld?.pg) return;
  processWorld.pg.barrier();
  processWorld.pg.destroy();
  processWorld = null;
}

export class World {
  private constructor(readonly pg: ProcessGroup | null) {}

  /** The process's world: a process group when WORLD_SIZE > 1 (joined once per process), else one rank. */
  static current(): World {
    if (processWorld) return processWorld;
    const env = torchrunEnv();
    processWorld = new World(env && env.worldSize > 1 ? initProcessGroup(env) : null);
    return processWorld;
  }

  static single(): World {
    return new World(null);
  }

  get rank(): number {
    return this.pg?.rank ?? 0;
  }
  get size(): number {
    return this.pg?.worldSize ?? 1;
  }
  /** CPU threads per worker by default: the cores shared out among this node's workers (LOCAL_WORLD_SIZE). */
  defaultThreads(): number {
    const local = this.pg ? Number(process.env.LOCAL_WORLD_SIZE) || 1 : 1;
    return Math.max(1, Math.floor(availableParallelism() / local));
  }

  /** Rank 0 writes metrics, checkpoints, the model and the report. */
  get isMain(): boolean {
    return this.rank === 0;
  }

  /** [lo, hi) of this rank's balanced, contiguous slice of n items. */
  range(n: number): [number, number] {
    return [Math.floor((this.rank * n) / this.size), Math.floor(((this.rank + 1) * n) / this.size)];
  }

  /** This rank's slice of a global batch; `weight` says what the loss averages over (default: items). */
  shard<T>(global: T[], weight: (item: T) => number = () => 1): Shard<T> {
    if (this.size === 1) return { items: global, scale: 1, share: 1 };
    const [lo, hi] = this.range(global.length);
    const items = global.slice(lo, hi);
    const total = global.reduce((s, x) => s + weight(x), 0);
    const mine = items.reduce((s, x) => s + weight(x), 0);
    const share = total > 0 ? mine / total : 0;
    return { items, scale: this.size * share, share };
  }

  /** Copy rank 0's parameters (all of them, trainable or not) to every rank, bucket by bucket. */
  broadcastParameters(m: Module): void {
    if (!this.pg) return;
    const pg = this.pg;
    noGrad(() =>
      scope(() => {
        for (const group of buckets(m.parameters())) {
          const flat = cat(group.map((p) => p.reshape(-1)));
          pg.broadcast(flat, 0);
          unflatten(flat, group, (p, v) => p.copy_(v));
        }
      }),
    );
  }

  /** Average the gradients across ranks, bucket by bucket (see the file header). */
  reduceGradients(params: Tensor[]): void {
    if (!this.pg) return;
    const pg = this.pg;
    noGrad(() =>
      scope(() => {
        const has = tensor(Float32Array.from(params, (p) => (p.grad ? 1 : 0)));
        pg.allReduce(has, 'max');
        const any = has.toArray();
        const live = params.filter((_, i) => any[i] > 0);
        for (const group of buckets(live)) {
          const flat = cat(group.map((p) => (p.grad ?? zeros(p.shape, { dtype: p.dtype })).reshape(-1)));
          pg.allReduce(flat, 'avg');
          unflatten(flat, group, (p, v) => {
            const g = p.grad;
            if (g) g.copy_(v);
            else p.grad = v.clone();
          });
        }
      }),
    );
  }

  /** All ranks' weighted metric records combined (see combine()); the same numbers on every rank. */
  combineMetrics(mine: WeightedMetrics[], summed: ReadonlySet<string> = NONE): Record<string, number> {
    const all = this.pg ? this.pg.allGatherJson(mine.map(encode)).flat().map(decode) : mine;
    return combine(all, summed);
  }

  /** Element-wise sums of every rank's numbers. */
  sum(xs: number[]): number[] {
    return this.pg ? this.pg.allReduceNumbers(xs, 'sum') : xs;
  }

  /** Every rank's value, in rank order (just [value] for one rank). */
  gather<T>(value: T): T[] {
    return this.pg ? this.pg.allGatherJson(value) : [value];
  }

  /** Rank 0 runs fn; every rank gets its result, or fails with its error (a DistributedError elsewhere). */
  decide<T>(fn: () => T): T {
    if (!this.pg) return fn();
    let r: { value?: T; error?: string } = {};
    if (this.isMain)
      try {
        r = { value: fn() };
      } catch (e) {
        this.pg.broadcastJson({ error: (e as Error).message });
        throw e;
      }
    r = this.pg.broadcastJson(r);
    if (r.error !== undefined) throw new DistributedError(`pacer: rank 0 failed: ${r.error.replace(/^pacer: /, '')}`);
    return r.value as T;
  }

  /** Throw when `value` differs between ranks (compared by a SHA-256 of its JSON). */
  checkSame(what: string, value: unknown, step: number): void {
    if (!this.pg) return;
    const digest = createHash('sha256').update(JSON.stringify(value)).digest('hex');
    const all = this.pg.allGatherJson(digest);
    const odd = all.map((d, r) => (d === all[0] ? -1 : r)).filter((r) => r >= 0);
    if (odd.length)
      throw new TrainingError(
        `pacer: the ${what} of rank ${odd.join(', ')} differs from rank 0's at step ${step}; data-parallel ranks ` +
          'must stay identical (is the data or the config the same on every node?)',
      );
  }

  barrier(): void {
    this.pg?.barrier();
  }
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Per key, Σ weight·value / Σ weight over the records that have it (NaN skipped, as avgMetrics). Weights
 * are shares of a whole (a rank's share of a micro-batch; shares of one whole add up to 1), so keys in
 * `summed` — counts such as num_tokens and rewards/errors — are Σ value / Σ weight: summed within a
 * whole, averaged over wholes. A lone record is returned as it is (NaN dropped).
 */
export function combine(records: WeightedMetrics[], summed: ReadonlySet<string> = NONE): Record<string, number> {
  if (records.length === 1)
    return Object.fromEntries(Object.entries(records[0].metrics).filter(([, v]) => !Number.isNaN(v)));
  const out: Record<string, number> = {};
  for (const key of new Set(records.flatMap((m) => Object.keys(m.metrics)))) {
    let s = 0;
    let w = 0;
    for (const m of records) {
      const v = m.metrics[key];
      if (typeof v === 'number' && !Number.isNaN(v)) {
        s += summed.has(key) ? v : m.weight * v;
        w += m.weight;
      }
    }
    if (w > 0) out[key] = s / w;
  }
  return out;
}

/** Metrics as JSON carries them: NaN and ±Infinity as strings (JSON would make them null). */
function encode(m: WeightedMetrics): { weight: number; metrics: Record<string, number | string> } {
  const metrics = Object.fromEntries(
    Object.entries(m.metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)]),
  );
  return { weight: m.weight, metrics };
}
function decode(m: { weight: number; metrics: Record<string, number | string> }): WeightedMetrics {
  return { weight: m.weight, metrics: Object.fromEntries(Object.entries(m.metrics).map(([k, v]) => [k, Number(v)])) };
}

/** Hand each tensor of a bucket its slice of the flat tensor (in its shape). */
function unflatten(flat: Tensor, group: Tensor[], put: (t: Tensor, v: Tensor) => void): void {
  let at = 0;
  for (const t of group) {
    put(t, flat.narrow(0, at, t.numel).view(t.shape));
    at += t.numel;
  }
}

/** Consecutive tensors of one dtype, ≤ BUCKET_BYTES each (a larger tensor is a bucket of its own). */
function buckets(ts: Tensor[]): Tensor[][] {
  const out: Tensor[][] = [];
  let cur: Tensor[] = [];
  let bytes = 0;
  for (const t of ts) {
    const b = t.numel * bytesPer(t.dtype);
    if (cur.length && (bytes + b > BUCKET_BYTES || cur[0].dtype !== t.dtype)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}

function bytesPer(dtype: string): number {
  return dtype === 'float64' || dtype === 'int64' ? 8 : dtype === 'float32' || dtype === 'int32' ? 4 : 2;
}
