// The studio's server-rendered pages as pure functions: the forest plot's axis ticks (round steps of
// 1, 2 or 5 × 10^k, hand-worked below), the leaderboard's wording and number formats, the project list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forestPlot, leaderboardPage, niceTicks, projectsPage } from '../dist/studio/pages.js';
import { DEFAULT_SETTINGS } from '../dist/studio/settings.js';

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

const row = (name, rating, lower, upper, elo = rating) => ({
  name,
  rating,
  lower,
  upper,
  rank: 1,
  elo,
  wins: 1,
  ties: 0,
  losses: 1,
});
const board = (rows, kind = 'bradley_terry') => ({
  kind,
  rows,
  winMatrix: [],
  counts: [],
  rounds: 200,
  ties: 'half',
  prior: 1,
  nu: null,
  comparisons: 6,
});

test('the forest plot labels its axis with round, distinct values (narrow, wide and all-equal ranges)', () => {
  const likert = labelsOf(forestPlot(board([row('qwen', 6, 6, 6)], 'likert_mean')));
  assert.deepEqual(likert, ['5.0', '5.5', '6.0', '6.5', '7.0']);
  const tied = labelsOf(forestPlot(board([row('a', 1000, 1000, 1000), row('b', 1000, 1000, 1000)])));
  assert.deepEqual(tied, ['999.0', '999.5', '1000.0', '1000.5', '1001.0']);
  // 833.5…1274.9 padded by 8% of the span (35.3) each side: 798.2…1310.2 → step 100
  const wide = labelsOf(forestPlot(board([row('a', 1050.6, 833.5, 1274.9), row('b', 950, 900, 1000)])));
  assert.deepEqual(wide, ['800', '900', '1000', '1100', '1200', '1300']);
});

const AGREE = { metric: 'nominal', alpha: null, units: 0, raw: null, kappa: [] };
const PROGRESS = { done: 0, target: 4, tasks: 2, people: [] };
const cellsOf = (html) =>
  [...html.matchAll(/<tr>(.*?)<\/tr>/gs)]
    .map((m) => [...m[1].matchAll(/<td>(.*?)<\/td>/gs)].map((c) => c[1]))
    .filter((cells) => cells.length);
const textOf = (html) => html.replace(/<[^>]+>/g, '');

test('the leaderboard: one precision per column, and "Both bad" only where a pairwise task offers it', () => {
  const settings = (task, o = {}) => ({ ...DEFAULT_SETTINGS, task, ...o });
  const r = board([row('m1', 1050.6, 833.5, 1274.9, 1001.9), row('m2', 1000, 998, 1001, 998)]);
  const page = leaderboardPage('arena', settings('pairwise'), r, AGREE, PROGRESS, {});
  assert.deepEqual(
    cellsOf(page).map((c) => c.slice(2, 5).map(textOf)),
    [
      ['1050.6', '[833.5, 1274.9]', '1001.9'],
      ['1000.0', '[998.0, 1001.0]', '998.0'],
    ],
  );
  assert.match(page, />1000\.0<\/text>/, 'the forest plot prints the value as the table does');
  assert.match(page, /Both bad&quot; counts as a tie/);
  const noBothBad = leaderboardPage('arena', settings('pairwise', { allow_both_bad: false }), r, AGREE, PROGRESS, {});
  assert.doesNotMatch(noBothBad, /Both bad/);
  for (const task of ['ranking', 'best_worst']) {
    const html = leaderboardPage('x', settings(task), r, AGREE, PROGRESS, {});
    assert.doesNotMatch(html, /Both bad/, task);
  }
  assert.match(leaderboardPage('x', settings('ranking'), r, AGREE, PROGRESS, {}), /K\(K−1\)\/2 pairs/);
  const likert = board([row('m1', 6, 6, 6), row('m2', 4.333, 3.667, 5)], 'likert_mean');
  const lp = leaderboardPage('l', settings('likert'), likert, { ...AGREE, metric: 'interval' }, PROGRESS, {});
  assert.deepEqual(
    cellsOf(lp).map((c) => c.slice(2, 4).map(textOf)),
    [
      ['6.00', '[6.00, 6.00]'],
      ['4.33', '[3.67, 5.00]'],
    ],
  );
});

test('the project list links each project to its admin page for admins only', () => {
  const cards = [{ name: 'arena', s: { ...DEFAULT_SETTINGS, task: 'pairwise' }, progress: PROGRESS }];
  const admin = projectsPage({ name: 'admin', role: 'admin' }, 'c', cards);
  assert.match(admin, /<a href="\/p\/arena\/admin">admin<\/a>/);
  const alice = projectsPage({ name: 'alice', role: 'annotator' }, 'c', cards);
  assert.doesNotMatch(alice, /\/admin"/);
  assert.match(alice, /<a href="\/p\/arena\/leaderboard">leaderboard<\/a>/);
});
