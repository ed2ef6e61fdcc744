// Memory: scopes free temporaries (sync and async), keep() exempts, dispose() is immediate, and
// 20,000 small training steps keep native and resident memory bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';

test('scope disposes temporaries and keeps returned tensors', () => {
  const before = P.memoryStats().liveTensors;
  let tmp;
  const out = P.scope(() => {
    tmp = P.ones([4]).mul(2);
    return { result: tmp.add(1), list: [P.zeros([1])] };
  });
  assert.equal(tmp.disposed, true);
  assert.throws(() => tmp.add(1), /disposed/);
  assert.deepEqual(out.result.tolist(), [3, 3, 3, 3]);
  assert.equal(P.memoryStats().liveTensors, before + 2);
  out.result.dispose();
  out.list[0].dispose();
  assert.equal(P.memoryStats().liveTensors, before);
});

test('nested scopes move survivors to the parent; keep() exempts', () => {
  const before = P.memoryStats().liveTensors;
  let inner, kept;
  P.scope(() => {
    inner = P.scope(() => P.ones([2]).add(1));
    kept = P.keep(P.ones([3]));
    assert.equal(inner.disposed, false);
  });
  assert.equal(inner.disposed, true);
  assert.equal(kept.disposed, false);
  kept.dispose();
  assert.equal(P.memoryStats().liveTensors, before);
});

test('async scopes free after the promise settles, also on rejection', async () => {
  const before = P.memoryStats().liveTensors;
  const r = await P.scope(async () => {
    const a = P.ones([8]);
    await new Promise((res) => setTimeout(res, 5));
    return a.sum();
  });
  assert.equal(r.item(), 8);
  r.dispose();
  await assert.rejects(
    P.scope(async () => {
      P.ones([8]);
      await null;
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(P.memoryStats().liveTensors, before);
});

test('20,000 small training steps keep memory bounded', () => {
  P.manualSeed(0);
  const l1 = new P.Linear(16, 32);
  const l2 = new P.Linear(32, 1);
  const params = [...l1.parameters(), ...l2.parameters()];
  const opt = new P.AdamW(params, { lr: 1e-3 });
  const x = P.keep(P.randn([8, 16]));
  const y = P.keep(P.randn([8, 1]));
  const step = () =>
    P.scope(() => {
      opt.zeroGrad();
      const loss = l2.forward(l1.forward(x).relu()).sub(y).square().mean();
      loss.backward();
      opt.step();
      return loss.item();
    });
  for (let i = 0; i < 2000; i++) step();
  global.gc?.();
  const live0 = P.memoryStats().liveTensors;
  const rss0 = process.memoryUsage().rss;
  let last = 0;
  for (let i = 0; i < 18000; i++) last = step();
  global.gc?.();
  const live1 = P.memoryStats().liveTensors;
  const rss1 = process.memoryUsage().rss;
  assert.ok(Number.isFinite(last));
  assert.equal(live1, live0, `live native tensors grew from ${live0} to ${live1}`);
  const growthMiB = (rss1 - rss0) / 2 ** 20;
  assert.ok(growthMiB < 40, `resident memory grew by ${growthMiB.toFixed(1)} MiB over 18,000 steps`);
  for (const m of [l1, l2]) m.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
});

test('tensors dropped without dispose are reclaimed by the GC finalizer (backstop)', async () => {
  assert.ok(global.gc, 'run the tests with --expose-gc (npm test does)');
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await settle();
  const before = P.memoryStats().liveTensors;
  (() => {
    for (let i = 0; i < 1000; i++) P.ones([16]);
  })();
  assert.equal(P.memoryStats().liveTensors, before + 1000);
  await settle();
  assert.equal(P.memoryStats().liveTensors, before);
});
