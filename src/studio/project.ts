// One studio project: a folder DATA/projects/NAME holding project.sqlite and media/ (the only place
// its videos are served from). The database holds the prompts ("groups"), their candidates (a text
// or a video, optionally the system that made it), the tasks people answer (a pair, or a group's K
// candidates, or one candidate for Likert), assignments (a task served to one annotator, with the
// order it was shown in), and votes (canonical answers: candidate ids, never screen positions).
// Every write is one transaction; a vote is one row, so a kill -9 leaves it whole or absent.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Text } from '../data/datasets.js';
import { type DB, type SyncMode, openDb, prep } from './db.js';
import { DEFAULT_SETTINGS, type ProjectSettings, parseSettings } from './settings.js';

export const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface Segment {
  start: number;
  end: number;
  label?: string;
}

export interface CandidateInput {
  kind: 'text' | 'video';
  /** The completion (text candidates). */
  text?: Text;
  /** A file name inside the project's media/ folder (video candidates). */
  media?: string;
  system?: string | null;
  /** 'chosen' or 'rejected' when imported from a preference row. */
  label?: string | null;
  meta?: { segments?: Segment[]; [k: string]: unknown };
}

export interface GroupInput {
  prompt: Text;
  candidates: CandidateInput[];
  category?: string | null;
  /** Known answer: a rank per candidate (1 = best; Likert: a score per candidate). */
  gold?: number[] | null;
  /** Where it came from ("file:line", "api", …). */
  source: string;
  meta?: Record<string, unknown>;
}

export interface Candidate {
  id: number;
  groupId: number;
  position: number;
  kind: 'text' | 'video';
  content: Text;
  system: string | null;
  label: string | null;
  meta: CandidateInput['meta'];
}

export interface Group {
  id: number;
  prompt: Text;
  category: string | null;
  gold: number[] | null;
  source: string;
}

export interface TaskRow {
  id: number;
  groupId: number;
  candidates: number[];
  gold: boolean;
  votes: number;
  /** Why it exists: 'import', 'active:uncertainty' or 'active:fairness'. */
  reason: string;
}

export interface VoteRow {
  id: number;
  taskId: number;
  annotator: string;
  answer: Record<string, unknown>;
  rationale: string | null;
  durationMs: number | null;
  createdAt: number;
  gold: boolean;
}

const MIGRATIONS = [
  `CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE groups(
     id INTEGER PRIMARY KEY,
     prompt TEXT NOT NULL,
     category TEXT,
     gold TEXT,
     source TEXT NOT NULL,
     meta TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL
   );
   CREATE TABLE candidates(
     id INTEGER PRIMARY KEY,
     group_id INTEGER NOT NULL REFERENCES groups(id),
     position INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK(kind IN ('text', 'video')),
     content TEXT NOT NULL,
     system TEXT,
     label TEXT,
     meta TEXT NOT NULL DEFAULT '{}',
     UNIQUE(group_id, position)
   );
   CREATE TABLE tasks(
     id INTEGER PRIMARY KEY,
     group_id INTEGER NOT NULL REFERENCES groups(id),
     candidates TEXT NOT NULL,
     gold INTEGER NOT NULL DEFAULT 0,
     votes INTEGER NOT NULL DEFAULT 0,
     reason TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     UNIQUE(group_id, candidates)
   );
   CREATE INDEX tasks_open ON tasks(gold, votes, id);
   CREATE TABLE assignments(
     id TEXT PRIMARY KEY,
     task_id INTEGER NOT NULL REFERENCES tasks(id),
     annotator TEXT NOT NULL,
     shown TEXT NOT NULL,
     issued_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     UNIQUE(task_id, annotator)
   );
   CREATE INDEX assignments_live ON assignments(task_id, expires_at);
   CREATE TABLE votes(
     id INTEGER PRIMARY KEY,
     assignment_id TEXT NOT NULL UNIQUE REFERENCES assignments(id),
     task_id INTEGER NOT NULL REFERENCES tasks(id),
     annotator TEXT NOT NULL,
     answer TEXT NOT NULL,
     rationale TEXT,
     duration_ms INTEGER,
     created_at INTEGER NOT NULL,
     UNIQUE(task_id, annotator)
   );
   CREATE INDEX votes_annotator ON votes(annotator);`,
  // 2: an annotator's own assignments are looked up on every request for a task
  'CREATE INDEX assignments_annotator ON assignments(annotator);',
];

