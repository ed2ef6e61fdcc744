// The studio's server-rendered pages as pure functions: the forest plot's axis ticks (round steps of
// 1, 2 or 5 × 10^k, hand-worked below), the leaderboard's wording and number formats, the project list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forestPlot, niceTicks } from '../dist/studio/pages.js';

const labelsOf = (svg) => [...svg.matchAll(/<text[^>]*class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

test('niceTicks: round steps, as many decimals as the step needs, no repeated labels', () => {
  // a Likert mean of 6 with a zero-width interval, padded by 1: step 0.5 (5 ticks; 0.2 would give 11)
  assert.deepEqual(niceTicks(5, 7), {
    ticks: [5, 5.5, 6, 6.5, 7],
    decimals: 1,
    labels: ['5.0', '5.5', '6.0', '6.5', '7.0'],
  });
  // the reviewer's wide range 682…1319: step 100 gives 7 ticks (50 would give 13)
  assert.deepEqual(niceTicks(682, 1319).labels, ['700', '800', '900', '1000', '1100', '1200', '1300']);
  assert.deepEqual(niceTicks(833.5, 1274.9).ticks, [900, 1000, 1100, 1200]);
  // degenerate: all equal → widened to ±1 first
  assert.deepEqual(niceTicks(1000, 1000).labels, ['999.0', '999.5', '1000.0', '1000.5', '1001.0']);
  assert.deepEqual(niceTicks(0.31, 0.37).labels, ['0.31', '0.32', '0.33', '0.34', '0.35', '0.36', '0.37']);
  assert.deepEqual(niceTicks(-3, 2).ticks, [-3, -2, -1, 0, 1, 2]);
  assert.deepEqual(niceTicks(0, 1e6, 6).ticks, [0, 2e5, 4e5, 6e5, 8e5, 1e6]);
  for (const [lo, hi] of [
    [999.2, 1000.9],
    [0.001, 0.0013],
    [-1e4, 3e4],
    [7, 7],
  ]) {
    const { ticks, labels } = niceTicks(lo, hi);
    assert.ok(ticks.length >= 2 && ticks.length <= 7, `${lo}…${hi}: ${ticks}`);
    assert.equal(new Set(labels).size, labels.length, `distinct labels for ${lo}…${hi}: ${labels}`);
    assert.ok(
      ticks.every((t) => t >= Math.min(lo, hi - 1) && t <= Math.max(hi, lo + 1)),
      `${ticks} inside`,
    );
  }
  assert.throws(() => niceTicks(0, Number.NaN), /pacer: /);
});

const row = (name, rating, lower, upper) => ({ name, rating, lower, upper, rank: 1, elo: rating, wins: 0 });
const board = (rows, kind = 'bradley_terry') => ({ kind, rows, winMatrix: [], counts: [] });

test('the forest plot labels its axis with round, distinct values (narrow, wide and all-equal ranges)', () => {
  const likert = labelsOf(forestPlot(board([row('qwen', 6, 6, 6)], 'likert_mean')));
  assert.deepEqual(likert, ['5.0', '5.5', '6.0', '6.5', '7.0']);
  const tied = labelsOf(forestPlot(board([row('a', 1000, 1000, 1000), row('b', 1000, 1000, 1000)])));
  assert.deepEqual(tied, ['999.0', '999.5', '1000.0', '1000.5', '1001.0']);
  // 833.5…1274.9 padded by 8% of the span (35.3) each side: 798.2…1310.2 → step 100
  const wide = labelsOf(forestPlot(board([row('a', 1050.6, 833.5, 1274.9), row('b', 950, 900, 1000)])));
  assert.deepEqual(wide, ['800', '900', '1000', '1100', '1200', '1300']);
});
