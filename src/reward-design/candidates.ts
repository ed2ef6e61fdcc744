// One reward candidate trained and measured: PPO (trainers/ppo-control.ts) on the task's environment with the
// reward replaced — by LLM-written code run in the sandbox once per rollout, by the sparse task reward, or
// left as Gymnasium's hand-written reward — then a greedy evaluation on fresh episodes (the ground-truth
// score: the task's success rate, and the Gymnasium return) and, when asked, a rollout video. While it
// trains, the mean of each reward component over every rollout is recorded, with the mean episode length
// and the task score (ICPL's tensorboard scalars: the components, episode_lengths, consecutive_successes).
import { createHash } from 'node:crypto';
import {
  evaluatePolicy,
  trainPPO,
  type PPOControlOptions,
  type PPOPolicy,
  type RolloutBatch,
} from '../trainers/ppo-control.js';
import { writeRolloutVideo } from '../trainers/ppo-env.js';
import type { RewardSandbox } from './sandbox.js';
import { stateFields, type RewardTask } from './tasks.js';

export type RewardSpec =
  | { kind: 'code'; code: string; sandbox: RewardSandbox }
  | { kind: 'sparse' }
  | { kind: 'handwritten' };

export interface TrainingStat {
  name: string;
  values: number[];
}

export interface CandidateResult {
  ok: boolean;
  /** Why training failed (sandbox kind and message), when it did. */
  error: string | null;
  /** Greedy evaluation: mean task score (success rate) and mean Gymnasium return. */
  score: number;
  gymReturn: number;
  /** Per PPO iteration: reward components, episode_lengths, task_score. */
  stats: TrainingStat[];
  /** PPO's metrics per iteration (CleanRL's names). */
  history: Array<Record<string, number>>;
  envSteps: number;
  seconds: number;
  policy: PPOPolicy | null;
}

export interface TrainCandidateOptions {
  seed: number;
  /** PPO options over the task's budget (tests shrink it). */
  ppo?: Partial<PPOControlOptions>;
  evalEpisodes: number;
  threads?: number | null;
}

const mean = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : Number.NaN;
};

/** A key for caching: identical code, seed and budget train identically. */
export function candidateKey(task: RewardTask, spec: RewardSpec, o: TrainCandidateOptions): string {
  const what = spec.kind === 'code' ? spec.code : spec.kind;
  return createHash('sha256')
    .update(JSON.stringify([task.envId, what, o.seed, o.ppo ?? {}, o.evalEpisodes]))
    .digest('hex')
    .slice(0, 16);
}

/** Train PPO with the candidate reward; failures of the reward code come back as ok: false, never thrown. */
export async function trainCandidate(
  task: RewardTask,
  spec: RewardSpec,
  o: TrainCandidateOptions,
): Promise<CandidateResult> {
  const t0 = performance.now();
  const components = new Map<string, number[]>();
  const lengths: number[] = [];
  const scores: number[] = [];
  const history: Array<Record<string, number>> = [];
  const rewardFn =
    spec.kind === 'handwritten'
      ? undefined
      : async (b: RolloutBatch) => {
          const fields = stateFields(task, b);
          if (spec.kind === 'sparse') return task.sparse(fields);
          const r = await spec.sandbox.evaluate(fields);
          if (!r.ok) throw new CandidateError(`${r.kind}${r.step >= 0 ? ` at step ${r.step}` : ''}: ${r.message}`);
          for (const [name, v] of Object.entries(r.components)) {
            if (!components.has(name)) components.set(name, []);
            (components.get(name) as number[]).push(mean(v));
          }
          return r.total;
        };
  const base = { envId: task.envId, ...task.ppo, ...(o.ppo ?? {}), seed: o.seed, threads: o.threads ?? null };
  try {
    if (spec.kind === 'code') {
      const c = await spec.sandbox.compile(spec.code);
      if (!c.ok) throw new CandidateError(`${c.kind}: ${c.message}`);
    }
    const run = await trainPPO(base, {
      rewardFn,
      onIteration: (m) => {
        lengths.push(m['charts/episodic_length']);
        scores.push(m['charts/episodic_score']);
        history.push(m);
      },
    });
    const ev = evaluatePolicy(run.policy, task.envId, { episodes: o.evalEpisodes, seed: 10_000 + o.seed });
    const stats: TrainingStat[] = [
      ...[...components].map(([name, values]) => ({ name, values })),
      { name: 'episode_lengths', values: lengths },
      { name: 'task_score', values: scores },
    ];
    return {
      ok: true,
      error: null,
      score: mean(ev.map((e) => e.score)),
      gymReturn: mean(ev.map((e) => e.return)),
      stats,
      history,
      envSteps: run.globalStep,
      seconds: (performance.now() - t0) / 1000,
      policy: run.policy,
    };
  } catch (e) {
    if (!(e instanceof CandidateError)) throw e;
    return {
      ok: false,
      error: e.message,
      score: Number.NaN,
      gymReturn: Number.NaN,
      stats: [],
      history,
      envSteps: history.length ? history[history.length - 1].global_step : 0,
      seconds: (performance.now() - t0) / 1000,
      policy: null,
    };
  }
}

/** A failure of the candidate's reward (compile or run), as opposed to a bug in pacer. */
export class CandidateError extends Error {}

/** Render a greedy episode of a trained candidate to an MP4 file; its episode statistics. */
export function candidateVideo(
  task: RewardTask,
  policy: PPOPolicy,
  file: string,
  o: { seed: number; every?: number; scale?: number },
) {
  return writeRolloutVideo(policy, task.envId, file, { seed: 20_000 + o.seed, every: o.every, scale: o.scale });
}
