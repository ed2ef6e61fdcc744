// A project's votes as TRL datasets (dataset_formats.md), one JSON object per row:
//   preference  {"prompt", "chosen", "rejected"} — pairwise: the winner over the loser; best_worst:
//               the best over the worst (ICPL's signal); ranking: each top-ranked over each
//               bottom-ranked candidate; likert: per prompt, the highest over the lowest mean score
//               (distilabel's rule) with "margin" = the score difference (TRL RewardTrainer's column)
//   pairs       every pairwise comparison a judgment implies (ranking → all K(K−1)/2 pairs, best/worst →
//               2K − 3), consecutive per prompt with a "group" column (InstructGPT trains a prompt's
//               pairs together)
//   kto         unpaired {"prompt", "completion", "label"}: winners/best/top true, losers/worst/bottom
//               false, both bad → both false, ties left out; Likert ≥ 5 true, ≤ 3 false, 4 left out
// Ties and "both bad": dropped (default) or, with ties: keep, kept with "outcome": "tie" | "both_bad"
// (decisive rows say "win") for Bradley–Terry-with-ties reward models. aggregate: vote gives one row
// per vote; majority one row per task and pair, by the majority outcome (split votes dropped), with
// "votes" and "agreement". Rows keep "annotator", "task", "duration_ms", "category" and the systems
// ("chosen_model", "rejected_model"); gold tasks are left out. Text is conversational when the
// prompt or a completion is a message list; video candidates export as their media file's path.
import { join } from 'node:path';
import type { Text } from '../data/datasets.js';
import type { Comparison } from '../preferences/counts.js';
import { bestWorstComparisons, rankingComparisons } from '../preferences/outcomes.js';
import type { Candidate, Group, Project, TaskRow, VoteRow } from './project.js';

export const EXPORT_FORMATS = ['preference', 'pairs', 'kto'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format?: ExportFormat;
  ties?: 'drop' | 'keep';
  aggregate?: 'vote' | 'majority';
}

type Row = Record<string, unknown>;
/** One judged pair of candidates: a beat b (outcome 1), or tie / both_bad. */
interface Judged {
  a: number;
  b: number;
  outcome: 'win' | 'tie' | 'both_bad';
  vote: VoteRow | null;
  votes?: number;
  agreement?: number;
}

interface Ctx {
  p: Project;
  cands: Map<number, Candidate>;
  groups: Map<number, Group>;
  conversational: boolean;
}

function asMessages(t: Text, role: string): Array<{ role: string; content: string }> {
  return typeof t === 'string' ? [{ role, content: t }] : t;
}

function content(c: Ctx, id: number): Text {
  const x = c.cands.get(id)!;
  const v = x.kind === 'video' ? join(c.p.mediaDir, x.content as string) : x.content;
  return c.conversational ? asMessages(v, 'assistant') : v;
}

function prompt(c: Ctx, groupId: number): Text {
  const t = c.groups.get(groupId)!.prompt;
  return c.conversational ? asMessages(t, 'user') : t;
}

function meta(c: Ctx, t: TaskRow, v: VoteRow | null): Row {
  const g = c.groups.get(t.groupId)!;
  return {
    task: t.id,
    ...(v ? { annotator: v.annotator, duration_ms: v.durationMs } : {}),
    ...(g.category !== null ? { category: g.category } : {}),
  };
}

