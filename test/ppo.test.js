// PPO objective against CleanRL's loss code run in PyTorch (test/fixtures/make_ppo_fixtures.py: loss,
// metrics and gradients, float64), GAE against CleanRL's backward loop, finite differences, and a
// hand-computed truncation bootstrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, P } from './helpers.js';
import {
  ppoLoss,
  gae,
  categoricalLogProbEntropy,
  gaussianLogProbEntropy,
  explainedVariance,
} from '../dist/objectives/index.js';

const REF = JSON.parse(readFileSync(join(FIXTURES, 'ppo.json'), 'utf8'));
const T = (xs, shape) => P.tensor(Float64Array.from(xs), { shape: shape ?? [xs.length] });
const close = (a, b, what, tol = 1e-10) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const closeAll = (a, b, what, tol = 1e-10) => b.forEach((v, k) => close(a[k], v, `${what}[${k}]`, tol));
const cfg = (a) => ({
  clipCoef: a.clip_coef,
  clipVloss: a.clip_vloss,
  entCoef: a.ent_coef,
  vfCoef: a.vf_coef,
  normAdv: a.norm_adv,
});

for (const name of ['discrete', 'discrete_noclip_v']) {
  test(`ppoLoss (${name}) equals CleanRL ppo.py in PyTorch: loss, metrics, gradients`, () =>
    P.scope(() => {
      const r = REF[name];
      const logits = T(r.logits, [r.B, r.A]).requiresGrad_();
      const newValue = T(r.newvalue).requiresGrad_();
      const actions = P.tensor(r.actions, { dtype: 'int64' });
      const { logprob, entropy } = categoricalLogProbEntropy(logits, actions);
      const out = ppoLoss(
        {
          newLogprob: logprob,
          oldLogprob: T(r.old_logprob),
          advantages: T(r.advantages),
          newValue,
          oldValue: T(r.values),
          returns: T(r.returns),
          entropy,
        },
        cfg(r.args),
      );
      for (const [k, v] of Object.entries(r.metrics))
        close(out.metrics[k], v, k, k === 'losses/clipfrac' ? 1e-7 : 1e-10); // CleanRL: float32
      out.loss.backward();
      closeAll(logits.grad.toArray(), r.grad_logits, 'dL/dlogits');
      closeAll(newValue.grad.toArray(), r.grad_newvalue, 'dL/dV');
    }));
}

for (const name of ['continuous', 'continuous_ent']) {
  test(`ppoLoss (${name}) with a Gaussian policy equals CleanRL ppo_continuous_action.py in PyTorch`, () =>
    P.scope(() => {
      const r = REF[name];
      const mean = T(r.mean, [r.B, r.D]).requiresGrad_();
      const logStd = T(r.logstd, [1, r.D]).requiresGrad_();
      const newValue = T(r.newvalue).requiresGrad_();
      const { logprob, entropy } = gaussianLogProbEntropy(mean, logStd, T(r.actions, [r.B, r.D]));
      closeAll(logprob.toArray(), r.newlogprob, 'log-density');
      closeAll(entropy.toArray(), r.entropy, 'entropy');
      const out = ppoLoss(
        {
          newLogprob: logprob,
          oldLogprob: T(r.old_logprob),
          advantages: T(r.advantages),
          newValue,
          oldValue: T(r.values),
          returns: T(r.returns),
          entropy,
        },
        cfg(r.args),
      );
      for (const [k, v] of Object.entries(r.metrics))
        close(out.metrics[k], v, k, k === 'losses/clipfrac' ? 1e-7 : 1e-10); // CleanRL: float32
      out.loss.backward();
      closeAll(mean.grad.toArray(), r.grad_mean, 'dL/dmean');
      closeAll(logStd.grad.toArray(), r.grad_logstd, 'dL/dlogstd');
      closeAll(newValue.grad.toArray(), r.grad_newvalue, 'dL/dV');
    }));
}

