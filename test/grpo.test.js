// GRPO family objectives: advantages, the clipped surrogate with each loss_type normalisation,
// sequence-level ratios, k3 KL, clip metrics (against a scalar re-implementation) and gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';
import * as O from '../dist/objectives/index.js';

const T = (xs) => P.tensor(xs, { dtype: 'float64' });
const close = (a, b, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('group, batch and no scaling; RLOO', () => {
  const r = [1, 0, 0, 1, 1, 1];
  const a = O.groupAdvantages(r, 3, 'group');
  const s = Math.sqrt(((1 - 1 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2);
  close(a[0], (1 - 1 / 3) / (s + 1e-4));
  close(a[3], 0);
  assert.deepEqual(
    O.groupAdvantages(r, 3, 'none').map((x) => Math.round(x * 1e9) / 1e9),
    [0.666666667, -0.333333333, -0.333333333, 0, 0, 0],
  );
  const bs = O.groupAdvantages(r, 3, 'batch');
  close(bs[0], 2 / 3 / (Math.sqrt((4 * (1 / 3) ** 2 + 2 * (2 / 3) ** 2) / 5) + 1e-4));
  assert.deepEqual(O.rlooAdvantages([1, 0, 0, 3], 2), [1, -1, -3, 3]);
  assert.throws(() => O.groupAdvantages([1, 2, 3], 2), /do not split into groups of 2/);
});

const X = {
  logps: [
    [-1, -2, -0.7],
    [-0.5, -1, -3],
  ],
  old: [
    [-1.5, -2, -0.6],
    [-0.5, -0.2, -3],
  ],
  ref: [
    [-1.2, -1.8, -0.9],
    [-0.4, -1.1, -2],
  ],
  mask: [
    [1, 1, 0],
    [1, 1, 1],
  ],
  adv: [1.5, -0.8],
};

function scalarLoss(lossType, eps, epsHigh, beta, seq, maxLen) {
  const rows = X.logps.map((row, b) => {
    const m = X.mask[b];
    const n = Math.max(
      1,
      m.reduce((a, x) => a + x, 0),
    );
    const seqLR = row.reduce((a, l, t) => a + m[t] * (l - X.old[b][t]), 0) / n;
    return row.map((l, t) => {
      const r = Math.exp(seq ? seqLR : l - X.old[b][t]);
      const c = Math.min(Math.max(r, 1 - eps), 1 + epsHigh);
      let v = -Math.min(r * X.adv[b], c * X.adv[b]);
      const d = X.ref[b][t] - l;
      if (beta) v += beta * (Math.exp(d) - d - 1);
      return v * m[t];
    });
  });
  const tok = X.mask.flat().reduce((a, b) => a + b);
  const sum = rows.flat().reduce((a, b) => a + b);
  if (lossType === 'grpo')
    return (
      rows.map((r, b) => r.reduce((a, x) => a + x) / X.mask[b].reduce((a, x) => a + x)).reduce((a, b) => a + b) / 2
    );
  if (lossType === 'bnpo') return sum / tok;
  if (lossType === 'dr_grpo') return sum / (2 * maxLen);
  return sum / 7; // dapo with a global count of 7 active tokens
}

test('clipped surrogate, KL and normalisations match the formula', () =>
  P.scope(() => {
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'])
      for (const seq of [false, true])
        for (const beta of [0, 0.04]) {
          const out = O.grpoLoss(
            { logps: T(X.logps), oldLogps: T(X.old), refLogps: T(X.ref), advantages: T(X.adv), mask: T(X.mask) },
            {
              lossType,
              epsilon: 0.2,
              epsilonHigh: 0.28,
              beta,
              importanceSampling: seq ? 'sequence' : 'token',
              maxCompletionLength: 4,
              globalActiveTokens: 7,
            },
          );
          close(
            out.loss.item(),
            scalarLoss(lossType, 0.2, 0.28, beta, seq, 4),
            1e-9,
            `${lossType} seq=${seq} beta=${beta}`,
          );
        }
    const m = O.grpoLoss(
      { logps: T(X.logps), oldLogps: T(X.old), refLogps: T(X.ref), advantages: T(X.adv), mask: T(X.mask) },
      { lossType: 'grpo', epsilon: 0.2, beta: 0.1 },
    ).metrics;
    // ratios: row 0 (A>0): e^0.5 = 1.65 > 1.2 -> high-clipped; e^0 = 1; (t2 masked). row 1 (A<0): 1, e^-0.8 = 0.45 < 0.8 -> low-clipped, 1
    close(m['clip_ratio/high_mean'], 1 / 5);
    close(m['clip_ratio/low_mean'], 1 / 5);
    close(m['clip_ratio/region_mean'], 2 / 5);
    assert.ok(m.kl > 0);
    assert.throws(
      () =>
        O.grpoLoss(
          { logps: T(X.logps), oldLogps: T(X.old), advantages: T(X.adv), mask: T(X.mask) },
          { lossType: 'grpo', epsilon: 0.2, beta: 0.1 },
        ),
      /needs reference log-probs/,
    );
    assert.throws(
      () =>
        O.grpoLoss(
          { logps: T(X.logps), oldLogps: T(X.old), advantages: T(X.adv), mask: T(X.mask) },
          { lossType: 'ppo', epsilon: 0.2, beta: 0 },
        ),
      /unknown loss_type 'ppo'/,
    );
  }));

test('GRPO and Reg-GRPO gradients match finite differences', () =>
  P.scope(() => {
    const h = 1e-6;
    const check = (f, base) => {
      const x = T(base).requiresGrad_(true);
      f(x).backward();
      const g = x.grad.toArray();
      base.flat().forEach((_, j) => {
        const at = (d) =>
          P.noGrad(() => {
            const a = base.flat();
            a[j] += d;
            return f(
              P.tensor(a, { dtype: 'float64', shape: [base.length, base[0].length ?? 1] }).reshape(T(base).shape),
            ).item();
          });
        const num = (at(h) - at(-h)) / (2 * h);
        assert.ok(Math.abs(num - g[j]) < 1e-6 + 1e-5 * Math.abs(num), `d/dx[${j}]: ${g[j]} vs ${num}`);
      });
    };
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'])
      check(
        (lp) =>
          O.grpoLoss(
            { logps: lp, oldLogps: T(X.old), refLogps: T(X.ref), advantages: T(X.adv), mask: T(X.mask) },
            { lossType, epsilon: 0.2, epsilonHigh: 0.28, beta: 0.04, maxCompletionLength: 4 },
          ).loss,
        X.logps,
      );
    check(
      (lp) =>
        O.grpoLoss(
          { logps: lp, oldLogps: T(X.old), refLogps: T(X.ref), advantages: T(X.adv), mask: T(X.mask) },
          { lossType: 'grpo', epsilon: 0.2, beta: 0.04, importanceSampling: 'sequence' },
        ).loss,
      X.logps,
    );
    check(
      (s) =>
        O.regGrpoLoss(
          {
            seqLogps: s.view(-1),
            oldSeqLogps: T([-3, -2.5, -4, -1, -2, -2.2]),
            rewards: [1, 0, 1, 0, 0, 1],
            groupSize: 3,
            klPerSeq: s.view(-1).mul(0.01).square(),
          },
          { beta: 0.1 },
        ).loss,
      [[-2.9], [-2.4], [-4.3], [-0.8], [-2.1], [-2.0]],
    );
  }));

test('Reg-GRPO: zero loss when standardised log-ratios equal the standardised advantages', () =>
  P.scope(() => {
    const rewards = [1, 0, 0.5];
    const adv = O.groupAdvantages(rewards, 3);
    const old = T([-2, -2, -2]);
    const seq = old.add(T(adv).mul(0.3));
    const out = O.regGrpoLoss({ seqLogps: seq, oldSeqLogps: old, rewards, groupSize: 3 }, { beta: 0 });
    assert.ok(out.loss.item() < 1e-6, `loss ${out.loss.item()}`);
  }));
