// Objectives against scalar re-implementations of TRL's formulas (hand-computed) and against
// finite-difference gradients (float64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';
import * as O from '../dist/objectives/index.js';

const sig = (x) => 1 / (1 + Math.exp(-x));
const logsig = (x) => -Math.log1p(Math.exp(-x));
const softplus = (x) => Math.log1p(Math.exp(x));
const close = (a, b, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const T = (xs) => P.tensor(xs, { dtype: 'float64' });

// A batch of 3 pairs: policy/ref summed log-probs and completion lengths.
const B = {
  pc: [-4.1, -7.3, -2.2],
  pr: [-5.0, -6.1, -3.9],
  rc: [-4.6, -7.0, -2.5],
  rr: [-4.4, -6.6, -3.1],
  lc: [3, 5, 2],
  lr: [4, 4, 3],
};

function refPair(t, i, beta, eps, f, alpha, ipo) {
  const n = (x, l) => (ipo ? x / l : x);
  const pc = n(B.pc[i], B.lc[i]),
    pr = n(B.pr[i], B.lr[i]),
    rc = n(B.rc[i], B.lc[i]),
    rr = n(B.rr[i], B.lr[i]);
  const cl = pc - rc,
    rl = pr - rr;
  let d;
  if (f === 'alpha_divergence' || f === 'forward_kl') {
    const a = f === 'forward_kl' ? 1 : alpha;
    d = (Math.exp(-a * rl) - Math.exp(-a * cl)) / a;
  } else {
    d = pc - pr - (rc - rr);
    if (f === 'js_divergence') d -= softplus(cl) - softplus(rl);
  }
  switch (t) {
    case 'sigmoid':
      return -(1 - eps) * logsig(beta * d) - eps * logsig(-beta * d);
    case 'robust':
      return (-(1 - eps) * logsig(beta * d) + eps * logsig(-beta * d)) / (1 - 2 * eps);
    case 'hinge':
      return Math.max(0, 1 - beta * d);
    case 'ipo':
      return (d - 1 / (2 * beta)) ** 2;
    case 'apo_zero':
      return 1 - sig(beta * cl) + sig(beta * rl);
    case 'apo_down':
      return sig(beta * cl) + (1 - sig(beta * (cl - rl)));
    case 'sppo_hard':
      return (cl - 0.5 / beta) ** 2 + (rl + 0.5 / beta) ** 2;
  }
}

function inputs() {
  return {
    policyChosen: T(B.pc),
    policyRejected: T(B.pr),
    refChosen: T(B.rc),
    refRejected: T(B.rr),
    chosenLengths: T(B.lc),
    rejectedLengths: T(B.lr),
  };
}

test('every DPO loss_type and f-divergence matches the formula', () =>
  P.scope(() => {
    for (const t of ['sigmoid', 'robust', 'hinge', 'ipo', 'apo_zero', 'apo_down', 'sppo_hard']) {
      for (const f of ['reverse_kl', 'js_divergence', 'alpha_divergence', 'forward_kl']) {
        const eps = t === 'sigmoid' || t === 'robust' ? 0.1 : 0;
        const cfg = { beta: 0.2, lossType: [t], labelSmoothing: eps, fDivergenceType: f, alphaDivergenceCoef: 0.5 };
        const got = O.dpoLoss(inputs(), cfg).loss.item();
        const want = [0, 1, 2].map((i) => refPair(t, i, 0.2, eps, f, 0.5, t === 'ipo')).reduce((a, b) => a + b) / 3;
        close(got, want, 1e-9, `${t}/${f}`);
      }
    }
  }));

test('DPO metrics carry TRL names and values', () =>
  P.scope(() => {
    const m = O.dpoLoss(inputs(), { beta: 0.1, lossType: ['sigmoid'] }).metrics;
    const cr = B.pc.map((x, i) => 0.1 * (x - B.rc[i])),
      rr = B.pr.map((x, i) => 0.1 * (x - B.rr[i]));
    const mean = (a) => a.reduce((x, y) => x + y) / a.length;
    close(m['rewards/chosen'], mean(cr));
    close(m['rewards/rejected'], mean(rr));
    close(m['rewards/margins'], mean(cr.map((c, i) => c - rr[i])));
    close(m['rewards/accuracies'], mean(cr.map((c, i) => (c > rr[i] ? 1 : 0))), 1e-6);
    close(m['logps/chosen'], mean(B.pc));
    close(m['logps/rejected'], mean(B.pr));
  }));

test('loss_weights, rpo_alpha, WPO weights, MADPO weights, reference-free', () =>
  P.scope(() => {
    const both = O.dpoLoss(inputs(), {
      beta: 0.2,
      lossType: ['sigmoid', 'hinge'],
      lossWeights: [0.7, 0.3],
    }).loss.item();
    const s = O.dpoLoss(inputs(), { beta: 0.2, lossType: ['sigmoid'] }).loss.item();
    const h = O.dpoLoss(inputs(), { beta: 0.2, lossType: ['hinge'] }).loss.item();
    close(both, 0.7 * s + 0.3 * h);
    const rpo = O.dpoLoss(
      { ...inputs(), chosenNll: T([1.5]).squeeze() },
      { beta: 0.2, lossType: ['sigmoid'], rpoAlpha: 0.5 },
    );
    close(rpo.loss.item(), s + 0.75);
    close(rpo.metrics.nll_loss, 1.5);
    const w = [0.2, 1, 0.5];
    const wpo = O.dpoLoss({ ...inputs(), policyWeights: T(w) }, { beta: 0.2, lossType: ['sigmoid'] }).loss.item();
    close(wpo, [0, 1, 2].map((i) => w[i] * refPair('sigmoid', i, 0.2, 0, 'reverse_kl')).reduce((a, b) => a + b) / 3);
    const margins = [2, -1, 0];
    const mad = O.dpoLoss(
      { ...inputs(), margins: T(margins) },
      { beta: 0.2, lossType: ['sigmoid'], madpoTemperature: 0.5 },
    );
    close(
      mad.loss.item(),
      [0, 1, 2]
        .map((i) => 2 * sig(-margins[i] / 0.5) * refPair('sigmoid', i, 0.2, 0, 'reverse_kl'))
        .reduce((a, b) => a + b) / 3,
    );
    const rf = O.dpoLoss(inputs(), { beta: 0.2, lossType: ['sigmoid'], referenceFree: true }).loss.item();
    close(rf, [0, 1, 2].map((i) => -logsig(0.2 * (B.pc[i] - B.pr[i]))).reduce((a, b) => a + b) / 3);
  }));

test('bco_pair uses the running mean of rewards, as TRL', () =>
  P.scope(() => {
    const rm = new O.RunningMoments();
    const l1 = O.dpoLoss(inputs(), { beta: 0.2, lossType: ['bco_pair'] }, rm).loss.item();
    const rewards = [...B.pc.map((x, i) => 0.2 * (x - B.rc[i])), ...B.pr.map((x, i) => 0.2 * (x - B.rr[i]))];
    const d = rewards.reduce((a, b) => a + b) / rewards.length; // first update: mean of the batch
    close(rm.mean, d, 1e-9, 'running mean');
    const want =
      [0, 1, 2].map((i) => -logsig(rewards[i] - d) - logsig(-(rewards[3 + i] - d))).reduce((a, b) => a + b) / 3;
    close(l1, want, 1e-9, 'bco_pair');
  }));

test('bad DPO settings are rejected with the key named', () => {
  assert.throws(() => O.validateDPOOptions({ beta: 0.1, lossType: ['sigmod'] }), /unknown loss_type 'sigmod'/);
  assert.throws(() => O.validateDPOOptions({ beta: 0, lossType: ['sigmoid'] }), /beta must be > 0/);
  assert.throws(
    () => O.validateDPOOptions({ beta: 0.1, lossType: ['sigmoid', 'ipo'], lossWeights: [1] }),
    /loss_weights has 1 entries/,
  );
  assert.throws(
    () => O.validateDPOOptions({ beta: 0.1, lossType: ['hinge'], labelSmoothing: 0.1 }),
    /label_smoothing applies/,
  );
  assert.throws(
    () => O.validateDPOOptions({ beta: 0.1, lossType: ['sigmoid'], fDivergenceType: 'kl' }),
    /unknown f_divergence_type 'kl'/,
  );
});

test('KTO, ORPO, CPO/SimPO and the reward loss match their formulas', () =>
  P.scope(() => {
    const pol = [-3, -5, -2, -6],
      ref = [-3.5, -4.5, -2.5, -5],
      lab = [true, false, true, false];
    const pkl = [-4, -4, -5, -3],
      rkl = [-4.2, -4.1, -4.6, -3.3];
    const kl = Math.max(0, pkl.reduce((a, x, i) => a + x - rkl[i], 0) / 4);
    const k = O.ktoLoss(
      { policy: T(pol), ref: T(ref), label: lab, policyKL: T(pkl), refKL: T(rkl) },
      { beta: 0.3, desirableWeight: 1.5, undesirableWeight: 0.8 },
    );
    const per = pol.map((p, i) =>
      lab[i] ? 1.5 * (1 - sig(0.3 * (p - ref[i] - kl))) : 0.8 * (1 - sig(0.3 * (kl - (p - ref[i])))),
    );
    close(k.loss.item(), per.reduce((a, b) => a + b) / 4, 1e-9, 'kto');
    close(k.metrics.kl, kl);
    const lw = [-0.5, -1.2],
      ll = [-0.9, -0.7],
      nll = 0.8;
    const o = O.orpoLoss({ chosenMean: T(lw), rejectedMean: T(ll), chosenNll: T([nll]).squeeze() }, { beta: 0.25 });
    const lo = lw.map((w, i) => w - ll[i] - (Math.log1p(-Math.exp(w)) - Math.log1p(-Math.exp(ll[i]))));
    close(o.loss.item(), nll - (0.25 * lo.map(logsig).reduce((a, b) => a + b)) / 2, 1e-9, 'orpo');
    const c = O.cpoLoss(
      { chosen: T(lw), rejected: T(ll), chosenNll: T([nll]).squeeze() },
      { beta: 2, lossType: 'simpo', simpoGamma: 0.5, cpoAlpha: 0 },
    );
    close(c.loss.item(), lw.map((w, i) => -logsig(2 * (w - ll[i] - 0.25))).reduce((a, b) => a + b) / 2, 1e-9, 'simpo');
    const c2 = O.cpoLoss(
      { chosen: T(lw), rejected: T(ll), chosenNll: T([nll]).squeeze() },
      { beta: 0.1, lossType: 'sigmoid', labelSmoothing: 0.1 },
    );
    close(
      c2.loss.item(),
      lw.map((w, i) => -0.9 * logsig(0.1 * (w - ll[i])) - 0.1 * logsig(-0.1 * (w - ll[i]))).reduce((a, b) => a + b) /
        2 +
        nll,
      1e-9,
      'cpo',
    );
    const rc = [1.2, -0.3],
      rr = [0.2, 0.5],
      mg = [0.5, 0.1];
    const r = O.rewardLoss(T(rc), T(rr), { margin: T(mg), centerRewardsCoefficient: 0.01 });
    close(
      r.loss.item(),
      rc.map((x, i) => -logsig(x - rr[i] - mg[i])).reduce((a, b) => a + b) / 2 +
        (0.01 * rc.map((x, i) => (x + rr[i]) ** 2).reduce((a, b) => a + b)) / 2,
      1e-9,
      'reward',
    );
    close(r.metrics['rewards/accuracies'], 0.5);
  }));

/** Autograd vs central finite differences for every input element (float64). */
function checkGrads(name, make, fn) {
  const ins = make().map((t) => t.requiresGrad_(true));
  fn(ins).backward();
  const h = 1e-6;
  ins.forEach((x, k) => {
    const g = x.grad.toArray();
    const base = x.detach().toArray();
    base.forEach((_, j) => {
      const at = (d) =>
        P.scope(() =>
          P.noGrad(() => {
            const vals = make();
            const arr = vals[k].toArray();
            arr[j] += d;
            vals[k] = P.tensor(arr, { dtype: 'float64', shape: vals[k].shape });
            return fn(vals).item();
          }),
        );
      const num = (at(h) - at(-h)) / (2 * h);
      assert.ok(
        Math.abs(num - g[j]) <= 1e-6 + 1e-5 * Math.abs(num),
        `${name}: d/d input${k}[${j}] autograd ${g[j]} vs numeric ${num}`,
      );
    });
  });
}

test('gradients match finite differences', () =>
  P.scope(() => {
    const pairs = () => [T(B.pc), T(B.pr), T(B.rc), T(B.rr)];
    for (const t of ['sigmoid', 'robust', 'hinge', 'ipo', 'apo_zero', 'apo_down', 'sppo_hard']) {
      for (const f of ['reverse_kl', 'js_divergence', 'alpha_divergence']) {
        checkGrads(
          `dpo ${t}/${f}`,
          pairs,
          ([a, b, c, d]) =>
            O.dpoLoss(
              {
                policyChosen: a,
                policyRejected: b,
                refChosen: c,
                refRejected: d,
                chosenLengths: T(B.lc),
                rejectedLengths: T(B.lr),
              },
              {
                beta: 0.3,
                lossType: [t],
                labelSmoothing: t === 'robust' ? 0.2 : 0,
                fDivergenceType: f,
                alphaDivergenceCoef: 0.7,
              },
            ).loss,
        );
      }
    }
    checkGrads(
      'kto',
      () => [T([-3, -5, -2]), T([-3.5, -4, -2.5])],
      ([p, r]) =>
        O.ktoLoss(
          { policy: p, ref: r, label: [true, false, true], policyKL: T([-4, -4, -5]), refKL: T([-4.5, -4.5, -4.6]) },
          { beta: 0.4 },
        ).loss,
    );
    checkGrads(
      'orpo',
      () => [T([-0.5, -1.2]), T([-0.9, -0.7])],
      ([w, l]) => O.orpoLoss({ chosenMean: w, rejectedMean: l, chosenNll: w.mean().neg() }, { beta: 0.3 }).loss,
    );
    for (const lt of ['sigmoid', 'hinge', 'ipo', 'simpo'])
      checkGrads(
        `cpo ${lt}`,
        () => [T([-0.5, -1.2]), T([-0.9, -0.7])],
        ([w, l]) => O.cpoLoss({ chosen: w, rejected: l, chosenNll: w.mean().neg() }, { beta: 0.5, lossType: lt }).loss,
      );
    checkGrads(
      'reward',
      () => [T([1.2, -0.3]), T([0.2, 0.5])],
      ([c, r]) => O.rewardLoss(c, r, { margin: T([0.5, 0.1]), centerRewardsCoefficient: 0.05 }).loss,
    );
    checkGrads(
      'sft',
      () => [
        T([
          [
            [0.1, -0.3, 0.7],
            [0.5, 0.2, -0.1],
          ],
        ]),
      ],
      ([lg]) => O.sftLoss(lg, P.tensor([[2, -100]], { dtype: 'int64' })).loss,
    );
  }));
