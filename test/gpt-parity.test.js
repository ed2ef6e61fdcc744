// A tiny GPT: loss, every parameter's gradient, and the parameters after one and two AdamW steps
// against PyTorch (test/fixtures/make_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import { GPT } from '../dist/models/gpt.js';

test('tiny GPT loss, gradients and AdamW steps match PyTorch', () => {
  const cfg = JSON.parse(readFileSync(join(FIXTURES, 'gpt.json'), 'utf8'));
  const fx = P.keep(P.loadSafetensors(join(FIXTURES, 'gpt.safetensors')));
  const model = new GPT(cfg);
  const params = new Map([...fx].filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v]));
  model.loadStateDict(params);
  assert.equal(model.parameters().length, params.size);
  const opt = new P.AdamW(model.parameters(), {
    lr: cfg.lr,
    betas: cfg.betas,
    eps: cfg.eps,
    weightDecay: cfg.weight_decay,
  });
  const x = fx.get('x'),
    y = fx.get('y');

  const loss = P.scope(() => {
    const l = model.loss(x, y);
    l.backward();
    return l;
  });
  assertClose(loss, fx.get('loss').squeeze(), { rtol: 1e-6, what: 'loss' });
  let worst = 0;
  for (const [name, p] of model.namedParameters()) {
    const g = p.grad;
    assert.ok(g, `${name} has no gradient`);
    worst = Math.max(worst, assertClose(g, fx.get(`grad.${name}`), { rtol: 1e-5, what: `grad of ${name}` }));
  }
  opt.step();
  for (const [name, p] of model.namedParameters())
    assertClose(p, fx.get(`after.${name}`), { rtol: 1e-5, what: `${name} after 1 step` });
  opt.zeroGrad();
  const loss2 = P.scope(() => {
    const l = model.loss(x, y);
    l.backward();
    return l;
  });
  assertClose(loss2, fx.get('loss2').squeeze(), { rtol: 1e-5, what: 'loss after 1 step' });
  opt.step();
  for (const [name, p] of model.namedParameters())
    assertClose(p, fx.get(`after2.${name}`), { rtol: 1e-5, what: `${name} after 2 steps` });
  assert.ok(worst < 1e-5, `worst relative gradient error ${worst}`);
  model.dispose();
  opt.dispose();
});
