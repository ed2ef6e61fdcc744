// Does pacer's control PPO solve CartPole-v1 (return ≥ 475) and Pendulum-v1 (≥ −200)? Trains each task
// with 3 seeds at a fixed budget, evaluates the greedy policy (argmax / Gaussian mean) on 20 fresh
// episodes every few iterations, and prints per seed: the first env step at which the evaluation met the
// threshold, the final evaluation, wall time; then mean ± std over seeds. Run after `npx tsc`:
//   node bench/ppo_solve.mjs [CartPole-v1|Pendulum-v1 ...] [--seeds 1,2,3]
import { evaluatePolicy, trainPPO } from '../dist/trainers/ppo-control.js';

const TASKS = {
  // cleanrl/ppo.py defaults, with total_timesteps (and so the learning-rate annealing) set to 200k
  'CartPole-v1': { threshold: 475, evalEvery: 10, options: { totalTimesteps: 200_000 } },
  // cleanrl/ppo_continuous_action.py defaults, 4 envs × 512 steps (the same 2048-step batch), 200k steps
  'Pendulum-v1': { threshold: -200, evalEvery: 5, options: { totalTimesteps: 200_000, numEnvs: 4, numSteps: 512 } },
};

const args = process.argv.slice(2);
const si = args.indexOf('--seeds');
const seeds = si >= 0 ? args[si + 1].split(',').map(Number) : [1, 2, 3];
const ids = args.filter((a, i) => !a.startsWith('--') && (si < 0 || i !== si + 1));
const meanStd = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(1)} ± ${s.toFixed(1)}`;
};

for (const id of ids.length ? ids : Object.keys(TASKS)) {
  const task = TASKS[id];
  const rows = [];
  for (const seed of seeds) {
    const t0 = performance.now();
    let solvedAt = null;
    let it = 0;
    const evalNow = (policy, step) => {
      const ev = evaluatePolicy(policy, id, { episodes: 20, seed: 10_000 + seed });
      const m = ev.reduce((a, e) => a + e.return, 0) / ev.length;
      if (solvedAt === null && m >= task.threshold) solvedAt = step;
      return m;
    };
    const r = await trainPPO(
      { envId: id, seed, threads: 1, ...task.options },
      {
        onIteration: (m, policy) => {
          it++;
          if (it % task.evalEvery === 0) evalNow(policy, m.global_step);
        },
      },
    );
    const final = evalNow(r.policy, r.globalStep);
    const trainTail = r.episodes.slice(-20).reduce((a, e) => a + e.return, 0) / Math.min(20, r.episodes.length);
    const secs = (performance.now() - t0) / 1000;
    rows.push({ seed, final, solvedAt, steps: r.globalStep, trainTail, secs });
    console.log(
      `${id} seed ${seed}: final greedy eval ${final.toFixed(1)} (20 episodes), ` +
        `last-20 training episodes ${trainTail.toFixed(1)}, ` +
        `first eval ≥ ${task.threshold} at ${solvedAt ?? 'never'} steps, ${r.globalStep} steps in ${secs.toFixed(0)} s`,
    );
  }
  console.log(
    `${id}: final eval ${meanStd(rows.map((r) => r.final))}; ` +
      `solved ${rows.filter((r) => r.final >= task.threshold).length}/${rows.length}; ` +
      `steps to first solved eval ${meanStd(rows.map((r) => r.solvedAt ?? Number.NaN))}; ` +
      `wall ${meanStd(rows.map((r) => r.secs))} s`,
  );
}