test("gae reproduces CleanRL's backward loop (truncation treated as termination)", () => {
  const r = REF.gae;
  const { T: n, N } = r;
  // CleanRL: dones[t] flags that obs t began a new episode; the step t ended one iff dones[t+1] (next_done at T−1).
  const endAfter = (t, i) => (t === n - 1 ? r.next_done[i] : r.dones[(t + 1) * N + i]);
  const nextValues = r.values.map((_, k) => {
    const t = Math.floor(k / N);
    const i = k % N;
    return t === n - 1 ? r.next_value[i] : r.values[k + N];
  });
  const flags = r.values.map((_, k) => endAfter(Math.floor(k / N), k % N));
  const out = gae(
    { rewards: r.rewards, values: r.values, nextValues, terminated: flags, dones: flags },
    n,
    N,
    r.gamma,
    r.gae_lambda,
  );
  closeAll(out.advantages, r.advantages, 'advantages', 1e-12);
  closeAll(out.returns, r.returns, 'returns', 1e-12);
});

test('gae bootstraps a truncated episode from its final value and stops the λ-chain (hand-computed)', () => {
  // One env, 3 steps: the episode is truncated after step 1 (final obs value 2.0), a new one runs at step 2.
  const g = 0.9;
  const l = 0.5;
  const x = { rewards: [1, 1, 1], values: [0.5, 0.4, 0.3], nextValues: [0.4, 2.0, 0.7], terminated: [0, 0, 0] };
  const out = gae({ ...x, dones: [0, 1, 0] }, 3, 1, g, l);
  const d2 = 1 + g * 0.7 - 0.3;
  const d1 = 1 + g * 2.0 - 0.4;
  const d0 = 1 + g * 0.4 - 0.5;
  closeAll(out.advantages, [d0 + g * l * d1, d1, d2], 'A', 1e-14);
  const term = gae({ ...x, terminated: [0, 1, 0], dones: [0, 1, 0] }, 3, 1, g, l);
  close(term.advantages[1], 1 - 0.4, 'terminated: no bootstrap', 1e-14);
  assert.throws(() => gae({ ...x, dones: [0, 1] }, 3, 1, g, l), /dones has 2 entries, expected numSteps·numEnvs = 3/);
});

test('ppoLoss gradients agree with central finite differences (float64)', () =>
  P.scope(() => {
    const r = REF.continuous_ent;
    const base = { a: r.old_logprob.map((v, k) => v + 0.05 * Math.sin(k)), v: r.newvalue, e: r.entropy };
    const c = cfg(r.args);
    const lossOf = (lp, v, e) =>
      P.noGrad(() =>
        ppoLoss(
          {
            newLogprob: T(lp),
            oldLogprob: T(r.old_logprob),
            advantages: T(r.advantages),
            newValue: T(v),
            oldValue: T(r.values),
            returns: T(r.returns),
            entropy: T(e),
          },
          c,
        ).loss.item(),
      );
    const lp = T(base.a).requiresGrad_();
    const v = T(base.v).requiresGrad_();
    const e = T(base.e).requiresGrad_();
    ppoLoss(
      {
        newLogprob: lp,
        oldLogprob: T(r.old_logprob),
        advantages: T(r.advantages),
        newValue: v,
        oldValue: T(r.values),
        returns: T(r.returns),
        entropy: e,
      },
      c,
    ).loss.backward();
    const h = 1e-6;
    const fd = (which, k) => {
      const bump = (s) => {
        const args = [base.a.slice(), base.v.slice(), base.e.slice()];
        args[which][k] += s;
        return lossOf(...args);
      };
      return (bump(h) - bump(-h)) / (2 * h);
    };
    [lp, v, e].forEach((t, which) =>
      t.grad.toArray().forEach((gk, k) => close(gk, fd(which, k), `grad ${which}[${k}]`, 1e-6)),
    );
  }));

test('explainedVariance is 1 − Var(R − V)/Var(R)', () => {
  close(explainedVariance([1, 2, 3], [1, 2, 3]), 1, 'perfect');
  close(explainedVariance([0, 0, 0], [1, 2, 3]), 0, 'constant prediction');
  assert.ok(Number.isNaN(explainedVariance([1, 2], [5, 5])));
});
