// Environment steps per second: pacer's vector environments (16 copies, random actions drawn beforehand,
// autoreset, obs/reward/termination arrays allocated per step as the API returns them) against a plain
// JavaScript loop of the same dynamics (structure-of-arrays state, no allocation, no validation), and
// LunarLander on planck alone. 3 runs each; prints steps/s per run. Run after `npx tsc`:
//   node bench/envs.mjs [steps per run, default 20000 vector steps]
import { makeEnv } from '../dist/envs/index.js';

const N = 16;
const STEPS = Number(process.argv[2] ?? 20000);

function actionsFor(env, count) {
  const sp = env.actionSpace;
  return Array.from({ length: count }, () =>
    Array.from({ length: N }, () =>
      sp.type === 'discrete'
        ? Math.floor(Math.random() * sp.n)
        : [sp.low[0] + Math.random() * (sp.high[0] - sp.low[0])],
    ),
  );
}

function timePacer(id, steps) {
  const env = makeEnv(id, { seed: 0, numEnvs: N });
  env.reset();
  const acts = actionsFor(env, 1000);
  const t = performance.now();
  for (let s = 0; s < steps; s++) env.step(acts[s % 1000]);
  return (steps * N) / ((performance.now() - t) / 1000);
}

// ---- plain loops: the same equations, written directly (state arrays of N copies, reset inline)
const u = (lo, hi) => lo + (hi - lo) * Math.random();
const PLAIN = {
  'CartPole-v1'(steps, acts) {
    const x = new Float64Array(N),
      xd = new Float64Array(N),
      th = new Float64Array(N),
      thd = new Float64Array(N);
    const len = new Int32Array(N);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % 1000];
      for (let i = 0; i < N; i++) {
        const f = a[i] === 1 ? 10 : -10;
        const c = Math.cos(th[i]),
          sn = Math.sin(th[i]);
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
          x[i] = u(-0.05, 0.05);
          xd[i] = u(-0.05, 0.05);
          th[i] = u(-0.05, 0.05);
          thd[i] = u(-0.05, 0.05);
          len[i] = 0;
        }
      }
    }
    return sum;
  },
  'Pendulum-v1'(steps, acts) {
    const th = new Float64Array(N),
      thd = new Float64Array(N);
    const len = new Int32Array(N);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % 1000];
      for (let i = 0; i < N; i++) {
        const uu = Math.min(Math.max(a[i][0], -2), 2);
        const n = ((((th[i] + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
        sum -= n * n + 0.1 * thd[i] * thd[i] + 0.001 * uu * uu;
        thd[i] = Math.min(Math.max(thd[i] + (7.5 * Math.sin(th[i]) + 3 * uu) * 0.05, -8), 8);
        th[i] += thd[i] * 0.05;
        if (++len[i] >= 200) {
          th[i] = u(-Math.PI, Math.PI);
          thd[i] = u(-1, 1);
          len[i] = 0;
        }
      }
    }
    return sum;
  },
  'MountainCar-v0'(steps, acts) {
    const p = new Float64Array(N).fill(-0.5),
      v = new Float64Array(N);
    const len = new Int32Array(N);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % 1000];
      for (let i = 0; i < N; i++) {
        v[i] = Math.min(Math.max(v[i] + (a[i] - 1) * 0.001 - 0.0025 * Math.cos(3 * p[i]), -0.07), 0.07);
        p[i] = Math.min(Math.max(p[i] + v[i], -1.2), 0.6);
        if (p[i] === -1.2 && v[i] < 0) v[i] = 0;
        sum -= 1;
        if ((p[i] >= 0.5 && v[i] >= 0) || ++len[i] >= 200) {
          p[i] = u(-0.6, -0.4);
          v[i] = 0;
          len[i] = 0;
        }
      }
    }
    return sum;
  },
  'MountainCarContinuous-v0'(steps, acts) {
    const p = new Float64Array(N).fill(-0.5),
      v = new Float64Array(N);
    const len = new Int32Array(N);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % 1000];
      for (let i = 0; i < N; i++) {
        const f = Math.min(Math.max(a[i][0], -1), 1);
        v[i] = Math.fround(Math.min(Math.max(v[i] + f * 0.0015 - 0.0025 * Math.cos(3 * p[i]), -0.07), 0.07));
        p[i] = Math.fround(Math.min(Math.max(p[i] + v[i], -1.2), 0.6));
        if (p[i] === Math.fround(-1.2) && v[i] < 0) v[i] = 0;
        const done = p[i] >= 0.45 && v[i] >= 0;
        sum += (done ? 100 : 0) - 0.1 * a[i][0] * a[i][0];
        if (done || ++len[i] >= 999) {
          p[i] = u(-0.6, -0.4);
          v[i] = 0;
          len[i] = 0;
        }
      }
    }
    return sum;
  },
  'Acrobot-v1'(steps, acts) {
    const S = new Float64Array(4 * N);
    const len = new Int32Array(N);
    const k1 = new Float64Array(4),
      k2 = new Float64Array(4),
      k3 = new Float64Array(4),
      k4 = new Float64Array(4);
    const y = new Float64Array(4);
    const f = (s, a, o) => {
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
    };
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const a = acts[s % 1000];
      for (let i = 0; i < N; i++) {
        const s0 = S.subarray(4 * i, 4 * i + 4);
        const tq = a[i] - 1;
        f(s0, tq, k1);
        for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.1 * k1[j];
        f(y, tq, k2);
        for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.1 * k2[j];
        f(y, tq, k3);
        for (let j = 0; j < 4; j++) y[j] = s0[j] + 0.2 * k3[j];
        f(y, tq, k4);
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
          for (let j = 0; j < 4; j++) s0[j] = Math.fround(u(-0.1, 0.1));
          len[i] = 0;
        }
      }
    }
    return sum;
  },
};

function timePlain(id, steps) {
  const acts = actionsFor(makeEnv(id), 1000).map((a) => a);
  const t = performance.now();
  PLAIN[id](steps, acts);
  return (steps * N) / ((performance.now() - t) / 1000);
}

const fmt = (xs) => xs.map((x) => `${(x / 1e6).toFixed(2)}M`).join(' / ');
for (const id of Object.keys(PLAIN)) {
  timePacer(id, 2000); // warm-up (JIT)
  timePlain(id, 2000);
  const p = [0, 1, 2].map(() => timePacer(id, STEPS));
  const q = [0, 1, 2].map(() => timePlain(id, STEPS));
  console.log(
    `${id.padEnd(25)} pacer ${fmt(p)} env-steps/s   plain loop ${fmt(q)}   ` +
      `ratio ${(Math.max(...p) / Math.max(...q)).toFixed(2)}`,
  );
}
const ll = [0, 1, 2].map(() => timePacer('LunarLander-v3', Math.max(50, STEPS / 200)));
console.log(
  `${'LunarLander-v3'.padEnd(25)} pacer ${ll.map((x) => `${(x / 1e3).toFixed(1)}k`).join(' / ')} env-steps/s (planck)`,
);
