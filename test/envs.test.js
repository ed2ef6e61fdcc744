// Environments against an independent Python transcription of Gymnasium's classic_control code
// (test/fixtures/make_env_fixtures.py, numpy's PCG64 seeding, TimeLimit + SyncVectorEnv SAME_STEP),
// hand-computed single steps, NumPy's generator, LunarLander with Gymnasium's heuristic pilot, rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './helpers.js';
import { makeEnv, NumpyRandom, ENV_IDS } from '../dist/envs/index.js';

const REF = JSON.parse(readFileSync(join(FIXTURES, 'envs.json'), 'utf8'));

// The same action formulas as make_env_fixtures.py.
function action(id, t, i, obs) {
  if (id === 'CartPole-v1') return (t * 7 + i * 3 + Math.floor(t / 5)) % 2;
  if (id === 'MountainCar-v0') return (Math.floor(t / 13) + i) % 3;
  if (id === 'Acrobot-v1') return obs[4] > 0 ? 0 : 2;
  if (id === 'Pendulum-v1') return [2.5 * Math.sin(0.07 * t + i)];
  return [1.3 * Math.sin(0.05 * t + 2 * i)];
}

function closeF32(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let k = 0; k < want.length; k++) {
    const w = Math.fround(want[k]);
    const tol = 4e-6 * Math.max(1, Math.abs(w));
    assert.ok(Math.abs(got[k] - w) <= tol, `${what}[${k}]: got ${got[k]}, want ${w}`);
  }
}

for (const id of Object.keys(REF)) {
  test(`${id}: seeded vector trajectory matches the Gymnasium transcription step by step`, () => {
    const ref = REF[id];
    const env = makeEnv(id, { seed: ref.seed, numEnvs: ref.num_envs });
    let { obs } = env.reset();
    ref.reset_obs.forEach((o, i) => closeF32(obs[i], o, `${id} reset obs ${i}`));
    let ended = 0;
    ref.steps.forEach((s, t) => {
      const r = env.step(obs.map((o, i) => action(id, t, i, o)));
      for (let i = 0; i < ref.num_envs; i++) {
        const at = `${id} step ${t} env ${i}`;
        assert.equal(r.terminated[i], s.terminated[i], `${at} terminated`);
        assert.equal(r.truncated[i], s.truncated[i], `${at} truncated`);
        assert.ok(Math.abs(r.reward[i] - s.reward[i]) <= 1e-9 * Math.max(1, Math.abs(s.reward[i])), `${at} reward`);
        closeF32(r.obs[i], s.obs[i], `${at} obs`);
        if (s.final_obs[i] === null) assert.equal(r.finalObs[i], null, `${at} finalObs`);
        else {
          closeF32(r.finalObs[i], s.final_obs[i], `${at} finalObs`);
          assert.ok(r.episodes[i], `${at} episode stats`);
          ended++;
        }
      }
      obs = r.obs;
    });
    assert.ok(ended >= 2, `${id}: the reference covers at least two episode ends (${ended})`);
  });
}

test("NumpyRandom draws NumPy's PCG64 doubles (Generator(PCG64(SeedSequence(42))).uniform(-0.05, 0.05, 4))", () => {
  // numpy 1.24: [0.0273956, -0.00611216, 0.03585979, 0.0197368], the well-known CartPole seed-42 reset.
  const r = new NumpyRandom(42);
  const got = [0, 1, 2, 3].map(() => r.uniform(-0.05, 0.05));
  [0.027395604855596334, -0.006112156024794771, 0.03585979199113824, 0.019736802905936393].forEach((w, k) =>
    assert.equal(got[k], w),
  );
  const big = new NumpyRandom(2 ** 32 + 5); // a two-word seed
  assert.equal(big.uniform(-0.05, 0.05), 0.027420418037388122);
});

test('CartPole: one Euler step by hand, from the upright state pushed right', () => {
  const env = makeEnv('CartPole-v1');
  env.reset();
  env.setState([[0, 0, 0, 0]]);
  env.step([1]);
  // temp = 10/1.1; θ̈ = −temp / (0.5·(4/3 − 0.1/1.1)); ẍ = temp − 0.05·θ̈/1.1; only velocities move.
  const temp = 10 / 1.1;
  const thAcc = -temp / (0.5 * (4 / 3 - 0.1 / 1.1));
  const xAcc = temp - (0.05 * thAcc) / 1.1;
  const [x, xd, th, thd] = env.getState()[0];
  assert.equal(x, 0);
  assert.equal(th, 0);
  assert.ok(Math.abs(xd - 0.02 * xAcc) < 1e-15 && Math.abs(thd - 0.02 * thAcc) < 1e-15);
  assert.ok(Math.abs(0.02 * xAcc - 0.19512195) < 1e-7, 'ẋ = 0.1951 (hand)');
});

