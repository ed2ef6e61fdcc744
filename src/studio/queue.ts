// Serving tasks and taking votes. next(annotator), in one transaction:
//   1. the annotator's own unanswered assignment, if its task still needs votes (a reload or a second
//      tab gets the same task back, never a second one);
//   2. a gold task, when every gold_every-th answer is due and one is left for this annotator;
//   3. the open task closest to done: fewer than `overlap` votes plus live reservations by others;
//   4. with pairs: active, a new pair task chosen by active selection (src/studio/pairs.ts);
//   5. any gold task left; else nothing (the annotator is done).
// A served task is reserved (an assignment, lease_s seconds) with its candidates in a random order.
// vote(annotator, body): the assignment must be the caller's; a repeated vote on it returns the
// stored one (duplicate: true) instead of counting twice; one row per vote, in one transaction.
import { randomBytes, randomInt } from 'node:crypto';
import { HttpError } from '../server/http.js';
import { canonicalAnswer, type Canonical } from './answers.js';
import { ActivePairs } from './pairs.js';
import type { Project } from './project.js';
import { prep } from './db.js';

export interface Served {
  assignment: string;
  taskId: number;
  groupId: number;
  /** Candidate ids in the order shown (A, B or 1..K). */
  shown: number[];
  gold: boolean;
  expiresAt: number;
}

export interface VoteResult {
  voteId: number;
  taskId: number;
  duplicate: boolean;
  answer: Canonical;
  /** The systems behind the shown candidates, in the shown order (when the project reveals them). */
  reveal: Array<string | null> | null;
}

