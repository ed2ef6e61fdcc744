// Autograd edge cases: broadcasting, non-leaf tensors, no-grad scopes (sync and async),
// explicit output gradients, retain_graph, accumulation, detach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';

test('broadcast gradients are reduced to the input shapes', () =>
  P.scope(() => {
    const a = P.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float32', requiresGrad: true },
    );
    const b = P.tensor([10, 20, 30], { dtype: 'float32', requiresGrad: true });
    const c = P.tensor([[2]], { dtype: 'float32', requiresGrad: true });
    a.mul(b).add(c).sum().backward();
    assert.deepEqual(a.grad.tolist(), [
      [10, 20, 30],
      [10, 20, 30],
    ]);
    assert.deepEqual(b.grad.tolist(), [5, 7, 9]);
    assert.deepEqual(c.grad.tolist(), [[6]]);
  }));

test('non-leaf tensors: retainGrad, isLeaf, gradFn', () =>
  P.scope(() => {
    const x = P.tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x).retainGrad();
    assert.equal(x.isLeaf, true);
    assert.equal(y.isLeaf, false);
    assert.match(y.gradFn, /Mul/);
    y.mul(3).sum().backward();
    assert.deepEqual(y.grad.tolist(), [3, 3, 3]);
    assert.deepEqual(x.grad.tolist(), [6, 12, 18]);
  }));

test('noGrad records no graph; enableGrad re-enables inside it', () =>
  P.scope(() => {
    const x = P.ones([2], { requiresGrad: true });
    const y = P.noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    const z = P.noGrad(() => P.enableGrad(() => x.mul(2)));
    assert.equal(z.requiresGrad, true);
    assert.equal(P.isGradEnabled(), true);
  }));

test('noGrad follows async code without leaking into concurrent work', async () => {
  const x = P.keep(P.ones([2], { requiresGrad: true }));
  const inside = P.noGrad(async () => {
    await new Promise((r) => setTimeout(r, 20));
    return x.mul(2).requiresGrad;
  });
  await new Promise((r) => setTimeout(r, 5));
  const outside = P.scope(() => x.mul(2).requiresGrad); // runs while the async noGrad is pending
  assert.equal(outside, true);
  assert.equal(await inside, false);
  x.dispose();
});

test('backward with an explicit gradient and retainGraph', () =>
  P.scope(() => {
    const x = P.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x);
    y.backward(P.tensor([1, 0.5]), { retainGraph: true });
    assert.deepEqual(x.grad.tolist(), [2, 2]);
    y.backward(P.tensor([1, 1])); // second pass over the retained graph accumulates
    assert.deepEqual(x.grad.tolist(), [4, 6]);
    assert.throws(() => y.backward(P.tensor([1, 1])), /backward\b.*(second time|freed)/is);
    assert.throws(() => y.backward(), /one-element tensor/);
  }));

test('detach stops gradients; grads accumulate until cleared', () =>
  P.scope(() => {
    const x = P.tensor([3], { dtype: 'float32', requiresGrad: true });
    x.mul(x.detach()).sum().backward();
    assert.deepEqual(x.grad.tolist(), [3]);
    x.mul(2).sum().backward();
    assert.deepEqual(x.grad.tolist(), [5]);
    x.grad = null;
    assert.equal(x.grad, null);
  }));

test('in-place update of a leaf that requires grad is refused outside noGrad', () =>
  P.scope(() => {
    const w = P.ones([2], { requiresGrad: true });
    assert.throws(() => w.add_(1), /add_.*leaf Variable that requires grad/);
    P.noGrad(() => w.add_(1));
    assert.deepEqual(w.tolist(), [2, 2]);
  }));