export class Project {
  readonly db: DB;
  readonly mediaDir: string;
  private cached: ProjectSettings | null = null;
  private counted: { at: number; tasks: number; done: number } | null = null;

  private constructor(
    readonly name: string,
    readonly dir: string,
    sync: SyncMode,
  ) {
    this.mediaDir = join(dir, 'media');
    this.db = openDb(join(dir, 'project.sqlite'), MIGRATIONS, sync);
  }

  static dirOf(dataDir: string, name: string): string {
    if (!PROJECT_RE.test(name))
      throw new Error(`pacer: project names are 1-64 letters, digits, '_', '.' or '-' (got '${name}')`);
    return join(dataDir, 'projects', name);
  }

  static exists(dataDir: string, name: string): boolean {
    return existsSync(join(Project.dirOf(dataDir, name), 'project.sqlite'));
  }

  static list(dataDir: string): string[] {
    const root = join(dataDir, 'projects');
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((n) => PROJECT_RE.test(n) && existsSync(join(root, n, 'project.sqlite')))
      .sort();
  }

  static open(dataDir: string, name: string, sync: SyncMode = 'normal'): Project {
    if (!Project.exists(dataDir, name)) throw new Error(`pacer: no project '${name}' in ${dataDir}`);
    return new Project(name, Project.dirOf(dataDir, name), sync);
  }

  /** Open a project by its folder (DATA/projects/NAME). */
  static openDir(dir: string, sync: SyncMode = 'normal'): Project {
    if (!existsSync(join(dir, 'project.sqlite')))
      throw new Error(`pacer: ${dir} is not a studio project folder (it has no project.sqlite)`);
    return new Project(basename(dir), dir, sync);
  }

  static create(dataDir: string, name: string, settings: Record<string, unknown>, sync: SyncMode = 'normal'): Project {
    if (Project.exists(dataDir, name)) throw new Error(`pacer: project '${name}' already exists in ${dataDir}`);
    const s = parseSettings(settings);
    const dir = Project.dirOf(dataDir, name);
    mkdirSync(join(dir, 'media'), { recursive: true });
    const p = new Project(name, dir, sync);
    prep(p.db, 'INSERT INTO settings(key, value) VALUES (?, ?)').run('settings', JSON.stringify(s));
    return p;
  }

  get settings(): ProjectSettings {
    if (!this.cached) {
      const row = prep(this.db, "SELECT value FROM settings WHERE key = 'settings'").get() as
        | { value: string }
        | undefined;
      this.cached = parseSettings(row ? JSON.parse(row.value) : {}, DEFAULT_SETTINGS);
    }
    return this.cached;
  }

  /** Change settings that do not invalidate collected votes (the task kind cannot change). */
  updateSettings(raw: Record<string, unknown>): ProjectSettings {
    if ('task' in raw && raw.task !== this.settings.task)
      throw new Error(`pacer: a project's task cannot change (it is '${this.settings.task}')`);
    const s = parseSettings(raw, this.settings);
    prep(this.db, "UPDATE settings SET value = ? WHERE key = 'settings'").run(JSON.stringify(s));
    this.cached = s;
    return s;
  }

  // ---- reading

  group(id: number): Group {
    const r = prep(this.db, 'SELECT * FROM groups WHERE id = ?').get(id) as Record<string, any>;
    return {
      id: r.id,
      prompt: JSON.parse(r.prompt),
      category: r.category,
      gold: JSON.parse(r.gold ?? 'null'),
      source: r.source,
    };
  }

