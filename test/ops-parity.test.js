// Every op's forward value and input gradients against PyTorch (test/fixtures/make_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';

const F = P.F;
const CASES = {
  add_bcast: (a, b) => a.add(b),
  sub_bcast: (a, b) => a.sub(b),
  mul_bcast: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  add_scalar_alpha: (a, b) => a.add(b, 0.5).add(2.0),
  pow_scalar: (a) => a.pow(2.5),
  pow_tensor: (a, b) => a.pow(b),
  exp: (a) => a.exp(),
  log: (a) => a.log(),
  log1p: (a) => a.log1p(),
  sqrt: (a) => a.sqrt(),
  rsqrt: (a) => a.rsqrt(),
  tanh: (a) => a.tanh(),
  sigmoid: (a) => a.sigmoid(),
  logsigmoid: (a) => a.logsigmoid(),
  softplus: (a) => a.softplus(2.0, 10.0),
  relu: (a) => a.relu(),
  gelu_tanh: (a) => a.gelu('tanh'),
  gelu_erf: (a) => a.gelu(),
  silu: (a) => a.silu(),
  clamp: (a) => a.clamp(-0.5, 0.5),
  abs: (a) => a.abs(),
  minimum: (a, b) => a.minimum(b),
  maximum: (a, b) => a.maximum(b),
  where: (c, a, b) => P.where(c.gt(0), a, b),
  masked_fill: (a, m) => a.maskedFill(m.gt(0), -1.5),
  sum_dim: (a) => a.sum(1, true),
  sum_all: (a) => a.sum(),
  mean_dims: (a) => a.mean([0, 2]),
  max_dim: (a) => a.max(1)[0],
  min_dim: (a) => a.min(0)[0],
  logsumexp: (a) => a.logsumexp(1),
  var: (a) => a.var(1),
  std: (a) => a.std(1, false),
  cumsum: (a) => a.cumsum(1),
  norm: (a) => a.norm(2, 1),
  topk: (a) => a.topk(2, 1)[0],
  sort: (a) => a.sort(1, true)[0],
  matmul_3d_2d: (a, b) => a.matmul(b),
  bmm: (a, b) => a.bmm(b),
  baddbmm: (c, a, b) => F.baddbmm(c, a, b, 0.5, 2.0),
  linear: (x, w, b) => F.linear(x, w, b),
  softmax: (a) => a.softmax(-1),
  log_softmax: (a) => a.logSoftmax(0),
  layer_norm: (a, w, b) => F.layerNorm(a, [6], w, b, 1e-5),
  rms_norm: (a, w) => F.rmsNorm(a, w, 1e-6),
  embedding: (w, i) => F.embedding(w, i),
  cross_entropy: (a, t) => F.crossEntropy(a, t, { ignoreIndex: -100 }),
  cross_entropy_sum_ls: (a, t) => F.crossEntropy(a, t, { reduction: 'sum', labelSmoothing: 0.1 }),
  cross_entropy_none: (a, t) => F.crossEntropy(a, t, { reduction: 'none' }),
  reshape_permute: (a) => a.reshape(6, 4).T.reshape(2, 2, 6).permute(2, 0, 1),
  transpose: (a) => a.transpose(0, 2).contiguous(),
  narrow: (a) => a.narrow(1, 1, 3),
  slice_step: (a) => a.slice(0, 1, 6, 2),
  index_select: (a, i) => a.indexSelect(0, i),
  gather: (a, i) => a.gather(1, i),
  scatter_add: (a, s, i) => a.scatterAdd(1, i, s),
  expand: (a) => a.expand(3, 4).mul(1.0),
  cat: (a, b) => P.cat([a, b], 0),
  stack: (a, b) => P.stack([a, b], 1),
  split: (a) => a.split([2, 3], 0)[1].mul(2.0),
  chunk: (a) => a.chunk(3, 0)[2],
  tril: (a) => a.tril(),
  triu: (a) => a.triu(1),
  squeeze_unsqueeze: (a) => a.squeeze(1).unsqueeze(0),
  nonleaf_chain: (a) => a.mul(2).exp().mul(a).sum(1),
  compare: (a, b) => P.stack([a.gt(b), a.lt(b), a.ge(b), a.le(b), a.eq(a), a.ne(b)]).float(),
  sign: (a) => a.sign().detach(),
  argmax: (a) => a.argmax(1),
  argmin_keepdim: (a) => a.argmin(0, true),
};

const fx = P.keep(P.loadSafetensors(join(FIXTURES, 'ops.safetensors')));

test('every fixture case has a pacer implementation and vice versa', () => {
  const names = new Set([...fx.keys()].map((k) => k.split('.')[0]));
  assert.deepEqual([...names].sort(), Object.keys(CASES).sort());
});

for (const [name, fn] of Object.entries(CASES)) {
  test(`op parity: ${name} (forward and gradients vs PyTorch)`, () => {
    P.scope(() => {
      const ins = [];
      for (let i = 0; fx.has(`${name}.in${i}`); i++) {
        const t = fx.get(`${name}.in${i}`).clone();
        if (t.dtype === 'float32') t.requiresGrad_(true);
        ins.push(t);
      }
      const out = fn(...ins);
      assertClose(out, fx.get(`${name}.out`), { what: `${name} output` });
      assert.equal(out.dtype, fx.get(`${name}.out`).dtype, `${name} output dtype`);
      const wantsGrad = ins.some((_, i) => fx.has(`${name}.grad${i}`));
      assert.equal(out.requiresGrad, wantsGrad, `${name}: output requiresGrad should be ${wantsGrad}`);
      if (!wantsGrad) return;
      out
        .mul(fx.get(`${name}.w`))
        .sum()
        .backward();
      ins.forEach((t, i) => {
        const want = fx.get(`${name}.grad${i}`);
        if (!want) return;
        assert.ok(t.grad, `${name}: input ${i} has no gradient`);
        assertClose(t.grad, want, { what: `${name} grad of input ${i}` });
      });
    });
  });
}
