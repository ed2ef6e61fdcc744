// The CUDA path, for a CUDA build of the addon on a GPU machine (scripts/gpu-check.sh runs this file;
// without a CUDA device every test here is skipped and says so). A GPT training step on the GPU
// against the same step on the CPU (fp32: loss and every gradient); autocast in bfloat16 and float16
// with float32 master weights and gradients; a GradScaler step; the fused AdamW kernel against the
// plain update; a one-rank NCCL group's collectives on CUDA tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P } from './helpers.js';
import { GPT } from '../dist/models/gpt.js';
import { freePort } from '../dist/cli/launcher.js';

const cuda = P.buildInfo().cuda;
const skip = !cuda && 'needs a CUDA build of the addon and a CUDA device (scripts/gpu-check.sh)';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A small GPT, its CPU copy moved to `device`, and one batch. */
function gptPair(device) {
  P.manualSeed(0);
  const cfg = { vocab_size: 64, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4 };
  const cpu = new GPT(cfg);
  const dev = new GPT(cfg);
  dev.loadStateDict(cpu.stateDict());
  dev.to(device);
  const data = P.randint(0, 64, [4, 17], { generator: new P.Generator(1) });
  return { cpu, dev, x: data.narrow(1, 0, 16), y: data.narrow(1, 1, 16) };
}

test('a GPT training step on CUDA equals the CPU step (fp32 loss and gradients)', { skip }, () => {
  P.scope(() => {
    const { cpu, dev, x, y } = gptPair('cuda');
    const l1 = cpu.loss(x, y);
    l1.backward();
    const l2 = dev.loss(x.to('cuda'), y.to('cuda'));
    l2.backward();
    assert.ok(Math.abs(l1.item() - l2.item()) <= 1e-5 * l1.item());
    const a = [...cpu.namedParameters()];
    const b = new Map(dev.namedParameters());
    for (const [n, p] of a) {
      const g1 = p.grad.toArray();
      const g2 = b.get(n).grad.to('cpu').toArray();
      const scale = Math.max(1e-12, ...g1.map(Math.abs));
      g1.forEach((v, i) => assert.ok(Math.abs(v - g2[i]) <= 1e-4 * scale, `${n}[${i}]`));
    }
  });
});

for (const dtype of ['bfloat16', 'float16'])
  test(`autocast ${dtype} on CUDA: low-precision activations, float32 weights and gradients`, { skip }, () => {
    P.scope(() => {
      const { cpu, dev, x, y } = gptPair('cuda');
      const ref = cpu.loss(x, y).item();
      const l = P.autocast('cuda', dtype, () => dev.loss(x.to('cuda'), y.to('cuda')));
      l.backward();
      assert.ok(Math.abs(l.item() - ref) <= 2e-2 * ref, `${l.item()} vs ${ref}`);
      for (const p of dev.parameters()) {
        assert.equal(p.dtype, 'float32');
        assert.equal(p.grad.dtype, 'float32');
      }
    });
  });

test('GradScaler with float16 autocast: a clean step updates, the scale stays', { skip }, () => {
  P.scope(() => {
    const { dev, x, y } = gptPair('cuda');
    const opt = new P.AdamW(dev.parameters(), { lr: 1e-3 });
    const s = new P.GradScaler();
    const w0 = dev.parameters()[0].to('cpu').toArray();
    const l = P.autocast('cuda', 'float16', () => dev.loss(x.to('cuda'), y.to('cuda')));
    s.scaleLoss(l).backward();
    s.step(opt, dev.parameters());
    assert.equal(s.foundInf, false);
    assert.equal(s.scale, 2 ** 16);
    assert.notDeepEqual(dev.parameters()[0].to('cpu').toArray(), w0);
  });
});

test('fused AdamW on CUDA equals the plain AdamW update', {
  skip: skip || (!P.hasFusedAdamW() && 'no fused kernel'),
}, () => {
  P.scope(() => {
    const w = P.randn([64, 32], { device: 'cuda' }).requiresGrad_(true);
    const v = w.detach().clone().requiresGrad_(true);
    const [f, p] = [new P.AdamW([w], { fused: true, weightDecay: 0.1 }), new P.AdamW([v], { weightDecay: 0.1 })];
    for (let i = 0; i < 5; i++)
      for (const [t, o] of [
        [w, f],
        [v, p],
      ]) {
        o.zeroGrad();
        t.mul(t).sin().sum().backward();
        o.step();
      }
    const [a, b] = [w.detach().to('cpu').toArray(), v.detach().to('cpu').toArray()];
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6, `${x} vs ${b[i]}`));
  });
});

test('a one-rank NCCL group reduces, broadcasts and gathers CUDA tensors', { skip }, async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-nccl-'));
  try {
    const f = join(d, 'nccl.mjs');
    writeFileSync(
      f,
      `import * as P from ${JSON.stringify(join(root, 'dist/index.js'))};
const pg = P.initProcessGroup();
const t = P.tensor([1, 2], { device: 'cuda' }); pg.allReduce(t, 'sum');
const b = P.tensor([3], { device: 'cuda' }); pg.broadcast(b, 0);
const g = pg.allGather(P.tensor([5], { device: 'cuda' }));
pg.barrier();
console.log(JSON.stringify({ backend: pg.backend, device: pg.device, sum: t.to('cpu').toArray(), b: b.to('cpu').toArray(), g: g.map((x) => x.to('cpu').toArray()) }));`,
    );
    const r = spawnSync(process.execPath, [f], {
      env: {
        ...process.env,
        RANK: '0',
        WORLD_SIZE: '1',
        MASTER_PORT: String(await freePort()),
        PACER_DIST_BACKEND: 'nccl',
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { backend: 'nccl', device: 'cuda:0', sum: [1, 2], b: [3], g: [[5]] });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
