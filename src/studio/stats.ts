// What the leaderboard and admin pages show, computed from a project's votes: Bradley–Terry ratings
// (the project's tie model and prior) with bootstrap intervals and Arena ranks, online Elo for
// reference, wins/ties/losses, the win-rate matrix; Likert projects get mean scores with bootstrap
// intervals instead. Agreement: Krippendorff's α over all annotators (nominal for choices, interval
// for Likert scores), Cohen's κ for every pair of annotators with shared units, raw agreement.
// People: votes, gold accuracy, median time per vote; progress overall and per person; and, for
// imported preference pairs, how often the votes side with the dataset's 'chosen'.
import { rng } from '../data/random.js';
import { cohenKappa, krippendorffAlpha, type Label } from '../preferences/agreement.js';
import { bootstrapRatings, quantileSorted } from '../preferences/bootstrap.js';
import { toEloScale } from '../preferences/bradley-terry.js';
import { PairCounts } from '../preferences/counts.js';
import { onlineElo } from '../preferences/elo.js';
import { answerUnits, goldScore } from './answers.js';
import type { Project } from './project.js';
import { ratedItems, voteComparisons } from './rated.js';

export interface RatingRow {
  name: string;
  rating: number;
  lower: number;
  upper: number;
  rank: number;
  elo: number;
  wins: number;
  ties: number;
  losses: number;
}

export interface Ratings {
  kind: 'bradley_terry' | 'likert_mean';
  rows: RatingRow[];
  /** Win rates (ties half) in the order of rows; null where two items never met. */
  winMatrix: Array<Array<number | null>>;
  counts: number[][];
  comparisons: number;
  rounds: number;
  ties: string;
  prior: number;
  nu: number | null;
  note: string | null;
}

const eloRound = (x: number) => Math.round(x * 10) / 10;

export function ratings(p: Project, rounds = 1000, seed = 0): Ratings {
  const s = p.settings;
  const items = ratedItems(p);
  const n = items.names.length;
  const base = { rounds, ties: s.ties, prior: s.prior, nu: null, winMatrix: [], counts: [], comparisons: 0 };
  if (s.task === 'likert') return likertMeans(p, rounds, seed);
  const cmp = voteComparisons(p, items);
  if (cmp.length === 0) return { kind: 'bradley_terry', rows: [], note: 'no votes yet', ...base };
  const counts = PairCounts.from(n, cmp);
  if (s.prior === 0 && !counts.mleExists())
    return {
      kind: 'bradley_terry',
      rows: [],
      note: 'the maximum-likelihood ratings do not exist yet (an item is unbeaten or unconnected); set a prior > 0',
      ...base,
      comparisons: cmp.length,
    };
  let b: ReturnType<typeof bootstrapRatings>;
  try {
    b = bootstrapRatings(n, cmp, { rounds, seed, ties: s.ties, prior: s.prior });
  } catch (e) {
    // without a prior, a resample can lose the MLE (an item unbeaten in it)
    return {
      kind: 'bradley_terry',
      rows: [],
      note: (e as Error).message.replace(/^pacer: /, ''),
      ...base,
      comparisons: cmp.length,
    };
  }
  const elo = onlineElo(n, cmp);
  const rec = counts.record();
  const order = [...Array(n).keys()].sort((x, y) => b.fit.ratings[y] - b.fit.ratings[x]);
  const rows = order.map((i) => ({
    name: items.names[i],
    rating: eloRound(toEloScale(b.fit.ratings[i])),
    lower: eloRound(toEloScale(b.lower[i])),
    upper: eloRound(toEloScale(b.upper[i])),
    rank: b.rank[i],
    elo: eloRound(elo[i]),
    ...rec[i],
  }));
  const W = counts.winMatrix();
  return {
    kind: 'bradley_terry',
    rows,
    winMatrix: order.map((i) => order.map((j) => W[i][j])),
    counts: order.map((i) => order.map((j) => (i === j ? 0 : counts.total(i, j)))),
    comparisons: cmp.length,
    rounds,
    ties: s.ties,
    prior: s.prior,
    nu: b.fit.nu,
    note: null,
  };
}

/** Likert: mean score per item with a percentile bootstrap of the mean (scores resampled per item). */
function likertMeans(p: Project, rounds: number, seed: number): Ratings {
  const items = ratedItems(p);
  const tasks = new Map(p.tasks().map((t) => [t.id, t]));
  const scores = items.names.map(() => [] as number[]);
  for (const v of p.votes()) {
    if (v.gold) continue;
    const i = items.itemOf(tasks.get(v.taskId)!.candidates[0]);
    if (i !== null) scores[i].push(v.answer.score as number);
  }
  const rand = rng(seed);
  const rows = items.names
    .map((name, i) => {
      const xs = scores[i];
      if (!xs.length) return null;
      const means = new Float64Array(rounds);
      for (let r = 0; r < rounds; r++) {
        let sum = 0;
        for (let k = 0; k < xs.length; k++) sum += xs[Math.floor(rand() * xs.length)];
        means[r] = sum / xs.length;
      }
      means.sort();
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const r3 = (x: number) => Math.round(x * 1000) / 1000;
      return {
        name,
        rating: r3(mean),
        lower: r3(quantileSorted(means, 0.025)),
        upper: r3(quantileSorted(means, 0.975)),
        rank: 0,
        elo: 0,
        wins: 0,
        ties: 0,
        losses: xs.length,
      };
    })
    .filter((r): r is RatingRow => r !== null)
    .sort((a, b) => b.rating - a.rating);
  for (const r of rows) r.rank = 1 + rows.filter((o) => o.lower > r.upper).length;
  const s = p.settings;
  return {
    kind: 'likert_mean',
    rows,
    winMatrix: [],
    counts: [],
    comparisons: 0,
    rounds,
    ties: s.ties,
    prior: s.prior,
    nu: null,
    note: rows.length ? null : 'no votes yet',
  };
}