function shuffled(xs: number[]): number[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export class Queue {
  private readonly active: ActivePairs;
  constructor(readonly p: Project) {
    this.active = new ActivePairs(p);
  }

  next(annotator: string, now = Date.now()): Served | null {
    return this.p.db.transaction(() => this.nextIn(annotator, now))();
  }

  private nextIn(me: string, now: number): Served | null {
    const s = this.p.settings;
    const db = this.p.db;
    const mine = prep(
      db,
      `SELECT a.id, a.task_id, a.shown FROM assignments a JOIN tasks t ON t.id = a.task_id
         WHERE a.annotator = ? AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.assignment_id = a.id)
           AND (t.gold = 1 OR t.votes < ?) ORDER BY a.issued_at LIMIT 1`,
    ).get(me, s.overlap) as { id: string; task_id: number; shown: string } | undefined;
    if (mine) {
      prep(db, 'UPDATE assignments SET expires_at = ? WHERE id = ?').run(now + s.lease_s * 1000, mine.id);
      return this.served(mine.id, mine.task_id, JSON.parse(mine.shown), now);
    }
    const done = (prep(db, 'SELECT count(*) AS n FROM votes WHERE annotator = ?').get(me) as { n: number }).n;
    const gold = () =>
      prep(
        db,
        `SELECT id FROM tasks t WHERE gold = 1
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.annotator = ?) ORDER BY id LIMIT 1`,
      ).get(me) as { id: number } | undefined;
    let pick: number | undefined;
    if ((done + 1) % s.gold_every === 0) pick = gold()?.id;
    pick ??= this.openTask(me, now);
    if (pick === undefined && s.pairs === 'active') pick = this.active.create(now) ?? undefined;
    pick ??= gold()?.id;
    return pick === undefined ? null : this.assign(me, pick, now);
  }

  /** The open regular task nearest to done that this annotator has not been served. */
  private openTask(me: string, now: number): number | undefined {
    const k = this.p.settings.overlap;
    const sql = (votes: string) =>
      `SELECT t.id FROM tasks t WHERE t.gold = 0 AND ${votes}
         AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.annotator = :me)
         AND t.votes + (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.expires_at > :now
                        AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.assignment_id = a.id)) < :k
       ORDER BY t.votes DESC, t.id LIMIT 1`;
    const started = k > 1 ? (prep(this.p.db, sql('t.votes BETWEEN 1 AND :k - 1')).get({ me, now, k }) as any) : null;
    const fresh = started ?? (prep(this.p.db, sql('t.votes = 0')).get({ me, now, k }) as any);
    return fresh?.id;
  }

  private assign(me: string, taskId: number, now: number): Served {
    const task = this.p.task(taskId)!;
    const id = randomBytes(18).toString('base64url');
    const shown = shuffled(task.candidates);
    prep(
      this.p.db,
      `INSERT INTO assignments(id, task_id, annotator, shown, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(task_id, annotator) DO UPDATE SET expires_at = excluded.expires_at`,
    ).run(id, taskId, me, JSON.stringify(shown), now, now + this.p.settings.lease_s * 1000);
    const row = prep(this.p.db, 'SELECT id, shown FROM assignments WHERE task_id = ? AND annotator = ?').get(
      taskId,
      me,
    ) as { id: string; shown: string };
    return this.served(row.id, taskId, JSON.parse(row.shown), now);
  }

  private served(assignment: string, taskId: number, shown: number[], now: number): Served {
    const t = this.p.task(taskId)!;
    return {
      assignment,
      taskId,
      groupId: t.groupId,
      shown,
      gold: t.gold,
      expiresAt: now + this.p.settings.lease_s * 1000,
    };
  }

  vote(me: string, body: Record<string, unknown>, now = Date.now()): VoteResult {
    const aid = body.assignment;
    if (typeof aid !== 'string') throw new HttpError(400, "'assignment' (the id the task came with) is required");
    const r = body.rationale;
    if (r !== undefined && r !== null && (typeof r !== 'string' || r.length > 4000))
      throw new HttpError(400, "'rationale' must be a string of at most 4000 characters");
    const dur = body.duration_ms;
    if (dur !== undefined && dur !== null && !(Number.isInteger(dur) && (dur as number) >= 0))
      throw new HttpError(400, "'duration_ms' must be a whole number of milliseconds");
    return this.p.db.transaction(() => {
      const a = prep(this.p.db, 'SELECT * FROM assignments WHERE id = ?').get(aid) as Record<string, any> | undefined;
      if (!a || a.annotator !== me) throw new HttpError(404, 'no such assignment for this annotator');
      const task = this.p.task(a.task_id)!;
      const shown = JSON.parse(a.shown) as number[];
      const prior = prep(this.p.db, 'SELECT id, answer FROM votes WHERE assignment_id = ?').get(aid) as
        | { id: number; answer: string }
        | undefined;
      if (prior)
        return {
          voteId: prior.id,
          taskId: task.id,
          duplicate: true,
          answer: JSON.parse(prior.answer),
          reveal: this.reveal(shown),
        };
      const answer = canonicalAnswer(this.p.settings, task.candidates, shown, body);
      const id = prep(
        this.p.db,
        `INSERT INTO votes(assignment_id, task_id, annotator, answer, rationale, duration_ms, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        aid,
        task.id,
        me,
        JSON.stringify(answer),
        r || null,
        (dur as number | undefined) ?? null,
        now,
      ).lastInsertRowid;
      prep(this.p.db, 'UPDATE tasks SET votes = votes + 1 WHERE id = ?').run(task.id);
      this.p.countVote(task);
      return { voteId: Number(id), taskId: task.id, duplicate: false, answer, reveal: this.reveal(shown) };
    })();
  }

  private reveal(shown: number[]): Array<string | null> | null {
    if (!this.p.settings.reveal) return null;
    const sys = new Map(
      (
        prep(this.p.db, `SELECT id, system FROM candidates WHERE id IN (${shown.map(() => '?').join(',')})`).all(
          ...shown,
        ) as Array<{
          id: number;
          system: string | null;
        }>
      ).map((r) => [r.id, r.system]),
    );
    return shown.map((id) => sys.get(id) ?? null);
  }
}