/** The pairs a vote implies: every pair (pairs format), or the best/top over the worst/bottom. */
function judged(kind: string, t: TaskRow, v: VoteRow, every: boolean): Judged[] {
  const a = v.answer;
  const ids = t.candidates;
  if (kind === 'pairwise') {
    const verdict = a.verdict as string;
    if (verdict !== 'a' && verdict !== 'b')
      return [{ a: ids[0], b: ids[1], outcome: verdict as 'tie' | 'both_bad', vote: v }];
    const [w, l] = verdict === 'a' ? ids : [ids[1], ids[0]];
    return [{ a: w, b: l, outcome: 'win', vote: v }];
  }
  let cmp: Comparison[];
  if (kind === 'best_worst')
    cmp = every
      ? bestWorstComparisons(ids, a.best as number, a.worst as number)
      : [{ a: a.best as number, b: a.worst as number, outcome: 1 }];
  else if (kind === 'ranking') {
    const r = a.ranks as number[];
    const rank = (id: number) => r[ids.indexOf(id)];
    const top = Math.min(...r),
      bottom = Math.max(...r);
    cmp = rankingComparisons(ids, r).filter(
      (c) =>
        every ||
        top === bottom ||
        (new Set([rank(c.a), rank(c.b)]).size === 2 && [rank(c.a), rank(c.b)].every((x) => x === top || x === bottom)),
    );
  } else return [];
  return cmp.map((c) =>
    c.outcome === 0.5
      ? { a: c.a, b: c.b, outcome: 'tie' as const, vote: v }
      : { a: c.outcome === 1 ? c.a : c.b, b: c.outcome === 1 ? c.b : c.a, outcome: 'win' as const, vote: v },
  );
}

