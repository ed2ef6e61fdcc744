// nn modules and state dicts; SGD, clipping, accumulation, schedules and optimizer state
// checkpoints (AdamW's update is checked against PyTorch in gpt-parity.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';
import { GPT } from '../dist/models/gpt.js';

test('state dicts use HF-style dotted names and load strictly', () => {
  const m = new GPT({ vocab_size: 11, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 });
  const names = [...m.stateDict().keys()];
  assert.ok(names.includes('transformer.h.1.attn.c_attn.weight'));
  assert.ok(names.includes('transformer.ln_f.bias'));
  assert.ok(names.includes('transformer.wpe.weight'));
  assert.equal(names.filter((n) => n.includes('lm_head')).length, 0, 'the LM head is tied to wte');
  assert.equal(
    m.numParameters(),
    11 * 8 + 8 * 8 + 2 * (2 * 8 + 8 * 24 + 24 + 8 * 8 + 8 + 2 * 8 + 8 * 32 + 32 + 32 * 8 + 8) + 2 * 8,
  );
  const m2 = new GPT({ vocab_size: 11, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 });
  m2.loadStateDict(m.stateDict());
  P.scope(() =>
    assert.deepEqual(
      m2.forward({ ids: P.tensor([[1, 2, 3]], { dtype: 'int64' }) }).tolist(),
      m.forward({ ids: P.tensor([[1, 2, 3]], { dtype: 'int64' }) }).tolist(),
    ),
  );
  const partial = new Map([...m.stateDict()].slice(1));
  assert.throws(() => m2.loadStateDict(partial), /missing keys \[transformer\.wte\.weight\]/);
  const wrong = new Map(m.stateDict());
  P.scope(() => {
    wrong.set('transformer.ln_f.bias', P.zeros([3]));
    assert.throws(
      () => m2.loadStateDict(wrong),
      /'transformer\.ln_f\.bias' has shape \[3\] in the state dict but \[8\] in the model/,
    );
  });
  m.dispose();
  m2.dispose();
});

test('RMSNorm, LayerNorm and Embedding modules', () =>
  P.scope(() => {
    const x = P.tensor([[3, 4]], { dtype: 'float32' });
    const rms = new P.RMSNorm(2, 0);
    assert.ok(Math.abs(rms.forward(x).tolist()[0][0] - 3 / Math.sqrt(12.5)) < 1e-6);
    const ln = new P.LayerNorm(2, 0);
    assert.deepEqual(ln.forward(x).tolist(), [[-1, 1]]);
    const e = new P.Embedding(5, 3);
    assert.deepEqual(e.forward(P.tensor([[4, 0]], { dtype: 'int64' })).shape, [1, 2, 3]);
    assert.equal(new P.LayerNorm(4, 1e-5, { bias: false }).parameters().length, 1);
    assert.throws(() => new GPT({ vocab_size: 5, n_positions: 4, n_embd: 6, n_layer: 1, n_head: 4 }), /divisible/);
  }));

test('SGD with momentum and Nesterov follows torch.optim.SGD (hand-computed)', () =>
  P.scope(() => {
    const p = P.keep(P.tensor([1.0, 2.0], { requiresGrad: true }));
    const opt = new P.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true });
    // step 1: d = g + wd p = [1.01, 1.02]; buf = d; d' = d + 0.9 buf = 1.9 d; p -= 0.1 d'
    p.grad = P.ones([2]);
    opt.step();
    const d1 = [1.01, 1.02];
    const p1 = [1 - 0.1 * 1.9 * d1[0], 2 - 0.1 * 1.9 * d1[1]];
    p.tolist().forEach((v, i) => assert.ok(Math.abs(v - p1[i]) < 1e-6));
    // step 2: d = 1 + wd p1; buf = 0.9 buf + d; d' = d + 0.9 buf
    p.grad = P.ones([2]);
    opt.step();
    p.tolist().forEach((v, i) => {
      const d = 1 + 0.01 * p1[i];
      const buf = 0.9 * d1[i] + d;
      assert.ok(Math.abs(v - (p1[i] - 0.1 * (d + 0.9 * buf))) < 1e-6);
    });
    p.dispose();
    opt.dispose();
  }));

test('clipGradNorm scales to the global norm and returns it', () =>
  P.scope(() => {
    const a = P.keep(P.zeros([2], { requiresGrad: true }));
    const b = P.keep(P.zeros([1], { requiresGrad: true }));
    a.grad = P.tensor([3.0, 0.0]);
    b.grad = P.tensor([4.0]);
    assert.equal(P.clipGradNorm([a, b], 1.0), 5);
    assert.ok(Math.abs(a.grad.tolist()[0] - 0.6) < 1e-5);
    assert.ok(Math.abs(b.grad.tolist()[0] - 0.8) < 1e-5);
    assert.ok(Math.abs(P.clipGradNorm([a, b], 10) - 1) < 1e-5, 'no scaling under the limit');
    b.grad = P.tensor([NaN]);
    assert.ok(Number.isNaN(P.clipGradNorm([a, b], 1.0)));
    assert.equal(P.gradsAreFinite([a, b]), false);
    a.dispose();
    b.dispose();
  }));

