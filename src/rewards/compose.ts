// Running and combining rewards.
//   Aggregation of K rewards r_k with weights w_k (nulls skipped):
//     weighted_sum   Σ w_k r_k
//     normalized     Σ w_k (r_k − mean_k)/(std_k + 1e-6), each reward standardised over the batch
//     log_tamed      Σ w_k sign(r_k)·log(1 + |r_k|)  (keeps one large reward from dominating)
//   Gating (G-RA style): a reward counts only for samples whose gate reward is ≥ a threshold
//     (e.g. format before accuracy); noise injection flips a {0,1} reward with probability p
//     (robustness studies). Each reward is run with a timeout; one that throws, hangs, overruns or
//     returns NaN is logged and handled as configured ('skip' → null, 'zero' → 0) — it never ends a
//     run. The count of such errors is the metric rewards/errors.
//   Where a timeout can stop a reward: with a RewardWorkerPool, library rewards named by spec run in
//     worker threads and a timeout terminates them. Reward functions passed as closures run in the
//     caller's thread, where synchronous code cannot be interrupted: when one returns after its
//     timeout it is logged as an overrun and its values are discarded like a timeout's.
import { rng } from '../data/random.js';
import type { NamedReward, RewardFunction, RewardInput, RewardOutput } from './types.js';
import { IN_PROCESS_REWARDS, RewardTimeoutError, type RewardWorkerPool } from './worker.js';

export type Aggregation = 'weighted_sum' | 'normalized' | 'log_tamed';
export interface RunOptions {
  timeoutMs?: number;
  onError?: 'skip' | 'zero';
  aggregation?: Aggregation;
  log?: (msg: string) => void;
  /** Run rewards that have a spec (rewardsFromSpec) in these workers, where timeouts stop them. */
  pool?: RewardWorkerPool;
}
export interface RewardReport {
  /** Combined reward per sample (null when no reward applied). */
  rewards: Array<number | null>;
  /** Each reward's values per sample. */
  perReward: Record<string, RewardOutput>;
  /** Per-reward means over applicable samples, named "rewards/<name>/mean" as TRL logs them, and rewards/errors. */
  metrics: Record<string, number>;
  errors: string[];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Run one reward: in the pool when it can go there, else in this thread with overrun detection. */
async function callReward(r: NamedReward, input: RewardInput, timeoutMs: number, pool?: RewardWorkerPool) {
  if (pool && r.spec && !IN_PROCESS_REWARDS.has(r.name) && (await pool.has(r.name)))
    return pool.run(r.spec, input, timeoutMs).catch((e: Error) => {
      throw new Error(
        `reward '${r.name}' ${e.message}${e instanceof RewardTimeoutError ? ' (its worker was stopped)' : ''}`,
      );
    });
  const t0 = performance.now();
  const out = await withTimeout(
    Promise.resolve().then(() => r.fn(input)),
    timeoutMs,
    `reward '${r.name}'`,
  );
  const took = performance.now() - t0;
  if (took > timeoutMs)
    throw new Error(
      `reward '${r.name}' overran its ${timeoutMs} ms timeout (took ${Math.round(took)} ms): it runs in this thread, ` +
        'where a timeout cannot stop synchronous code (library rewards named by spec run in worker threads)',
    );
  return out;
}

export async function runRewards(
  rewards: NamedReward[],
  input: RewardInput,
  o: RunOptions = {},
): Promise<RewardReport> {
  const n = input.completions.length;
  const onError = o.onError ?? 'skip';
  const errors: string[] = [];
  const perReward: Record<string, RewardOutput> = {};
  await Promise.all(
    rewards.map(async (r) => {
      const fallback = () => new Array(n).fill(onError === 'zero' ? 0 : null);
      try {
        const out = await callReward(r, input, o.timeoutMs ?? 10_000, o.pool);
        if (!Array.isArray(out) || out.length !== n)
          throw new Error(
            `reward '${r.name}' returned ${Array.isArray(out) ? out.length : typeof out} values for ${n} completions`,
          );
        perReward[r.name] = out.map((v, i) => {
          if (v === null || v === undefined) return null;
          if (typeof v !== 'number' || !Number.isFinite(v)) {
            errors.push(`reward '${r.name}' gave ${typeof v === 'number' ? v : JSON.stringify(v)} for sample ${i}`);
            return onError === 'zero' ? 0 : null;
          }
          return v;
        });
      } catch (e) {
        errors.push(`reward '${r.name}' failed: ${(e as Error).message}`);
        perReward[r.name] = fallback();
      }
    }),
  );
  for (const e of errors) o.log?.(`pacer: ${e} (handled: ${onError})`);
  const rewardsOut = aggregate(
    rewards.map((r) => ({ values: perReward[r.name], weight: r.weight ?? 1 })),
    o.aggregation ?? 'weighted_sum',
  );
  const metrics: Record<string, number> = { 'rewards/errors': errors.length };
  for (const r of rewards) {
    const v = perReward[r.name].filter((x): x is number => x !== null);
    if (v.length) metrics[`rewards/${r.name}/mean`] = v.reduce((a, b) => a + b, 0) / v.length;
  }
  return { rewards: rewardsOut, perReward, metrics, errors };
}

export function aggregate(
  parts: Array<{ values: RewardOutput; weight: number }>,
  how: Aggregation,
): Array<number | null> {
  const n = parts[0]?.values.length ?? 0;
  const stats = parts.map((p) => {
    const v = p.values.filter((x): x is number => x !== null);
    const m = v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
    const s = v.length ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) : 1;
    return { m, s };
  });
  return Array.from({ length: n }, (_, i) => {
    let total = 0;
    let any = false;
    parts.forEach((p, k) => {
      const v = p.values[i];
      if (v === null) return;
      any = true;
      const x =
        how === 'normalized'
          ? (v - stats[k].m) / (stats[k].s + 1e-6)
          : how === 'log_tamed'
            ? Math.sign(v) * Math.log1p(Math.abs(v))
            : v;
      total += p.weight * x;
    });
    return any ? total : null;
  });
}

/** A reward that counts only where the gate reward reaches the threshold (0 elsewhere). */
export function gated(reward: RewardFunction, gate: RewardFunction, threshold = 1): RewardFunction {
  return async (input) => {
    const [r, g] = await Promise.all([reward(input), gate(input)]);
    return r.map((v, i) => (v === null ? null : (g[i] ?? 0) >= threshold ? v : 0));
  };
}

/** Flip a {0, 1} reward with probability p (seeded), for reward-noise robustness studies. */
export function withNoise(reward: RewardFunction, p: number, seed = 0): RewardFunction {
  if (!(p >= 0 && p <= 1)) throw new Error(`pacer: reward noise probability must be in [0, 1], got ${p}`);
  const r = rng(seed);
  return async (input) => (await reward(input)).map((v) => (v === null ? null : r() < p ? 1 - v : v));
}
