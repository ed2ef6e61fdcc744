// `pacer bench envs`: environment steps per second of pacer's vector environments (numEnvs copies, random
// actions drawn beforehand, autoreset, the result arrays Gymnasium's API returns every step) against a plain
// JavaScript loop of the same dynamics (structure-of-arrays state, no allocation, no validation, no
// seeding), and LunarLander on planck alone. Runs alternate pacer and the loop; each run reports env-steps
// per second of wall time and per CPU second of this process (the latter is what other load on a shared
// machine skews least). ratio_best_vs_best = pacer's best run over the loop's best run.
import { makeEnv, type EnvId, type VectorEnv } from '../../envs/index.js';
import { round } from './peer.js';

type Actions = Array<Array<number | number[]>>;

function actionsFor(env: VectorEnv, n: number, count: number, r: () => number): Actions {
  const sp = env.actionSpace;
  return Array.from({ length: count }, () =>
    Array.from({ length: n }, () =>
      sp.type === 'discrete' ? Math.floor(r() * sp.n) : [sp.low[0] + r() * (sp.high[0] - sp.low[0])],
    ),
  );
}

const u = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

function cartpole(n: number, steps: number, acts: Actions, r: () => number): number {
  const [x, xd, th, thd] = [0, 0, 0, 0].map(() => new Float64Array(n));
  const len = new Int32Array(n);
  let sum = 0;
  for (let s = 0; s < steps; s++) {
    const a = acts[s % acts.length];
    for (let i = 0; i < n; i++) {
      const f = a[i] === 1 ? 10 : -10;
      const c = Math.cos(th[i]);
      const sn = Math.sin(th[i]);
      const temp = (f + 0.05 * thd[i] * thd[i] * sn) / 1.1;
      const tha = (9.8 * sn - c * temp) / (0.5 * (4 / 3 - (0.1 * c * c) / 1.1));
      const xa = temp - (0.05 * tha * c) / 1.1;
      x[i] += 0.02 * xd[i];
      xd[i] += 0.02 * xa;
      th[i] += 0.02 * thd[i];
      thd[i] += 0.02 * tha;
      sum += 1;
      len[i]++;
      if (Math.abs(x[i]) > 2.4 || Math.abs(th[i]) > 0.2095 || len[i] >= 500) {
        x[i] = u(r, -0.05, 0.05);
        xd[i] = u(r, -0.05, 0.05);
        th[i] = u(r, -0.05, 0.05);
        thd[i] = u(r, -0.05, 0.05);
        len[i] = 0;
      }
    }
  }
  return sum;
}