test('gradient accumulation over micro-batches equals the full-batch gradient', () =>
  P.scope(() => {
    P.manualSeed(0);
    const lin = new P.Linear(4, 3);
    const x = P.randn([8, 4]);
    const y = P.randint(0, 3, [8]);
    P.F.crossEntropy(lin.forward(x), y).backward();
    const full = lin.weight.grad.clone();
    lin.zeroGrad();
    const acc = new P.GradientAccumulation(4);
    const steps = [];
    for (let i = 0; i < 4; i++)
      steps.push(acc.backward(P.F.crossEntropy(lin.forward(x.narrow(0, 2 * i, 2)), y.narrow(0, 2 * i, 2))));
    assert.deepEqual(steps, [false, false, false, true]);
    const a = lin.weight.grad.toArray(),
      b = full.toArray();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6));
    lin.dispose();
  }));

test('schedules: constant, linear and cosine with warmup (HF formulas)', () => {
  assert.equal(P.lrLambda('constant', 5, 2, 10), 1);
  assert.equal(P.lrLambda('linear', 1, 4, 10), 0.25);
  assert.equal(P.lrLambda('linear', 4, 4, 10), 1);
  assert.ok(Math.abs(P.lrLambda('linear', 7, 4, 10) - 0.5) < 1e-12);
  assert.equal(P.lrLambda('linear', 12, 4, 10), 0);
  assert.ok(Math.abs(P.lrLambda('cosine', 7, 4, 10) - 0.5) < 1e-12);
  assert.ok(Math.abs(P.lrLambda('cosine', 10, 4, 10)) < 1e-12);
  assert.equal(P.lrLambda('constant_with_warmup', 1, 2, 10), 0.5);
  assert.throws(() => P.lrLambda('step', 1, 0, 10), /unknown lr_scheduler_type 'step'/);
  const p = P.keep(P.zeros([1], { requiresGrad: true }));
  const opt = new P.SGD([p], { lr: 0.5 });
  const s = new P.LRScheduler(opt, 'linear', 2, 4);
  const lrs = [opt.lr];
  for (let i = 0; i < 4; i++) {
    s.step();
    lrs.push(opt.lr);
  }
  assert.deepEqual(lrs, [0, 0.25, 0.5, 0.25, 0]);
  p.dispose();
});

test('weight-decay masks: biases and norms get no decay', () => {
  const m = new GPT({ vocab_size: 7, n_positions: 4, n_embd: 4, n_layer: 1, n_head: 1 });
  const groups = P.decayGroups(m, 0.1);
  assert.equal(groups.length, 2);
  assert.equal(groups[1].weightDecay, 0);
  assert.ok(groups[0].names.every((n) => n.endsWith('weight') && !n.includes('ln_')));
  assert.ok(groups[1].names.every((n) => n.endsWith('bias') || n.includes('ln_')));
  const opt = new P.AdamW(groups, { weightDecay: 0.5 });
  assert.equal(opt.groups[0].options.weightDecay, 0.1);
  assert.equal(opt.groups[1].options.weightDecay, 0);
  m.dispose();
});

test('optimizer and scheduler state round-trip: a resumed run continues bit-identically', () => {
  const make = () => {
    P.manualSeed(1);
    const lin = new P.Linear(3, 2);
    const opt = new P.AdamW(lin.parameters(), { lr: 0.05 });
    const sched = new P.LRScheduler(opt, 'cosine', 1, 6);
    return { lin, opt, sched };
  };
  const x = P.keep(
    P.tensor(
      [
        [1, 2, 3],
        [0.5, -1, 2],
      ],
      { dtype: 'float32' },
    ),
  );
  const step = ({ lin, opt, sched }) =>
    P.scope(() => {
      opt.zeroGrad();
      const l = lin.forward(x).square().mean();
      l.backward();
      opt.step();
      sched.step();
      return l.item();
    });
  const a = make();
  const curveA = [];
  for (let i = 0; i < 6; i++) curveA.push(step(a));
  const b = make();
  const curveB = [];
  for (let i = 0; i < 3; i++) curveB.push(step(b));
  const saved = {
    model: new Map([...b.lin.stateDict()].map(([k, v]) => [k, P.keep(v.clone())])),
    opt: b.opt.stateDict(),
    sched: b.sched.stateDict(),
  };
  const c = make();
  c.lin.loadStateDict(saved.model);
  c.opt.loadStateDict(saved.opt);
  c.sched.loadStateDict(saved.sched);
  for (let i = 0; i < 3; i++) curveB.push(step(c));
  assert.deepEqual(curveB, curveA);
  x.dispose();
});
