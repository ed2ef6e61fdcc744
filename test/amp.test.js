// Mixed precision on CPU (libtorch 1.13's CPU autocast is bfloat16): autocast regions against
// PyTorch's own torch.autocast('cpu', bfloat16) on the same small network (loss and float32 gradients
// of float32 weights); the region's state is restored after errors and awaits; GradScaler's update
// rule against hand-computed steps; bf16: true trains with float32 master weights; fused AdamW is
// refused, naming the libtorch, where the build has no kernel. The CUDA side is test/gpu.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, P } from './helpers.js';
import { resolveConfig, train } from '../dist/trainers/index.js';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

test('autocast: bfloat16 inside the region, float32 after it (also after a throw and an await)', async () => {
  P.scope(() => {
    const x = P.randn([2, 3]);
    const w = P.randn([4, 3]);
    assert.equal(P.F.linear(x, w).dtype, 'float32');
    assert.equal(
      P.autocast('cpu', 'bfloat16', () => P.F.linear(x, w).dtype),
      'bfloat16',
    );
    assert.equal(P.F.linear(x, w).dtype, 'float32');
    assert.throws(() =>
      P.autocast('cpu', 'bfloat16', () => {
        throw new Error('inside');
      }),
    );
    assert.equal(P.F.linear(x, w).dtype, 'float32');
    // nested regions: the inner end leaves the outer one on
    P.autocast('cpu', 'bfloat16', () => {
      P.autocast('cpu', 'bfloat16', () => {});
      assert.equal(P.F.linear(x, w).dtype, 'bfloat16');
    });
    assert.equal(P.F.linear(x, w).dtype, 'float32');
  });
  const d = await P.autocast('cpu', 'bfloat16', async () => {
    await new Promise((r) => setTimeout(r, 1));
    return P.scope(() => P.F.linear(P.randn([1, 2]), P.randn([2, 2])).dtype);
  });
  assert.equal(d, 'bfloat16');
  assert.equal(
    P.scope(() => P.F.linear(P.randn([1, 2]), P.randn([2, 2])).dtype),
    'float32',
  );
  assert.throws(() => P.autocast('mps', 'bfloat16', () => 0), /autocast knows cpu and cuda/);
});

