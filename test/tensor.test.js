// Creation, dtypes, copies to and from typed arrays, seeded generators and bitwise determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';

test('tensor() infers dtypes as torch.tensor does', () =>
  P.scope(() => {
    assert.equal(P.tensor([1, 2]).dtype, 'float32');
    assert.equal(P.tensor([1, 2], { dtype: 'int64' }).dtype, 'int64');
    assert.throws(() => P.tensor([1.5], { dtype: 'int64' }), /not an integer, but dtype int64/);
    assert.equal(P.tensor([1.5, 2]).dtype, 'float32');
    assert.equal(P.tensor([true, false]).dtype, 'bool');
    assert.equal(P.tensor(new Float32Array([1])).dtype, 'float32');
    assert.equal(P.tensor(new Int32Array([1])).dtype, 'int32');
    assert.equal(P.tensor(new BigInt64Array([1n])).dtype, 'int64');
    assert.deepEqual(
      P.tensor([
        [1, 2],
        [3, 4],
      ]).shape,
      [2, 2],
    );
    assert.deepEqual(P.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }).tolist(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(P.tensor(3.5).item(), 3.5);
  }));

test('every dtype round-trips through typed arrays', () =>
  P.scope(() => {
    const vals = [0, 1, -2, 3];
    for (const dt of ['float32', 'float64', 'int64', 'int32', 'int16', 'int8']) {
      const t = P.tensor(vals, { dtype: dt });
      assert.equal(t.dtype, dt);
      assert.deepEqual(t.toArray(), vals, dt);
    }
    for (const dt of ['float16', 'bfloat16']) {
      const t = P.tensor([0.5, -1.25, 3], { dtype: dt });
      assert.equal(t.dtype, dt);
      assert.deepEqual(t.toArray(), [0.5, -1.25, 3]);
      assert.ok(t.data() instanceof Float32Array);
    }
    assert.deepEqual(P.tensor([1, 0, 1], { dtype: 'bool' }).toArray(), [1, 0, 1]);
    assert.deepEqual(P.tensor([1, 2, 3], { dtype: 'uint8' }).toArray(), [1, 2, 3]);
    assert.ok(P.tensor([1, 2], { dtype: 'int64' }).data() instanceof BigInt64Array);
    // bfloat16 rounds to 8 significant bits
    assert.equal(P.tensor([1.00390625], { dtype: 'bfloat16' }).item(), 1);
  }));

test('constants, ranges, views', () =>
  P.scope(() => {
    assert.deepEqual(P.zeros([2]).tolist(), [0, 0]);
    assert.deepEqual(P.ones(2, { dtype: 'int32' }).tolist(), [1, 1]);
    assert.deepEqual(P.full([2, 1], 7).tolist(), [[7], [7]]);
    assert.deepEqual(P.arange(4).tolist(), [0, 1, 2, 3]);
    assert.equal(P.arange(4).dtype, 'int64');
    assert.deepEqual(P.arange(1, 2, 0.25, { dtype: 'float32' }).tolist(), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(P.eye(2).tolist(), [
      [1, 0],
      [0, 1],
    ]);
    const x = P.arange(6).reshape(2, 3);
    assert.equal(x.dtype, 'int64');
    assert.deepEqual(x.T.tolist(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(x.slice(1, -2).tolist(), [
      [1, 2],
      [4, 5],
    ]);
    assert.deepEqual(x.select(0, 1).tolist(), [3, 4, 5]);
    assert.deepEqual(x.flip(1).tolist(), [
      [2, 1, 0],
      [5, 4, 3],
    ]);
    assert.deepEqual(x.sum(1).tolist(), [3, 12]);
    assert.deepEqual(x.argmax(1).tolist(), [2, 2]);
    assert.deepEqual(x.float().mean().item(), 2.5);
    assert.equal(x.numel, 6);
    assert.equal(x.ndim, 2);
    assert.equal(x.size(-1), 3);
  }));

test('random draws are reproducible per seed and per generator', () =>
  P.scope(() => {
    P.manualSeed(42);
    const a = P.randn([5]).tolist();
    P.manualSeed(42);
    assert.deepEqual(P.randn([5]).tolist(), a);
    const g1 = new P.Generator(7),
      g2 = new P.Generator(7);
    assert.deepEqual(P.rand([4], { generator: g1 }).tolist(), P.rand([4], { generator: g2 }).tolist());
    const state = g1.getState();
    const next = P.randint(0, 100, [6], { generator: g1 }).tolist();
    g1.setState(state);
    assert.deepEqual(P.randint(0, 100, [6], { generator: g1 }).tolist(), next);
    const r = P.randint(3, 5, [1000], { generator: g1 });
    assert.equal(r.min().item(), 3);
    assert.equal(r.max().item(), 4);
    const probs = P.tensor([
      [0, 1, 0],
      [0.5, 0, 0.5],
    ]);
    const s = P.F.multinomial(probs, 1, false, g2).tolist();
    assert.equal(s[0][0], 1);
    assert.ok(s[1][0] === 0 || s[1][0] === 2);
    const d = P.F.dropout(P.ones([1000]), 0.3, true, g2);
    const kept = d.gt(0).sum().item();
    assert.ok(kept > 600 && kept < 800, `kept ${kept}`);
    assert.ok(Math.abs(d.max().item() - 1 / 0.7) < 1e-6);
  }));

test('the same seed gives a bitwise identical loss curve', () => {
  const run = () =>
    P.scope(() => {
      P.manualSeed(3);
      const gen = new P.Generator(3);
      const l1 = new P.Linear(8, 16, { generator: gen });
      const drop = new P.Dropout(0.2, gen);
      const l2 = new P.Linear(16, 4, { generator: gen });
      const opt = new P.AdamW([...l1.parameters(), ...l2.parameters()], { lr: 1e-2 });
      const losses = [];
      for (let i = 0; i < 20; i++) {
        losses.push(
          P.scope(() => {
            const x = P.randn([32, 8], { generator: gen });
            const y = P.randint(0, 4, [32], { generator: gen });
            opt.zeroGrad();
            const loss = P.F.crossEntropy(l2.forward(drop.forward(l1.forward(x).gelu())), y);
            loss.backward();
            opt.step();
            return loss.item();
          }),
        );
      }
      opt.dispose();
      return losses;
    });
  const a = run();
  const b = run();
  assert.deepEqual(a, b);
  assert.ok(a[19] < a[0]);
});

test('threads can be set and read back', () => {
  const info = P.setThreads(1);
  assert.equal(info.blasThreads === -1 || info.blasThreads === 1, true);
  assert.equal(info.intraOp, 1);
  const two = P.setThreads(2, { intraOp: 2, blas: 1 });
  assert.equal(two.intraOp, 2);
  assert.equal(P.threadInfo().intraOp, 2);
  P.setThreads(1);
  assert.match(P.threadInfo().blas, /\S/);
});
