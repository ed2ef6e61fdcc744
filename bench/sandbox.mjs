// Cost of the reward sandbox per rollout step: a CartPole-style reward (6 state fields, 3 components) over
// rollouts of T steps, evaluated in the sandbox (one crossing per rollout: IPC to the child, copy into the
// isolate, per-step calls inside it, copy out) against the same function called directly in this process.
// Overhead = (sandbox − direct) / T. 3 runs of 30 rollouts each; medians. Run after `npx tsc`:
//   node bench/sandbox.mjs
import { RewardSandbox } from '../dist/reward-design/sandbox.js';

const CODE = `function compute_reward(s) {
  const upright = Math.cos(s.theta);
  const centre = -0.1 * s.x * s.x;
  const effort = -0.01 * s.action * s.action;
  return { total: upright + centre + effort, components: { upright, centre, effort } };
}`;
const direct = new Function(`${CODE}; return compute_reward;`)();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sb = new RewardSandbox({ timeoutMs: 10_000 });
const c = await sb.compile(CODE);
if (!c.ok) throw new Error(c.message);
for (const T of [256, 2048, 16384]) {
  const fields = {};
  for (const k of ['x', 'x_dot', 'theta', 'theta_dot', 'action', 'terminated'])
    fields[k] = Float64Array.from({ length: T }, () => Math.random());
  const runs = [];
  for (let run = 0; run < 3; run++) {
    const boxed = [];
    const plain = [];
    for (let i = 0; i < 30; i++) {
      let t = performance.now();
      const r = await sb.evaluate(fields);
      if (!r.ok) throw new Error(r.message);
      boxed.push(performance.now() - t);
      t = performance.now();
      const total = new Float64Array(T);
      for (let s = 0; s < T; s++) {
        const st = {};
        for (const k in fields) st[k] = fields[k][s];
        total[s] = direct(st).total;
      }
      plain.push(performance.now() - t);
    }
    runs.push({ boxed: (median(boxed) / T) * 1000, plain: (median(plain) / T) * 1000 });
  }
  console.log(
    `T=${String(T).padStart(5)}: sandbox ${runs.map((r) => r.boxed.toFixed(2)).join(' / ')} µs/step, direct ${runs
      .map((r) => r.plain.toFixed(2))
      .join(' / ')} µs/step, overhead ${runs.map((r) => (r.boxed - r.plain).toFixed(2)).join(' / ')} µs/step`,
  );
}
sb.close();
