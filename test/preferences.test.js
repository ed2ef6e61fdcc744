// Preference statistics (src/preferences/) against independent references: closed forms worked out
// by hand (two-item BT and Davidson fits, Elo updates, κ of a 2×2 table, win rates, the bootstrap
// of two items against exact binomial quantiles), published values (Krippendorff 2011's α for all
// four metrics; Wikipedia's nominal example), and Python re-implementations that use other
// algorithms (Hunter's MM iteration for BT, torch L-BFGS for Davidson, the pairwise-difference form
// of α, numpy's inverse for the active-selection gain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as P from '../dist/preferences/index.js';
import { rng } from '../dist/data/random.js';

const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;
const hasTorch = hasPython && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const votes = (a, b, outcome, k) => Array.from({ length: k }, () => ({ a, b, outcome }));

function python(code, input) {
  const r = spawnSync(PY, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Random comparisons among n items with true strengths, a share of them ties. */
function randomVotes(n, N, seed, tieShare = 0.15) {
  const r = rng(seed);
  const skill = Array.from({ length: n }, () => 2 * r());
  const out = [];
  while (out.length < N) {
    const a = Math.floor(r() * n),
      b = Math.floor(r() * n);
    if (a === b) continue;
    const p = 1 / (1 + Math.exp(skill[b] - skill[a]));
    out.push({ a, b, outcome: r() < tieShare ? 0.5 : r() < p ? 1 : 0 });
  }
  return out;
}

test('two items: BT gives log(wins_a / wins_b), ties as half wins; Davidson ν = T / √(W_a W_b)', () => {
  let f = P.fitBradleyTerry(P.PairCounts.from(2, [...votes(0, 1, 1, 3), ...votes(0, 1, 0, 1)]));
  close(f.ratings[0] - f.ratings[1], Math.log(3), 1e-9, 'BT 3-1');
  close(f.ratings[0] + f.ratings[1], 0, 1e-12, 'mean zero');
  // 1 win, 2 ties, 0 losses: scores 1 + 2/2 = 2 against 0 + 2/2 = 1
  f = P.fitBradleyTerry(P.PairCounts.from(2, [...votes(0, 1, 1, 1), ...votes(0, 1, 0.5, 2)]));
  close(f.ratings[0] - f.ratings[1], Math.log(2), 1e-9, 'half wins');
  assert.equal(f.nu, null);
  // Davidson with two items is saturated: P(a) = 3/6, P(b) = 1/6, P(tie) = 2/6
  f = P.fitBradleyTerry(P.PairCounts.from(2, [...votes(0, 1, 1, 3), ...votes(0, 1, 0, 1), ...votes(1, 0, 0.5, 2)]), {
    ties: 'davidson',
  });
  close(f.ratings[0] - f.ratings[1], Math.log(3), 1e-9, 'Davidson d');
  close(f.nu, 2 / Math.sqrt(3), 1e-9, 'Davidson ν');
  // a cycle of 2-1 wins: every rating equal
  const cyc = [0, 1, 2].flatMap((i) => [...votes(i, (i + 1) % 3, 1, 2), ...votes(i, (i + 1) % 3, 0, 1)]);
  for (const r of P.fitBradleyTerry(P.PairCounts.from(3, cyc)).ratings) close(r, 0, 1e-9, 'cycle');
  // Davidson without ties is BT (ν = 0)
  f = P.fitBradleyTerry(P.PairCounts.from(2, [...votes(0, 1, 1, 3), ...votes(0, 1, 0, 1)]), { ties: 'davidson' });
  assert.equal(f.nu, 0);
  close(f.ratings[0] - f.ratings[1], Math.log(3), 1e-9, 'Davidson without ties');
});

test('the MLE is refused when it does not exist (Ford), and a prior of virtual ties keeps it finite', () => {
  const c = P.PairCounts.from(3, [...votes(0, 1, 1, 2), ...votes(1, 2, 1, 1), ...votes(1, 2, 0, 1)]);
  assert.equal(c.mleExists(), false, 'item 0 never lost');
  assert.throws(() => P.fitBradleyTerry(c), /MLE does not exist/);
  assert.equal(P.PairCounts.from(3, [...votes(0, 1, 1, 1)]).mleExists(), false, 'item 2 never compared');
  // two items, one win, prior 1: with r_a = −r_b = x the objective is log σ(2x) + 2·½[log σ(x) +
  // log σ(−x)], whose derivative 2(1 − σ(2x)) + 1 − 2σ(x) vanishes at the fit; solved by bisection here
  const sig = (x) => 1 / (1 + Math.exp(-x));
  let lo = 0,
    hi = 10;
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (2 * (1 - sig(2 * mid)) + 1 - 2 * sig(mid) > 0) lo = mid;
    else hi = mid;
  }
  const f = P.fitBradleyTerry(P.PairCounts.from(2, votes(0, 1, 1, 1)), { prior: 1 });
  close(f.ratings[0], lo, 1e-8, 'prior fit');
});

test('BT (half-win ties) matches Hunter’s MM iteration in Python, and Davidson matches torch L-BFGS', {
  skip: !hasPython && 'python3 not found',
}, () => {
  const n = 7;
  const cmp = randomVotes(n, 400, 11);
  const half = P.fitBradleyTerry(P.PairCounts.from(n, cmp));
  const mm = python(
    `
import json, sys, math
d = json.load(sys.stdin); n = d['n']
W = [0.0] * n; N = [[0.0] * n for _ in range(n)]
for c in d['cmp']:
    a, b, o = c['a'], c['b'], c['outcome']
    W[a] += o; W[b] += 1 - o; N[a][b] += 1; N[b][a] += 1
p = [1.0] * n
for _ in range(20000):
    p = [W[i] / sum(N[i][j] / (p[i] + p[j]) for j in range(n) if j != i) for i in range(n)]
    s = sum(math.log(x) for x in p) / n
    p = [x / math.exp(s) for x in p]
print(json.dumps([math.log(x) for x in p]))
`,
    { n, cmp },
  );
  for (let i = 0; i < n; i++) close(half.ratings[i], mm[i], 1e-7, `BT rating ${i}`);
  if (!hasTorch) return;
  const dav = P.fitBradleyTerry(P.PairCounts.from(n, cmp), { ties: 'davidson' });
  const ref = python(
    `
import json, sys, torch
d = json.load(sys.stdin); n = d['n']
a = torch.tensor([c['a'] for c in d['cmp']]); b = torch.tensor([c['b'] for c in d['cmp']])
o = torch.tensor([c['outcome'] for c in d['cmp']], dtype=torch.float64)
r = torch.zeros(n, dtype=torch.float64, requires_grad=True); th = torch.zeros((), dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([r, th], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn='strong_wolfe')
def nll():
    opt.zero_grad()
    ra, rb = r[a], r[b]
    logD = torch.logsumexp(torch.stack([ra, rb, th + (ra + rb) / 2]), 0)
    ll = torch.where(o == 1, ra, torch.where(o == 0, rb, th + (ra + rb) / 2)) - logD
    loss = -ll.sum(); loss.backward(); return loss
for _ in range(5): opt.step(nll)
rr = (r - r.mean()).detach()
print(json.dumps({'r': rr.tolist(), 'nu': float(th.exp())}))
`,
    { n, cmp },
  );
  for (let i = 0; i < n; i++) close(dav.ratings[i], ref.r[i], 1e-6, `Davidson rating ${i}`);
  close(dav.nu, ref.nu, 1e-6, 'Davidson ν');
});

test('Elo: FastChat’s update rule, worked by hand', () => {
  const R = P.onlineElo(2, [{ a: 0, b: 1, outcome: 1 }]);
  assert.deepEqual([...R], [1002, 998], 'equal ratings: E = ½, K = 4');
  const R2 = P.onlineElo(2, [
    { a: 0, b: 1, outcome: 1 },
    { a: 1, b: 0, outcome: 0.5 },
  ]);
  const e = 1 / (1 + 10 ** ((1002 - 998) / 400)); // E for the 998 side
  close(R2[1], 998 + 4 * (0.5 - e), 1e-12, 'tie after a win');
  close(R2[0], 1002 + 4 * (0.5 - (1 - e)), 1e-12, 'tie after a win (other side)');
});

test('win-rate matrix and records: ties count half', () => {
  const c = P.PairCounts.from(3, [...votes(0, 1, 1, 2), ...votes(1, 0, 0.5, 1), ...votes(2, 0, 1, 1)]);
  const W = c.winMatrix();
  assert.equal(W[0][1], 2.5 / 3);
  assert.equal(W[1][0], 0.5 / 3);
  assert.equal(W[0][2], 0);
  assert.equal(W[1][2], null, 'never compared');
  assert.equal(W[0][0], null);
  assert.deepEqual(c.record()[0], { wins: 2, ties: 1, losses: 1 });
});

test('judgments as comparisons: pairwise (both bad = tie), best/worst of K (2K − 3), ranking with ties', () => {
  assert.deepEqual(P.pairwiseComparison(4, 7, 'both_bad'), { a: 4, b: 7, outcome: 0.5 });
  assert.deepEqual(P.pairwiseComparison(4, 7, 'b'), { a: 4, b: 7, outcome: 0 });
  const bw = P.bestWorstComparisons([10, 11, 12, 13], 12, 10);
  assert.equal(bw.length, 5);
  assert.deepEqual(
    bw.map((c) => `${c.a}>${c.b}`),
    ['12>10', '12>11', '12>13', '11>10', '13>10'],
  );
  const rk = P.rankingComparisons([1, 2, 3], [2, 1, 2]);
  assert.deepEqual(rk, [
    { a: 1, b: 2, outcome: 0 },
    { a: 1, b: 3, outcome: 0.5 },
    { a: 2, b: 3, outcome: 1 },
  ]);
  assert.throws(() => P.bestWorstComparisons([1, 2], 1, 1), /two different/);
});

test('bootstrap: quantiles as numpy, Arena ranks, and two items against exact binomial quantiles', () => {
  close(P.quantileSorted([1, 2, 3, 4], 0.25), 1.75, 1e-12, 'numpy linear quantile');
  assert.deepEqual([...P.ranksFromIntervals([5, 1, 0.5], [6, 2, 4])], [1, 2, 2]);
  // 70 wins of 100: the bootstrap draws k ~ Binomial(100, 0.7) and r_a = ½·ln(k / (100 − k)).
  // Exact quantiles of Binomial(100, 0.7): P(k ≤ 60) = 0.0210, P(k ≤ 61) = 0.0340 → 2.5% at k = 61;
  // P(k ≤ 78) = 0.9712, P(k ≤ 79) = 0.9835 → 97.5% at 79 (math.comb sums, see the python below)
  const cmp = [...votes(0, 1, 1, 70), ...votes(0, 1, 0, 30)];
  const b = P.bootstrapRatings(2, cmp, { rounds: 2000, seed: 3 });
  const rA = (k) => 0.5 * Math.log(k / (100 - k));
  close(b.fit.ratings[0], rA(70), 1e-9, 'point estimate');
  close(b.lower[0], rA(61), 0.03, 'lower bound');
  close(b.upper[0], rA(79), 0.03, 'upper bound');
  if (hasPython) {
    const q = python(
      `
import json, sys, math
cdf = lambda k: sum(math.comb(100, i) * 0.7**i * 0.3**(100 - i) for i in range(k + 1))
print(json.dumps([min(k for k in range(101) if cdf(k) >= 0.025), min(k for k in range(101) if cdf(k) >= 0.975)]))
`,
      {},
    );
    assert.deepEqual(q, [61, 79]);
  }
  const again = P.bootstrapRatings(2, cmp, { rounds: 2000, seed: 3 });
  assert.deepEqual([...again.lower], [...b.lower], 'seeded: the same intervals');
});

test('bootstrap: 50 items, 10,000 votes, Davidson and half wins — intervals cover the point estimate', () => {
  const cmp = randomVotes(50, 10_000, 5);
  for (const ties of P.TIE_MODELS) {
    const b = P.bootstrapRatings(50, cmp, { rounds: 100, seed: 1, ties });
    for (let i = 0; i < 50; i++)
      assert.ok(b.lower[i] <= b.fit.ratings[i] && b.fit.ratings[i] <= b.upper[i], `${ties}: item ${i}`);
  }
});

test('Cohen’s κ by hand (a 2×2 table) and against Python; Krippendorff’s α against published values', () => {
  // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o = 35/50 = 0.7, p_e = 0.5·0.6 + 0.5·0.4 = 0.5 → κ = 0.4
  const pairs = [
    ...Array(20).fill(['y', 'y']),
    ...Array(5).fill(['y', 'n']),
    ...Array(10).fill(['n', 'y']),
    ...Array(15).fill(['n', 'n']),
  ];
  close(P.cohenKappa(pairs).kappa, 0.4, 1e-12, 'κ');
  assert.ok(Number.isNaN(P.cohenKappa([['a', 'a']]).kappa), 'one label only: undefined');
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units
  const data = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
    [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
  ];
  const units = data[0].map((_, u) => data.map((row) => row[u]).filter((x) => x !== null));
  const want = { nominal: 0.743, ordinal: 0.815, interval: 0.849, ratio: 0.797 };
  for (const [m, a] of Object.entries(want)) close(P.krippendorffAlpha(units, m).alpha, a, 5e-4, `α ${m}`);
  // Wikipedia's worked example (3 coders, 15 units): nominal α = 0.691
  const wiki = [
    [null, null, null, null, null, 3, 4, 1, 2, 1, 1, 3, 3, null, 3],
    [1, null, 2, 1, 3, 3, 4, 3, null, null, null, null, null, null, null],
    [null, null, 2, 1, 3, 4, 4, null, 2, 1, 1, 3, 3, null, 4],
  ];
  const wu = wiki[0].map((_, u) => wiki.map((row) => row[u]).filter((x) => x !== null));
  close(P.krippendorffAlpha(wu, 'nominal').alpha, 0.691, 5e-4, 'Wikipedia α');
  assert.equal(P.krippendorffAlpha(wu, 'nominal').units, 12, 'units 3–13 and 15 have two or more values');
});

test('κ and α on random data against Python (confusion matrix; α from pairwise differences)', {
  skip: !hasPython && 'python3 not found',
}, () => {
  const r = rng(9);
  const pairs = Array.from({ length: 200 }, () => {
    const a = Math.floor(r() * 4);
    return [a, r() < 0.6 ? a : Math.floor(r() * 4)];
  });
  const units = Array.from({ length: 60 }, () =>
    Array.from({ length: 1 + Math.floor(r() * 4) }, () => 1 + Math.floor(r() * 7)),
  );
  const ref = python(
    `
import json, sys, numpy as np
d = json.load(sys.stdin)
M = np.zeros((4, 4))
for a, b in d['pairs']: M[a, b] += 1
M /= M.sum(); po = np.trace(M); pe = (M.sum(1) * M.sum(0)).sum()
out = {'kappa': (po - pe) / (1 - pe)}
U = [u for u in d['units'] if len(u) >= 2]
allv = [v for u in U for v in u]; n = len(allv)
for name, dist in [('nominal', lambda a, b: float(a != b)), ('interval', lambda a, b: (a - b) ** 2)]:
    Do = sum(sum(dist(u[i], u[j]) for i in range(len(u)) for j in range(len(u)) if i != j) / (len(u) - 1) for u in U) / n
    De = sum(dist(a, b) for i, a in enumerate(allv) for j, b in enumerate(allv) if i != j) / (n * (n - 1))
    out[name] = 1 - Do / De
print(json.dumps(out))
`,
    { pairs, units },
  );
  close(P.cohenKappa(pairs).kappa, ref.kappa, 1e-12, 'κ');
  close(P.krippendorffAlpha(units, 'nominal').alpha, ref.nominal, 1e-12, 'α nominal');
  close(P.krippendorffAlpha(units, 'interval').alpha, ref.interval, 1e-12, 'α interval');
});

test('active selection: the gain is the drop of tr Σ (numpy inverse), and the fairness floor', {
  skip: !hasPython && 'python3 not found',
}, () => {
  const n = 5;
  const cmp = randomVotes(n, 60, 21).filter((c) => c.a !== 4 && c.b !== 4);
  cmp.push({ a: 4, b: 0, outcome: 1 }, { a: 4, b: 1, outcome: 0 });
  const counts = P.PairCounts.from(n, cmp);
  const fit = P.fitBradleyTerry(counts, { prior: 1 });
  const cov = P.ratingCovariance(counts, fit.ratings, 1);
  const cands = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) cands.push([i, j]);
  const gains = P.pairGains(fit.ratings, cov, n, cands);
  const ref = python(
    `
import json, sys, numpy as np
d = json.load(sys.stdin); n = d['n']; r = np.array(d['r'])
F = np.zeros((n, n))
for c in d['cmp']:
    a, b = c['a'], c['b']; p = 1 / (1 + np.exp(-(r[a] - r[b]))); w = p * (1 - p)
    F[a, a] += w; F[b, b] += w; F[a, b] -= w; F[b, a] -= w
s = 1 / (1 + np.exp(-r)); F += np.diag(s * (1 - s))
S = np.linalg.inv(F); out = []
for i, j in d['cands']:
    dd = np.zeros(n); dd[i] = 1; dd[j] = -1; p = 1 / (1 + np.exp(-(r[i] - r[j])))
    out.append(float(np.trace(S) - np.trace(np.linalg.inv(F + p * (1 - p) * np.outer(dd, dd)))))
print(json.dumps(out))
`,
    { n, r: [...fit.ratings], cmp, cands },
  );
  gains.forEach((g, k) => close(g, ref[k], 1e-9, `gain ${cands[k]}`));
  // item 4 has 2 comparisons against a mean of ~26: it is starved, so the next pair includes it
  const pick = P.choosePair(counts, cands, { random: rng(1) });
  assert.equal(pick.reason, 'fairness');
  assert.ok(pick.pair.includes(4));
  const free = P.choosePair(counts, cands, { fairness: 0, random: rng(1) });
  assert.equal(free.reason, 'uncertainty');
  close(free.gain, Math.max(...gains), 1e-12, 'the largest gain');
  assert.equal(P.choosePair(counts, []), null);
});