test('Pendulum: reward uses the state before the step; torque clipped to ±2', () => {
  const env = makeEnv('Pendulum-v1', { numEnvs: 2 });
  env.reset();
  env.setState([
    [Math.PI, 0],
    [0.5, 1],
  ]);
  const r = env.step([[0], [5]]);
  assert.ok(Math.abs(r.reward[0] + Math.PI ** 2) < 1e-12, 'hanging down at rest costs π²');
  // u clipped to 2: cost = 0.25 + 0.1 + 0.004; θ̇' = 1 + (15 sin 0.5 + 3·2)·0.05
  assert.ok(Math.abs(r.reward[1] + (0.25 + 0.1 + 0.004)) < 1e-12);
  const thd = 1 + (15 * Math.sin(0.5) + 6) * 0.05;
  const [th1, thd1] = env.getState()[1];
  assert.ok(Math.abs(thd1 - thd) < 1e-12 && Math.abs(th1 - (0.5 + thd * 0.05)) < 1e-12);
});

test('MountainCar: the left wall stops the car; reaching the flag terminates (continuous: +100 − 0.1a²)', () => {
  const d = makeEnv('MountainCar-v0');
  d.reset();
  d.setState([[-1.19, -0.02]]);
  d.step([0]);
  assert.deepEqual(d.getState()[0], [-1.2, 0]);
  const c = makeEnv('MountainCarContinuous-v0');
  c.reset();
  c.setState([[0.44, 0.02]]);
  const r = c.step([[2]]); // force clipped to 1, penalty on the raw action: 100 − 0.1·4
  assert.equal(r.terminated[0], true);
  assert.ok(Math.abs(r.reward[0] - 99.6) < 1e-12);
  assert.equal(r.episodes[0].success, true);
  assert.equal(r.episodes[0].score, 1);
  assert.equal(r.episodes[0].length, 1);
});

test('Acrobot: the tip-above-the-line test terminates with reward 0', () => {
  const env = makeEnv('Acrobot-v1');
  env.reset();
  env.setState([[Math.PI, 0, 0, 0]]); // pointing straight up: −cos π − cos π = 2 > 1 after the step too
  const r = env.step([1]);
  assert.equal(r.terminated[0], true);
  assert.equal(r.reward[0], 0);
  assert.equal(r.episodes[0].success, true);
});

test('episode statistics: the ground-truth score is kept apart and autoreset starts the next episode', () => {
  const env = makeEnv('CartPole-v1', { seed: 3, numEnvs: 2 });
  env.reset();
  const lengths = [0, 0];
  let seen = 0;
  for (let t = 0; t < 300 && seen < 4; t++) {
    const r = env.step([1, 0]);
    for (let i = 0; i < 2; i++) {
      lengths[i]++;
      const e = r.episodes[i];
      if (!e) continue;
      assert.equal(e.length, lengths[i]);
      assert.equal(e.return, lengths[i]);
      assert.equal(e.score, e.return);
      assert.equal(e.success, false);
      assert.ok(
        r.obs[i].every((v) => Math.abs(v) <= 0.05),
        'obs holds the fresh reset state',
      );
      lengths[i] = 0;
      seen++;
    }
  }
  assert.equal(seen, 4);
});