  groups(): Group[] {
    return (prep(this.db, 'SELECT * FROM groups ORDER BY id').all() as Array<Record<string, any>>).map((r) => ({
      id: r.id,
      prompt: JSON.parse(r.prompt),
      category: r.category,
      gold: JSON.parse(r.gold ?? 'null'),
      source: r.source,
    }));
  }

  candidates(groupId?: number): Candidate[] {
    const rows = (
      groupId === undefined
        ? prep(this.db, 'SELECT * FROM candidates ORDER BY id').all()
        : prep(this.db, 'SELECT * FROM candidates WHERE group_id = ? ORDER BY position').all(groupId)
    ) as Array<Record<string, any>>;
    return rows.map((r) => ({
      id: r.id,
      groupId: r.group_id,
      position: r.position,
      kind: r.kind,
      content: JSON.parse(r.content),
      system: r.system,
      label: r.label,
      meta: JSON.parse(r.meta),
    }));
  }

  task(id: number): TaskRow | null {
    const r = prep(this.db, 'SELECT * FROM tasks WHERE id = ?').get(id) as Record<string, any> | undefined;
    return r ? taskRow(r) : null;
  }

  tasks(): TaskRow[] {
    return (prep(this.db, 'SELECT * FROM tasks ORDER BY id').all() as Array<Record<string, any>>).map(taskRow);
  }

  votes(): VoteRow[] {
    const rows = prep(
      this.db,
      'SELECT v.*, t.gold AS gold FROM votes v JOIN tasks t ON t.id = v.task_id ORDER BY v.id',
    ).all() as Array<Record<string, any>>;
    return rows.map((r) => ({
      id: r.id,
      taskId: r.task_id,
      annotator: r.annotator,
      answer: JSON.parse(r.answer),
      rationale: r.rationale,
      durationMs: r.duration_ms,
      createdAt: r.created_at,
      gold: r.gold === 1,
    }));
  }

  /**
   * Answers so far: the annotator's own (exact), and the project's (regular tasks' votes up to the
   * overlap, against the target). Counting scans every task, so the project's figure is recounted at
   * most once a second (or now, with `fresh`), and kept exact in between for the votes this process
   * records (`countVote`); another process's votes show at the next recount.
   */
  progressCounts(annotator: string, now = Date.now(), fresh = false): { mine: number; done: number; target: number } {
    const s = this.settings;
    const mine = (prep(this.db, 'SELECT count(*) AS n FROM votes WHERE annotator = ?').get(annotator) as { n: number })
      .n;
    if (fresh || !this.counted || now - this.counted.at > 1000) {
      const r = prep(this.db, 'SELECT count(*) AS tasks, total(min(votes, ?)) AS done FROM tasks WHERE gold = 0').get(
        s.overlap,
      ) as { tasks: number; done: number };
      this.counted = { at: now, ...r };
    }
    const { tasks, done } = this.counted;
    return { mine, done, target: (s.pairs === 'active' ? (s.budget ?? tasks) : tasks) * s.overlap };
  }

  /** A vote was just recorded on `task` (its vote count before this one): keep the cached count exact. */
  countVote(task: { gold: boolean; votes: number }): void {
    if (this.counted && !task.gold && task.votes < this.settings.overlap) this.counted.done += 1;
  }

  voteCount(): number {
    return (prep(this.db, 'SELECT count(*) AS n FROM votes').get() as { n: number }).n;
  }

  /** Does every candidate carry a system name (ratings are then per system, else per candidate)? */
  hasSystems(): boolean {
    const r = prep(this.db, 'SELECT count(*) AS n, count(system) AS s FROM candidates').get() as {
      n: number;
      s: number;
    };
    return r.n > 0 && r.n === r.s;
  }

  close(): void {
    this.db.close();
  }
}

function taskRow(r: Record<string, any>): TaskRow {
  return {
    id: r.id,
    groupId: r.group_id,
    candidates: JSON.parse(r.candidates),
    gold: r.gold === 1,
    votes: r.votes,
    reason: r.reason,
  };
}
