// Errors: libtorch failures become JS Errors naming the op and input shapes; boundary checks say
// what was expected; nothing aborts the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';

test('a libtorch error names the op and the input shapes', () =>
  P.scope(() => {
    assert.throws(
      () => P.zeros([2, 3]).matmul(P.zeros([4, 5])),
      (e) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /matmul\(\[2,3\] float32, \[4,5\] float32\)/);
        assert.match(e.message, /cannot be multiplied/);
        assert.doesNotMatch(e.message, /Exception raised from/);
        return true;
      },
    );
    assert.throws(
      () => P.zeros([3]).add(P.zeros([4])),
      /add\(\[3\] float32, \[4\] float32.*size of tensor a \(3\) must match/s,
    );
    assert.throws(
      () => P.zeros([5, 2]).indexSelect(0, P.tensor([7], { dtype: 'int64' })),
      /index_select\(\[5,2\] float32, 0, \[1\] int64\).*out of range/s,
    );
    assert.throws(() => P.zeros([6]).view(4, 2), /view\(\[6\] float32, \[4,2\]\)/);
    assert.throws(() => P.cat([P.zeros([2, 3]), P.zeros([2, 4])], 0), /cat\(\[\[2,3\],\[2,4\]\], 0\)/);
  }));

test('using a disposed tensor is a clear error', () => {
  const t = P.ones([2]);
  t.dispose();
  t.dispose(); // idempotent
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => t.shape, /disposed/);
  assert.equal(t.toString(), 'Tensor(<disposed>)');
});

test('boundary checks say what was expected', () =>
  P.scope(() => {
    assert.throws(
      () => P.F.embedding(P.zeros([4, 2]), P.zeros([3])),
      /embedding indices must have dtype int64 or int32, got float32/,
    );
    assert.throws(
      () => P.F.crossEntropy(P.zeros([3, 4]), P.zeros([3])),
      /crossEntropy target must have dtype int64, got float32/,
    );
    assert.throws(
      () => P.F.crossEntropy(P.zeros([3, 4]), P.tensor([1, 2], { dtype: 'int64' })),
      /disagree on the batch size/,
    );
    assert.throws(
      () => P.F.linear(P.zeros([2, 5]), P.zeros([3, 4])),
      /linear expects input \[\.\.\., 4\] for weight \[3,4\], got \[2,5\]/,
    );
    assert.throws(() => new P.Linear(4, 2).forward(P.zeros([1, 3])), /expects input \[\.\.\., 4\]/);
    assert.throws(() => P.zeros([2], { dtype: 'float8' }), /unknown dtype 'float8'/);
    assert.throws(() => P.zeros([2, -1]), /non-negative integers/);
    assert.throws(() => P.tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => P.tensor(new Float32Array(5), { shape: [2, 2] }), /needs 4 elements, the data has 5/);
    assert.throws(() => P.ones([2]).to('cuda:0'), /to_device|CUDA|cuda/i);
    assert.throws(() => P.ones([2]).item(), /one element/);
    assert.throws(() => P.setThreads(0), /positive integer/);
    assert.throws(() => new P.Generator(-1), /non-negative integer/);
    assert.throws(() => P.F.where(P.ones([2]), 1, 2), /where\(\) condition must have dtype bool/);
  }));

test('bad arguments reaching the native layer are TypeErrors, not crashes', () => {
  const N = P.F; // keep the import used
  assert.ok(N);
  assert.throws(() => P.ones([2]).narrow(0, 0.5, 1), /argument 2 must be an integer/);
  assert.throws(() => P.ones([2]).reshape('a'), /must be an array of integers|integer/);
});
