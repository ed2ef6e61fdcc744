// Shared test helpers: fixture loading and tolerance checks.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as P from '../dist/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export { P };

/** max |a - b| <= rtol * max|b| + atol, elementwise shapes equal. */
export function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-7, what = 'tensor' } = {}) {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape [${actual.shape}] != expected [${expected.shape}]`);
  const a = actual.toArray();
  const b = expected.toArray();
  let maxRef = 0;
  for (const v of b) maxRef = Math.max(maxRef, Math.abs(v));
  let maxDiff = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
  }
  const tol = rtol * maxRef + atol;
  assert.ok(maxDiff <= tol, `${what}: max |diff| ${maxDiff} at ${at} (got ${a[at]}, want ${b[at]}) exceeds ${tol}`);
  return maxDiff / Math.max(maxRef, 1e-30);
}