test('autocast matches torch.autocast on CPU: loss and float32 gradients', {
  skip: !hasTorch && 'needs python3-torch',
}, () => {
  // a two-layer network with fixed inputs: linear -> gelu -> linear -> cross-entropy
  const r = (n, s) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 0.5);
  const data = { x: r(4 * 8, 1), w1: r(16 * 8, 2), b1: r(16, 3), w2: r(3 * 16, 4), b2: r(3, 5), y: [0, 2, 1, 2] };
  const py = `
import json, sys, torch
import torch.nn.functional as F
d = json.loads(sys.argv[1])
x = torch.tensor(d["x"]).view(4, 8)
w1 = torch.tensor(d["w1"]).view(16, 8).requires_grad_()
b1 = torch.tensor(d["b1"]).requires_grad_()
w2 = torch.tensor(d["w2"]).view(3, 16).requires_grad_()
b2 = torch.tensor(d["b2"]).requires_grad_()
with torch.autocast("cpu", dtype=torch.bfloat16):
    h = F.gelu(F.linear(x, w1, b1))
    logits = F.linear(h, w2, b2)
    loss = F.cross_entropy(logits, torch.tensor(d["y"]))
loss.backward()
print(json.dumps({"loss": loss.item(), "dtypes": [str(h.dtype), str(logits.dtype), str(loss.dtype), str(w1.grad.dtype)],
  "g1": w1.grad.flatten().tolist(), "g2": w2.grad.flatten().tolist(), "gb2": b2.grad.tolist()}))`;
  const ref = spawnSync('/usr/bin/python3', ['-c', py, JSON.stringify(data)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(ref.status, 0, ref.stderr);
  const want = JSON.parse(ref.stdout);
  P.scope(() => {
    const x = P.tensor(data.x).view(4, 8);
    const [w1, b1, w2, b2] = [
      P.tensor(data.w1).view(16, 8),
      P.tensor(data.b1),
      P.tensor(data.w2).view(3, 16),
      P.tensor(data.b2),
    ].map((t) => t.requiresGrad_(true));
    const { loss, dtypes } = P.autocast('cpu', 'bfloat16', () => {
      const h = P.F.linear(x, w1, b1).gelu();
      const logits = P.F.linear(h, w2, b2);
      const l = P.F.crossEntropy(logits, P.tensor(data.y, { dtype: 'int64' }));
      return { loss: l, dtypes: [h.dtype, logits.dtype, l.dtype] };
    });
    loss.backward();
    assert.deepEqual(dtypes, ['bfloat16', 'bfloat16', 'float32']);
    assert.deepEqual(want.dtypes, ['torch.bfloat16', 'torch.bfloat16', 'torch.float32', 'torch.float32']);
    assert.equal(w1.grad.dtype, 'float32');
    // the same libtorch kernels in the same order: equal up to float32 rounding of the last ops
    assert.ok(Math.abs(loss.item() - want.loss) <= 1e-6 * Math.abs(want.loss), `${loss.item()} vs ${want.loss}`);
    for (const [got, exp, name] of [
      [w1.grad, want.g1, 'w1'],
      [w2.grad, want.g2, 'w2'],
      [b2.grad, want.gb2, 'b2'],
    ]) {
      const g = got.toArray();
      const scale = Math.max(...exp.map(Math.abs));
      g.forEach((v, i) => assert.ok(Math.abs(v - exp[i]) <= 1e-5 * scale, `${name}[${i}]: ${v} vs ${exp[i]}`));
    }
  });
});

test('GradScaler: scaled backward, unscaled step, Inf skips the step and halves the scale, growth', () => {
  P.scope(() => {
    const w = P.tensor([1, 2]).requiresGrad_(true);
    const c = P.tensor([3, 4]);
    const opt = new P.SGD([w], { lr: 0.1 });
    const s = new P.GradScaler({ initScale: 8, growthInterval: 2 });
    const stepWith = (k) => {
      opt.zeroGrad();
      s.scaleLoss(w.mul(c).sum().mul(k)).backward();
      s.step(opt, [w]);
    };
    stepWith(1); // grad c·8 before unscaling; w -= 0.1·c
    assert.deepEqual(w.detach().toArray(), [1 - 0.3, 2 - 0.4].map(Math.fround));
    assert.equal(s.scale, 8);
    stepWith(1); // the second clean step: the scale doubles
    assert.equal(s.scale, 16);
    const before = w.detach().toArray();
    stepWith(Number.POSITIVE_INFINITY); // Inf gradients: no update, scale halved
    assert.equal(s.foundInf, true);
    assert.deepEqual(w.detach().toArray(), before);
    assert.equal(s.scale, 8);
    stepWith(1); // the growth count restarted at the Inf
    assert.equal(s.scale, 8);
  });
});

test('bf16: true trains under autocast with float32 master weights, close to a float32 run', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-amp-'));
  try {
    writeFileSync(
      join(d, 'pref.jsonl'),
      Array.from({ length: 8 }, (_, i) =>
        JSON.stringify({ prompt: `${i}+${i}=`, chosen: `${2 * i}`, rejected: `${2 * i + 1}` }),
      ).join('\n'),
    );
    const cfg = (out, extra) =>
      resolveConfig(
        {
          trainer: 'dpo',
          model_name_or_path: join(FIXTURES, 'models', 'llama'),
          train_dataset: join(d, 'pref.jsonl'),
          output_dir: join(d, out),
          per_device_train_batch_size: 4,
          max_steps: 3,
          logging_steps: 1,
          threads: 1,
          learning_rate: 1e-3,
          report: false,
          ...extra,
        },
        'test',
        d,
      );
    const a = await train(cfg('fp32', {}), { progress: false, log: () => {} });
    const b = await train(cfg('bf16', { bf16: true }), { progress: false, log: () => {} });
    a.history.forEach((m, i) => {
      const x = b.history[i];
      assert.ok(Number.isFinite(x.loss));
      // bfloat16 matmuls (8 mantissa bits, relative error ~4e-3 per product) in the logits
      assert.ok(Math.abs(x.loss - m.loss) <= 0.05 * m.loss, `step ${m.step}: ${x.loss} vs ${m.loss}`);
    });
    assert.notEqual(b.history[0]['logps/chosen'], a.history[0]['logps/chosen'], 'the bf16 run computed in bf16');
    P.scope(() => {
      for (const [k, t] of P.loadSafetensors(join(d, 'bf16', 'model.safetensors'))) assert.equal(t.dtype, 'float32', k);
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('fused AdamW: refused where libtorch has no kernel, else the same update as the plain one', () => {
  P.scope(() => {
    const w = P.randn([3, 4]).requiresGrad_(true);
    if (!P.hasFusedAdamW()) {
      assert.throws(
        () => new P.AdamW([w], { fused: true }),
        /fused AdamW needs libtorch's _fused_adamw_ kernel.*1\.13/,
      );
      return;
    }
    const v = w.detach().clone().requiresGrad_(true);
    const [f, p] = [new P.AdamW([w], { fused: true, weightDecay: 0.1 }), new P.AdamW([v], { weightDecay: 0.1 })];
    for (let i = 0; i < 3; i++)
      for (const [x, o] of [
        [w, f],
        [v, p],
      ]) {
        o.zeroGrad();
        x.mul(x).sum().backward();
        o.step();
      }
    const [a, b] = [w.detach().toArray(), v.detach().toArray()];
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6, `${x} vs ${b[i]}`));
  });
});

test('Module.to moves nothing that is already there and keeps requiresGrad', () => {
  const m = new P.Linear(3, 2);
  const before = m.weight;
  assert.equal(m.to('cpu'), m);
  assert.equal(m.weight, before);
  assert.equal(m.weight.requiresGrad, true);
});
