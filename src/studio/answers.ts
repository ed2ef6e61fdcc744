// Answers: what the page sends (in screen terms: "A", position 2, a rank per shown candidate) made
// canonical (in candidate ids, independent of the order they were shown in), and canonical answers
// as pairwise comparisons between rated items (systems, or candidates when there are no systems),
// as agreement units, and scored against gold answers.
//   pairwise    {"choice": "A" | "B" | "tie" | "both_bad"}      → {"verdict": "a" | "b" | "tie" | "both_bad"}
//   best_worst  {"best": i, "worst": j} (screen positions 0..K−1) → {"best": id, "worst": id}
//   ranking     {"ranks": [r per screen position]} (1 = best)     → {"ranks": [r per task candidate]}
//   likert      {"score": 1..7}                                    → {"score": s}
// where "a" is the task's first candidate (the lower id).
import {
  type Comparison,
  bestWorstComparisons,
  pairwiseComparison,
  rankingComparisons,
  type PairwiseVerdict,
} from '../preferences/index.js';
import { HttpError } from '../server/http.js';
import type { ProjectSettings, TaskKind } from './settings.js';

export type Canonical = Record<string, unknown>;

const bad = (msg: string) => new HttpError(400, msg);
const isPos = (v: unknown, K: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < K;

/** Validate an answer given in screen terms and return it in candidate ids. */
export function canonicalAnswer(
  s: ProjectSettings,
  task: number[],
  shown: number[],
  body: Record<string, unknown>,
): Canonical {
  const K = shown.length;
  switch (s.task) {
    case 'pairwise': {
      const c = body.choice;
      const allowed = ['A', 'B', ...(s.allow_tie ? ['tie'] : []), ...(s.allow_both_bad ? ['both_bad'] : [])];
      if (!allowed.includes(c as string)) throw bad(`'choice' must be one of ${allowed.join(', ')}`);
      if (c === 'tie' || c === 'both_bad') return { verdict: c };
      const winner = shown[c === 'A' ? 0 : 1];
      return { verdict: winner === task[0] ? 'a' : 'b' };
    }
    case 'best_worst': {
      if (!isPos(body.best, K) || !isPos(body.worst, K) || body.best === body.worst)
        throw bad(`'best' and 'worst' must be two different positions 0..${K - 1}`);
      return { best: shown[body.best as number], worst: shown[body.worst as number] };
    }
    case 'ranking': {
      const r = body.ranks;
      if (!Array.isArray(r) || r.length !== K || !r.every((x) => Number.isInteger(x) && x >= 1 && x <= K))
        throw bad(`'ranks' must give each of the ${K} candidates a rank 1..${K} (1 = best, equal ranks = tie)`);
      return { ranks: task.map((id) => r[shown.indexOf(id)] as number) };
    }
    case 'likert': {
      const v = body.score;
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 7) throw bad(`'score' must be an integer 1..7`);
      return { score: v };
    }
  }
}

/** A canonical answer as comparisons between rated items (itemOf: candidate id → item, or null). */
export function answerComparisons(
  kind: TaskKind,
  task: number[],
  a: Canonical,
  itemOf: (candidate: number) => number | null,
): Comparison[] {
  let raw: Comparison[];
  if (kind === 'pairwise') raw = [pairwiseComparison(task[0], task[1], a.verdict as PairwiseVerdict)];
  else if (kind === 'best_worst') raw = bestWorstComparisons(task, a.best as number, a.worst as number);
  else if (kind === 'ranking') raw = rankingComparisons(task, a.ranks as number[]);
  else return [];
  const out: Comparison[] = [];
  for (const c of raw) {
    const x = itemOf(c.a),
      y = itemOf(c.b);
    if (x !== null && y !== null && x !== y) out.push({ a: x, b: y, outcome: c.outcome });
  }
  return out;
}

/** Agreement units of one answer: [unit key suffix, value] (nominal, Likert scores interval). */
export function answerUnits(kind: TaskKind, task: number[], a: Canonical): Array<[string, string | number]> {
  if (kind === 'pairwise') return [['', a.verdict as string]];
  if (kind === 'likert') return [['', a.score as number]];
  if (kind === 'best_worst')
    return [
      ['best', a.best as number],
      ['worst', a.worst as number],
    ];
  return rankingComparisons(task, a.ranks as number[]).map((c) => [`${c.a}-${c.b}`, c.outcome]);
}

/** How well an answer matches the gold ranks (Likert: scores) of the task's candidates, in [0, 1]. */
export function goldScore(kind: TaskKind, task: number[], a: Canonical, goldOf: (candidate: number) => number): number {
  const g = task.map(goldOf);
  if (kind === 'likert') return Math.abs((a.score as number) - g[0]) <= 1 ? 1 : 0;
  if (kind === 'pairwise') {
    const want = g[0] < g[1] ? 'a' : g[0] > g[1] ? 'b' : 'tie';
    const got = a.verdict === 'both_bad' ? 'tie' : a.verdict;
    return got === want ? 1 : 0;
  }
  if (kind === 'best_worst') {
    const best = Math.min(...g),
      worst = Math.max(...g);
    return (
      ((g[task.indexOf(a.best as number)] === best ? 1 : 0) + (g[task.indexOf(a.worst as number)] === worst ? 1 : 0)) /
      2
    );
  }
  const r = a.ranks as number[];
  let agree = 0,
    n = 0;
  for (let x = 0; x < task.length; x++)
    for (let y = x + 1; y < task.length; y++) {
      n++;
      if (Math.sign(r[x] - r[y]) === Math.sign(g[x] - g[y])) agree++;
    }
  return n ? agree / n : 1;
}
