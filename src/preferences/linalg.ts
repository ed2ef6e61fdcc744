// Small dense linear algebra for the rating fits (n ≤ a few hundred items): Gaussian elimination
// with partial pivoting on row-major Float64Arrays, in place, and the inverse built column by column.

/** Solve A·x = b for x (A: n×n row-major, overwritten; b overwritten with x). Throws when A is singular. */
export function solveInPlace(A: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(A[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(A[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > 1e-300)) throw new RangeError('pacer: singular system in a rating fit');
    if (p !== k) {
      for (let j = k; j < n; j++) {
        const t = A[k * n + j];
        A[k * n + j] = A[p * n + j];
        A[p * n + j] = t;
      }
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
    const pivot = A[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) A[i * n + j] -= f * A[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= A[i * n + j] * b[j];
    b[i] = s / A[i * n + i];
  }
  return b;
}

/** The inverse of A (n×n row-major; A is not changed): Gauss–Jordan with partial pivoting. */
export function inverse(A: Float64Array, n: number): Float64Array {
  const a = A.slice();
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  const swap = (m: Float64Array, r1: number, r2: number) => {
    for (let j = 0; j < n; j++) {
      const t = m[r1 * n + j];
      m[r1 * n + j] = m[r2 * n + j];
      m[r2 * n + j] = t;
    }
  };
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k]) > Math.abs(a[p * n + k])) p = i;
    if (!(Math.abs(a[p * n + k]) > 1e-300)) throw new RangeError('pacer: singular matrix in a rating fit');
    if (p !== k) {
      swap(a, p, k);
      swap(inv, p, k);
    }
    const d = 1 / a[k * n + k];
    for (let j = 0; j < n; j++) {
      a[k * n + j] *= d;
      inv[k * n + j] *= d;
    }
    for (let i = 0; i < n; i++) {
      const f = a[i * n + k];
      if (i === k || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[i * n + j] -= f * a[k * n + j];
        inv[i * n + j] -= f * inv[k * n + j];
      }
    }
  }
  return inv;
}

/** The Cholesky factor L (lower, row-major) of a symmetric positive-definite A, or null if A is not. */
export function cholesky(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] ** 2;
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

/** Solve L·Lᵀ·x = b in place (b becomes x). */
export function choleskySolve(L: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}