function pendulum(n: number, steps: number, acts: Actions, r: () => number): number {
  const th = new Float64Array(n);
  const thd = new Float64Array(n);
  const len = new Int32Array(n);
  let sum = 0;
  for (let s = 0; s < steps; s++) {
    const a = acts[s % acts.length];
    for (let i = 0; i < n; i++) {
      const uu = Math.min(Math.max((a[i] as number[])[0], -2), 2);
      const w = ((((th[i] + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
      sum -= w * w + 0.1 * thd[i] * thd[i] + 0.001 * uu * uu;
      thd[i] = Math.min(Math.max(thd[i] + (7.5 * Math.sin(th[i]) + 3 * uu) * 0.05, -8), 8);
      th[i] += thd[i] * 0.05;
      if (++len[i] >= 200) {
        th[i] = u(r, -Math.PI, Math.PI);
        thd[i] = u(r, -1, 1);
        len[i] = 0;
      }
    }
  }
  return sum;
}

function mountainCar(continuous: boolean) {
  return (n: number, steps: number, acts: Actions, r: () => number): number => {
    const p = new Float64Array(n).fill(-0.5);
    const v = new Float64Array(n);
    const len = new Int32Array(n);
    const [goal, limit] = continuous ? [0.45, 999] : [0.5, 200];
    const f32 = continuous ? Math.fround : (z: number) => z;
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % acts.length];
      for (let i = 0; i < n; i++) {
        const push = continuous
          ? Math.min(Math.max((a[i] as number[])[0], -1), 1) * 0.0015
          : ((a[i] as number) - 1) * 0.001;
        v[i] = f32(Math.min(Math.max(v[i] + push - 0.0025 * Math.cos(3 * p[i]), -0.07), 0.07));
        p[i] = f32(Math.min(Math.max(p[i] + v[i], -1.2), 0.6));
        if (p[i] === f32(-1.2) && v[i] < 0) v[i] = 0;
        const done = p[i] >= goal && v[i] >= 0;
        sum += continuous ? (done ? 100 : 0) - 0.1 * (a[i] as number[])[0] ** 2 : -1;
        if (done || ++len[i] >= limit) {
          p[i] = u(r, -0.6, -0.4);
          v[i] = 0;
          len[i] = 0;
        }
      }
    }
    return sum;
  };
}

function acrobotDerivs(s: Float64Array, a: number, o: Float64Array): void {
  const [t1, t2, d1_, d2_] = [s[0], s[1], s[2], s[3]];
  const d1 = 0.25 + (1 + 0.25 + Math.cos(t2)) + 2;
  const d2 = 0.25 + 0.5 * Math.cos(t2) + 1;
  const phi2 = 0.5 * 9.8 * Math.cos(t1 + t2 - Math.PI / 2);
  const phi1 =
    -0.5 * d2_ * d2_ * Math.sin(t2) - d2_ * d1_ * Math.sin(t2) + 1.5 * 9.8 * Math.cos(t1 - Math.PI / 2) + phi2;
  const dd2 = (a + (d2 / d1) * phi1 - 0.5 * d1_ * d1_ * Math.sin(t2) - phi2) / (0.25 + 1 - (d2 * d2) / d1);
  o[0] = d1_;
  o[1] = d2_;
  o[2] = -(d2 * dd2 + phi1) / d1;
  o[3] = dd2;
}

function acrobot(n: number, steps: number, acts: Actions, r: () => number): number {
  const S = new Float64Array(4 * n);
  const len = new Int32Array(n);
  const [k1, k2, k3, k4, y] = [0, 0, 0, 0, 0].map(() => new Float64Array(4));
  let sum = 0;
  for (let s = 0; s < steps; s++) {
    const a = acts[s % acts.length];
    for (let i = 0; i < n; i++) {
      const s0 = S.subarray(4 * i, 4 * i + 4);
      const tq = (a[i] as number) - 1;
      acrobotDerivs(s0, tq, k1);
      for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.1 * k1[j];
      acrobotDerivs(y, tq, k2);
      for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.1 * k2[j];
      acrobotDerivs(y, tq, k3);
      for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.2 * k3[j];
      acrobotDerivs(y, tq, k4);
      for (let j = 0; j < 4; j++) s0[j] += (0.2 / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
      for (const j of [0, 1]) {
        while (s0[j] > Math.PI) s0[j] -= 2 * Math.PI;
        while (s0[j] < -Math.PI) s0[j] += 2 * Math.PI;
      }
      s0[2] = Math.min(Math.max(s0[2], -4 * Math.PI), 4 * Math.PI);
      s0[3] = Math.min(Math.max(s0[3], -9 * Math.PI), 9 * Math.PI);
      const done = -Math.cos(s0[0]) - Math.cos(s0[1] + s0[0]) > 1;
      sum += done ? 0 : -1;
      if (done || ++len[i] >= 500) {
        for (let j = 0; j < 4; j++) s0[j] = Math.fround(u(r, -0.1, 0.1));
        len[i] = 0;
      }
    }
  }
  return sum;
}

/** The same dynamics written as plain loops (the reference each environment is timed against). */
export const PLAIN_LOOPS: Partial<Record<EnvId, (n: number, steps: number, acts: Actions, r: () => number) => number>> =
  {
    'CartPole-v1': cartpole,
    'Pendulum-v1': pendulum,
    'MountainCar-v0': mountainCar(false),
    'MountainCarContinuous-v0': mountainCar(true),
    'Acrobot-v1': acrobot,
  };

/** Env-steps per second of wall time and per CPU second of `fn` doing `work` env-steps. */
function timed(work: number, fn: () => void): { wall: number; cpu: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = (performance.now() - t) / 1000;
  const used = process.cpuUsage(c);
  return { wall: work / wall, cpu: work / ((used.user + used.system) / 1e6) };
}

export interface EnvBenchOptions {
  numEnvs: number;
  steps: number;
  runs: number;
  envs: EnvId[];
}

export function benchEnvs(o: EnvBenchOptions): Record<string, unknown> {
  let seed = 12345;
  const r = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const results: Record<string, unknown> = {};
  for (const id of o.envs) {
    const plain = PLAIN_LOOPS[id];
    const probe = makeEnv(id, { numEnvs: o.numEnvs });
    const acts = actionsFor(probe, o.numEnvs, 1000, r);
    const steps = plain ? o.steps : Math.max(20, Math.floor(o.steps / 200));
    const runPacer = (k: number) => {
      const env = makeEnv(id, { seed: 0, numEnvs: o.numEnvs });
      env.reset();
      for (let s = 0; s < k; s++) env.step(acts[s % acts.length]);
    };
    runPacer(Math.min(steps, 2000)); // warm-up (JIT)
    if (plain) plain(o.numEnvs, Math.min(steps, 2000), acts, r);
    const pacer: Array<{ wall: number; cpu: number }> = [];
    const loop: Array<{ wall: number; cpu: number }> = [];
    for (let k = 0; k < o.runs; k++) {
      pacer.push(timed(steps * o.numEnvs, () => runPacer(steps)));
      if (plain) loop.push(timed(steps * o.numEnvs, () => plain(o.numEnvs, steps, acts, r)));
    }
    const best = (xs: Array<{ wall: number; cpu: number }>, k: 'wall' | 'cpu') => Math.max(...xs.map((x) => x[k]));
    results[id] = {
      pacer_steps_per_s: pacer.map((x) => Math.round(x.wall)),
      pacer_steps_per_cpu_s: pacer.map((x) => Math.round(x.cpu)),
      ...(plain
        ? {
            plain_steps_per_s: loop.map((x) => Math.round(x.wall)),
            plain_steps_per_cpu_s: loop.map((x) => Math.round(x.cpu)),
            ratio_best_vs_best: round(best(pacer, 'wall') / best(loop, 'wall'), 3),
            cpu_ratio_best_vs_best: round(best(pacer, 'cpu') / best(loop, 'cpu'), 3),
          }
        : { plain: 'none (Box2D physics; pacer runs planck)' }),
    };
  }
  return { bench: 'envs', num_envs: o.numEnvs, steps_per_run: o.steps, runs: o.runs, results };
}
