// `pacer bench ppo`: one PPO update (GAE, update_epochs × num_minibatches Adam steps on CleanRL's 64-64
// actor-critic, gradient clipping) in pacer against the same update in PyTorch (bench/pytorch_ppo.py: CleanRL's
// code on a random rollout of the same shapes), best configuration against best configuration: pacer at each
// thread count of --threads, PyTorch in each configuration of peerConfigs (peer.ts). pacer's figure is the
// median time/update_s of a real training run (ppo-control.ts) after two warm-up iterations; the peer's is
// the median of its updates after two. Also pacer's rollout time per iteration (the environment steps and
// the policy's action sampling).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainPPO } from '../../trainers/ppo-control.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer } from './peer.js';

/** CleanRL's default shapes: ppo.py (CartPole, batch 4 × 128, 4 × 4 steps of 128) and ppo_continuous_action.py. */
export const PPO_CASES = {
  'CartPole-v1': {
    peer: {
      obs_dim: 4,
      discrete: true,
      act: 2,
      num_envs: 4,
      num_steps: 128,
      num_minibatches: 4,
      update_epochs: 4,
      ent_coef: 0.01,
    },
    iterations: 12,
  },
  'Pendulum-v1': {
    peer: {
      obs_dim: 3,
      discrete: false,
      act: 1,
      num_envs: 1,
      num_steps: 2048,
      num_minibatches: 32,
      update_epochs: 10,
      ent_coef: 0,
    },
    iterations: 5,
  },
} as const;

export interface PpoBenchOptions {
  envs: Array<keyof typeof PPO_CASES>;
  threads: number[];
  runs: number;
  vsPytorch: boolean;
}

async function pacerTimes(id: keyof typeof PPO_CASES, threads: number, runs: number) {
  const c = PPO_CASES[id];
  const out: Array<{ update_ms: number; rollout_ms: number }> = [];
  for (let run = 0; run < runs; run++) {
    const r = await trainPPO({
      envId: id,
      seed: run + 1,
      threads,
      numEnvs: c.peer.num_envs,
      numSteps: c.peer.num_steps,
      totalTimesteps: c.iterations * c.peer.num_envs * c.peer.num_steps,
    });
    const h = r.history.slice(2);
    out.push({
      update_ms: round(median(h.map((m) => m['time/update_s'] * 1000)), 2),
      rollout_ms: round(median(h.map((m) => m['time/rollout_s'] * 1000)), 2),
    });
  }
  return out;
}

export async function benchPpo(o: PpoBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-ppo-'));
  const results: Record<string, unknown> = {};
  try {
    for (const id of o.envs) {
      const c = PPO_CASES[id];
      const pacer: Record<string, Array<{ update_ms: number; rollout_ms: number }>> = {};
      for (const t of o.threads) pacer[`threads_${t}`] = await pacerTimes(id, t, o.runs);
      const all = Object.entries(pacer).flatMap(([k, xs]) => xs.map((x) => ({ k, ...x })));
      const ours = best(all, (x) => x.update_ms)!;
      const row: Record<string, unknown> = {
        env_steps_per_update: c.peer.num_envs * c.peer.num_steps,
        adam_steps_per_update: c.peer.num_minibatches * c.peer.update_epochs,
        pacer,
        best_pacer: { config: ours.k, update_ms: ours.update_ms },
      };
      if (o.vsPytorch) {
        const args = join(dir, `${id}.json`);
        writeFileSync(args, JSON.stringify({ ...c.peer, reps: Math.max(6, c.iterations) }));
        const threads = Math.max(...o.threads);
        const peer = runPeerConfigs(
          threads,
          (cfg) => {
            const runs: number[] = [];
            for (let k = 0; k < o.runs; k++) {
              const r = runTorchPeer('pytorch_ppo.py', [args], cfg);
              if ('error' in r) return r;
              runs.push(median(r.json.update_ms.slice(2)));
            }
            return { json: { runs } };
          },
          (j) => j.runs as number[],
        );
        if (peer.runs.length) {
          const fastest = best(peer.runs, (r) => Math.min(...r.result))!;
          row.pytorch = peer.runs.map((r) => ({
            config: configName(r.config),
            update_ms: r.result.map((x) => round(x, 2)),
          }));
          row.best_pytorch = { config: configName(fastest.config), update_ms: round(Math.min(...fastest.result), 2) };
          // speed ratio: PyTorch's time over pacer's (above 1: pacer is faster)
          row.ratio_best_vs_best = round(Math.min(...fastest.result) / ours.update_ms, 3);
        }
        if (peer.errors.length) row.pytorch_error = peer.errors.join('; ');
      }
      results[id] = row;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { bench: 'ppo', runs: o.runs, results };
}