export interface Agreement {
  metric: 'nominal' | 'interval';
  alpha: number | null;
  units: number;
  /** Share of pairs of answers (same unit, different annotators) that agree. */
  raw: number | null;
  kappa: Array<{ a: string; b: string; kappa: number | null; n: number }>;
}

export function agreement(p: Project): Agreement {
  const kind = p.settings.task;
  const tasks = new Map(p.tasks().map((t) => [t.id, t]));
  const units = new Map<string, Map<string, Label>>();
  for (const v of p.votes()) {
    if (v.gold) continue;
    for (const [suffix, value] of answerUnits(kind, tasks.get(v.taskId)!.candidates, v.answer)) {
      const key = `${v.taskId}:${suffix}`;
      if (!units.has(key)) units.set(key, new Map());
      units.get(key)!.set(v.annotator, value);
    }
  }
  const metric = kind === 'likert' ? 'interval' : 'nominal';
  const lists = [...units.values()].map((m) => [...m.values()]);
  const a = krippendorffAlpha(lists, metric);
  let same = 0,
    pairs = 0;
  for (const l of lists)
    for (let i = 0; i < l.length; i++)
      for (let j = i + 1; j < l.length; j++) {
        pairs++;
        if (l[i] === l[j]) same++;
      }
  const people = [...new Set([...units.values()].flatMap((m) => [...m.keys()]))].sort();
  const kappa: Agreement['kappa'] = [];
  for (let i = 0; i < people.length; i++)
    for (let j = i + 1; j < people.length; j++) {
      const shared = [...units.values()]
        .filter((m) => m.has(people[i]) && m.has(people[j]))
        .map((m) => [m.get(people[i])!, m.get(people[j])!] as [Label, Label]);
      if (!shared.length) continue;
      const k = cohenKappa(shared).kappa;
      kappa.push({ a: people[i], b: people[j], kappa: Number.isNaN(k) ? null : k, n: shared.length });
    }
  return {
    metric,
    alpha: Number.isNaN(a.alpha) ? null : a.alpha,
    units: a.units,
    raw: pairs ? same / pairs : null,
    kappa,
  };
}

export interface PersonRow {
  name: string;
  votes: number;
  gold: number;
  goldAccuracy: number | null;
  medianMs: number | null;
}

export interface Progress {
  tasks: number;
  target: number;
  done: number;
  people: PersonRow[];
}

export function progress(p: Project): Progress {
  const s = p.settings;
  const tasks = p.tasks();
  const regular = tasks.filter((t) => !t.gold);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const goldRank = new Map<number, number>();
  for (const g of p.groups()) if (g.gold) p.candidates(g.id).forEach((c, k) => goldRank.set(c.id, g.gold![k]));
  const per = new Map<string, { votes: number; gold: number; score: number; ms: number[] }>();
  for (const v of p.votes()) {
    const r = per.get(v.annotator) ?? { votes: 0, gold: 0, score: 0, ms: [] };
    r.votes++;
    if (v.durationMs !== null) r.ms.push(v.durationMs);
    if (v.gold) {
      r.gold++;
      r.score += goldScore(s.task, byId.get(v.taskId)!.candidates, v.answer, (c) => goldRank.get(c)!);
    }
    per.set(v.annotator, r);
  }
  const target = (s.pairs === 'active' ? (s.budget ?? regular.length) : regular.length) * s.overlap;
  const people = [...per.entries()]
    .map(([name, r]) => ({
      name,
      votes: r.votes,
      gold: r.gold,
      goldAccuracy: r.gold ? r.score / r.gold : null,
      medianMs: r.ms.length
        ? quantileSorted(
            r.ms.sort((a, b) => a - b),
            0.5,
          )
        : null,
    }))
    .sort((a, b) => b.votes - a.votes || a.name.localeCompare(b.name));
  return { tasks: regular.length, target, done: regular.reduce((a, t) => a + Math.min(t.votes, s.overlap), 0), people };
}

/** Imported preference pairs: how often decisive votes pick the dataset's 'chosen' candidate. */
export function labelAgreement(p: Project): { n: number; rate: number | null } {
  if (p.settings.task !== 'pairwise') return { n: 0, rate: null };
  const label = new Map(p.candidates().map((c) => [c.id, c.label]));
  const tasks = new Map(p.tasks().map((t) => [t.id, t]));
  let n = 0,
    agree = 0;
  for (const v of p.votes()) {
    const t = tasks.get(v.taskId)!;
    const verdict = v.answer.verdict;
    if (v.gold || (verdict !== 'a' && verdict !== 'b')) continue;
    const winner = t.candidates[verdict === 'a' ? 0 : 1];
    const l = label.get(winner);
    if (l !== 'chosen' && l !== 'rejected') continue;
    n++;
    if (l === 'chosen') agree++;
  }
  return { n, rate: n ? agree / n : null };
}