test('bad input gets clear errors', () => {
  assert.throws(() => makeEnv('CartPole-v0'), /unknown environment 'CartPole-v0'/);
  assert.throws(() => makeEnv('CartPole-v1', { numEnv: 2 }), /option 'numEnv' is not known/);
  assert.throws(() => makeEnv('CartPole-v1', { seed: -1 }), /seed must be a non-negative integer/);
  const env = makeEnv('Pendulum-v1', { numEnvs: 2 });
  assert.throws(() => env.step([[0], [0]]), /call reset\(\) before step\(\)/);
  env.reset();
  assert.throws(() => env.step([[0]]), /needs 2 actions/);
  assert.throws(() => env.step([[0], [Number.NaN]]), /action 1 must be 1 finite numbers/);
  assert.throws(() => env.setState([[0, 0]]), /needs 2 state vectors/);
  assert.throws(() => env.setState([[0, 0], [1]]), /state 1 must be 2 finite numbers \[theta, theta_dot\]/);
  const cp = makeEnv('CartPole-v1');
  cp.reset();
  assert.throws(() => cp.step([2]), /action 0 must be an integer in \[0, 2\), got 2/);
  const ll = makeEnv('LunarLander-v3');
  ll.reset();
  assert.throws(() => ll.setState([[0, 0, 0, 0, 0, 0, 0, 0]]), /no setState\(\)/);
});

// Gymnasium's heuristic pilot (lunar_lander.py `heuristic`, discrete branch).
function heuristic(s) {
  const angleTarg = Math.max(-0.4, Math.min(0.4, s[0] * 0.5 + s[2] * 1.0));
  const hoverTarg = 0.55 * Math.abs(s[0]);
  let angleTodo = (angleTarg - s[4]) * 0.5 - s[5] * 1.0;
  let hoverTodo = (hoverTarg - s[1]) * 0.5 - s[3] * 0.5;
  if (s[6] || s[7]) {
    angleTodo = 0;
    hoverTodo = -s[3] * 0.5;
  }
  if (hoverTodo > Math.abs(angleTodo) && hoverTodo > 0.05) return 2;
  if (angleTodo < -0.05) return 3;
  if (angleTodo > 0.05) return 1;
  return 0;
}

test("LunarLander: Gymnasium's heuristic pilot lands (return > 200 on most seeds)", () => {
  const env = makeEnv('LunarLander-v3', { seed: 1, numEnvs: 6 });
  let { obs } = env.reset();
  // The first observation (after one step of 1/50 s) starts at the top centre, drifting by the random push.
  for (const o of obs) assert.ok(Math.abs(o[0]) < 0.02 && o[1] > 1.3 && o[1] < 1.5 && o[6] === 0 && o[7] === 0);
  const done = new Array(6).fill(null);
  for (let t = 0; t < 1000 && done.includes(null); t++) {
    const r = env.step(obs.map(heuristic));
    r.episodes.forEach((e, i) => {
      if (e && !done[i]) done[i] = e;
    });
    obs = r.obs;
  }
  const good = done.filter((e) => e && e.return > 200);
  assert.ok(good.length >= 4, `heuristic returns: ${done.map((e) => e?.return.toFixed(0))}`);
  assert.ok(done.filter((e) => e?.success).length >= 3, 'most come to rest between the flags');
  assert.ok(
    done.every((e) => e === null || e.score === (e.success ? 1 : 0)),
    'score is success',
  );
});

test('every environment renders an RGB frame of Gymnasium size (scaled) with the raster', () => {
  for (const id of ENV_IDS) {
    const env = makeEnv(id, { seed: 0, numEnvs: 2 });
    env.reset();
    const f = env.render(1);
    assert.deepEqual([f.width, f.height], [...env.screen]);
    assert.equal(f.data.length, f.width * f.height * 3);
    const half = env.render(0, { scale: 0.5 });
    assert.deepEqual([half.width, half.height], [env.screen[0] / 2, env.screen[1] / 2]);
    const colours = new Set();
    for (let k = 0; k < f.data.length; k += 3) colours.add((f.data[k] << 16) | (f.data[k + 1] << 8) | f.data[k + 2]);
    assert.ok(colours.size >= 3, `${id} draws something (${colours.size} colours)`);
  }
  const cp = makeEnv('CartPole-v1');
  cp.reset();
  cp.setState([[0, 0, 0, 0]]);
  const f = cp.render();
  // The cart (black) is centred at x = 300 and spans y ∈ [85, 115] upward from the bottom (y-down: 285..315).
  const px = (x, y) => [...f.data.subarray((y * 600 + x) * 3, (y * 600 + x) * 3 + 3)];
  assert.deepEqual(px(300, 400 - 95), [0, 0, 0]);
  assert.deepEqual(px(300 + 30, 400 - 95), [255, 255, 255]);
  assert.deepEqual(px(300, 400 - 200), [202, 152, 101], 'the upright pole above the cart');
  assert.throws(() => cp.render(1), /env index 1 is outside \[0, 1\)/);
});
