// One PPO update (GAE, update_epochs × num_minibatches Adam steps on a 64-64 actor-critic) in pacer against
// the same update in PyTorch (bench/pytorch_ppo.py, CleanRL's code), best configuration against best
// configuration: pacer with 1 and 2 threads, PyTorch with (intra-op, BLAS) = (2, 2), (1, 2), (1, 1)
// (src/cli/bench/peer.ts). pacer's figure is the median 'time/update_s' of a real training run (after two
// warm-up iterations); 3 runs each. Also prints pacer's rollout time per iteration. Run after `npx tsc`:
//   node bench/ppo.mjs [CartPole-v1|Pendulum-v1 ...]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configName, peerConfigs, runTorchPeer } from '../dist/cli/bench/peer.js';
import { trainPPO } from '../dist/trainers/ppo-control.js';

const CASES = {
  // cleanrl/ppo.py defaults: batch 4 × 128, 4 minibatches, 4 epochs (16 Adam steps of 128)
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
  // cleanrl/ppo_continuous_action.py defaults: batch 2048, 32 minibatches, 10 epochs (320 Adam steps of 64)
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
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ids = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-ppo-'));
try {
  for (const id of ids.length ? ids : Object.keys(CASES)) {
    const c = CASES[id];
    const p = c.peer;
    const ours = {};
    for (const threads of [1, 2]) {
      ours[threads] = [];
      for (let run = 0; run < 3; run++) {
        const r = await trainPPO({
          envId: id,
          seed: run + 1,
          threads,
          numEnvs: p.num_envs,
          numSteps: p.num_steps,
          totalTimesteps: c.iterations * p.num_envs * p.num_steps,
        });
        const h = r.history.slice(2);
        ours[threads].push({
          update: median(h.map((m) => m['time/update_s'] * 1000)),
          rollout: median(h.map((m) => m['time/rollout_s'] * 1000)),
        });
      }
      console.log(
        `${id} pacer threads ${threads}: update ${ours[threads].map((x) => x.update.toFixed(1)).join(' / ')} ms; ` +
          `rollout ${ours[threads].map((x) => x.rollout.toFixed(1)).join(' / ')} ms ` +
          `(${p.num_envs * p.num_steps} env steps)`,
      );
    }
    const args = join(dir, `${id}.json`);
    writeFileSync(args, JSON.stringify({ ...p, reps: Math.max(6, c.iterations) }));
    const peer = [];
    for (const cfg of peerConfigs(2)) {
      const runs = [];
      for (let run = 0; run < 3; run++) {
        const out = runTorchPeer('pytorch_ppo.py', [args], cfg);
        if ('error' in out) {
          console.log(`${id} pytorch ${configName(cfg)}: ${out.error}`);
          break;
        }
        runs.push(median(out.json.update_ms.slice(2)));
      }
      if (runs.length) {
        peer.push(Math.min(...runs));
        console.log(`${id} pytorch ${configName(cfg)}: update ${runs.map((x) => x.toFixed(1)).join(' / ')} ms`);
      }
    }
    const best = Math.min(
      ...Object.values(ours)
        .flat()
        .map((x) => x.update),
    );
    if (peer.length)
      console.log(
        `${id}: best pacer ${best.toFixed(1)} ms, best pytorch ${Math.min(...peer).toFixed(1)} ms, ` +
          `ratio_best_vs_best ${(Math.min(...peer) / best).toFixed(2)}x`,
      );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