/** Majority per (task, pair): the most frequent outcome, dropped when two outcomes tie for most. */
function majority(all: Array<Judged & { task: TaskRow }>): Array<Judged & { task: TaskRow }> {
  const groups = new Map<string, Array<Judged & { task: TaskRow }>>();
  for (const j of all) {
    const key = `${j.task.id}:${Math.min(j.a, j.b)},${Math.max(j.a, j.b)}`;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  const out: Array<Judged & { task: TaskRow }> = [];
  for (const js of groups.values()) {
    const tally = new Map<string, Array<Judged & { task: TaskRow }>>();
    for (const j of js) {
      const k = j.outcome === 'win' ? `win:${j.a}` : j.outcome;
      tally.set(k, [...(tally.get(k) ?? []), j]);
    }
    const ranked = [...tally.values()].sort((x, y) => y.length - x.length);
    if (ranked.length > 1 && ranked[0].length === ranked[1].length) continue;
    out.push({ ...ranked[0][0], vote: null, votes: js.length, agreement: ranked[0].length / js.length });
  }
  return out;
}

function preferenceRows(c: Ctx, o: Required<ExportOptions>, every: boolean): Row[] {
  const p = c.p;
  const kind = p.settings.task;
  const tasks = new Map(p.tasks().map((t) => [t.id, t]));
  if (kind === 'likert') return likertPreference(c, tasks);
  let all = p
    .votes()
    .filter((v) => !v.gold)
    .flatMap((v) => judged(kind, tasks.get(v.taskId)!, v, every).map((j) => ({ ...j, task: tasks.get(v.taskId)! })));
  if (o.aggregate === 'majority') all = majority(all);
  all.sort((x, y) => x.task.groupId - y.task.groupId || x.task.id - y.task.id);
  return all
    .filter((j) => j.outcome === 'win' || o.ties === 'keep')
    .map((j) => ({
      prompt: prompt(c, j.task.groupId),
      chosen: content(c, j.a),
      rejected: content(c, j.b),
      ...(o.ties === 'keep' ? { outcome: j.outcome } : {}),
      ...(c.cands.get(j.a)!.system !== null
        ? { chosen_model: c.cands.get(j.a)!.system, rejected_model: c.cands.get(j.b)!.system }
        : {}),
      ...(every ? { group: `${j.task.id}${j.vote ? `:${j.vote.annotator}` : ''}` } : {}),
      ...meta(c, j.task, j.vote),
      ...(j.votes !== undefined ? { votes: j.votes, agreement: j.agreement } : {}),
    }));
}

/** Likert → preference: per prompt, the highest mean score over the lowest, margin the difference. */
function likertPreference(c: Ctx, tasks: Map<number, TaskRow>): Row[] {
  const sum = new Map<number, { s: number; n: number }>();
  for (const v of c.p.votes()) {
    if (v.gold) continue;
    const id = tasks.get(v.taskId)!.candidates[0];
    const x = sum.get(id) ?? { s: 0, n: 0 };
    sum.set(id, { s: x.s + (v.answer.score as number), n: x.n + 1 });
  }
  const rows: Row[] = [];
  for (const g of c.groups.values()) {
    const scored = c.p
      .candidates(g.id)
      .filter((x) => sum.has(x.id))
      .map((x) => ({ id: x.id, mean: sum.get(x.id)!.s / sum.get(x.id)!.n }))
      .sort((a, b) => b.mean - a.mean);
    if (scored.length < 2 || scored[0].mean === scored[scored.length - 1].mean) continue;
    const [hi, lo] = [scored[0], scored[scored.length - 1]];
    rows.push({
      prompt: prompt(c, g.id),
      chosen: content(c, hi.id),
      rejected: content(c, lo.id),
      margin: hi.mean - lo.mean,
      ...(g.category !== null ? { category: g.category } : {}),
    });
  }
  return rows;
}

function ktoRows(c: Ctx): Row[] {
  const p = c.p;
  const kind = p.settings.task;
  const tasks = new Map(p.tasks().map((t) => [t.id, t]));
  const rows: Row[] = [];
  const add = (t: TaskRow, v: VoteRow, id: number, label: boolean) =>
    rows.push({
      prompt: prompt(c, t.groupId),
      completion: content(c, id),
      label,
      ...(c.cands.get(id)!.system !== null ? { model: c.cands.get(id)!.system } : {}),
      ...meta(c, t, v),
    });
  for (const v of p.votes()) {
    if (v.gold) continue;
    const t = tasks.get(v.taskId)!;
    const a = v.answer;
    const ids = t.candidates;
    if (kind === 'pairwise') {
      if (a.verdict === 'a' || a.verdict === 'b') {
        add(t, v, ids[a.verdict === 'a' ? 0 : 1], true);
        add(t, v, ids[a.verdict === 'a' ? 1 : 0], false);
      } else if (a.verdict === 'both_bad') for (const id of ids) add(t, v, id, false);
    } else if (kind === 'best_worst') {
      add(t, v, a.best as number, true);
      add(t, v, a.worst as number, false);
    } else if (kind === 'ranking') {
      const r = a.ranks as number[];
      const top = Math.min(...r),
        bottom = Math.max(...r);
      if (top !== bottom)
        ids.forEach((id, k) => (r[k] === top ? add(t, v, id, true) : r[k] === bottom ? add(t, v, id, false) : 0));
    } else {
      const sc = a.score as number;
      if (sc !== 4) add(t, v, ids[0], sc >= 5);
    }
  }
  return rows;
}

export function exportRows(p: Project, o: ExportOptions = {}): Row[] {
  const opts: Required<ExportOptions> = {
    format: o.format ?? 'preference',
    ties: o.ties ?? 'drop',
    aggregate: o.aggregate ?? 'vote',
  };
  if (!EXPORT_FORMATS.includes(opts.format))
    throw new Error(`pacer: export format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (opts.ties !== 'drop' && opts.ties !== 'keep') throw new Error("pacer: ties must be 'drop' or 'keep'");
  if (opts.aggregate !== 'vote' && opts.aggregate !== 'majority')
    throw new Error("pacer: aggregate must be 'vote' or 'majority'");
  const groups = new Map(p.groups().map((g) => [g.id, g]));
  const cands = new Map(p.candidates().map((x) => [x.id, x]));
  const conversational =
    [...groups.values()].some((g) => Array.isArray(g.prompt)) ||
    [...cands.values()].some((x) => Array.isArray(x.content));
  const c: Ctx = { p, cands, groups, conversational };
  if (opts.format === 'kto') return ktoRows(c);
  return preferenceRows(c, opts, opts.format === 'pairs');
}
