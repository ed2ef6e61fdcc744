// The studio's state in one process: the data folder's users, the projects opened so far (each with
// its queue), waiters for task results (the ICPL loop's long polls) and a cache of leaderboard fits
// (keyed by the vote count, so a new vote refits and a page reload does not).
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SyncMode } from './db.js';
import { Project } from './project.js';
import { Queue } from './queue.js';
import { HttpError } from '../server/http.js';
import type { Ratings } from './stats.js';
import { Users } from './users.js';

export interface StudioOptions {
  dataDir: string;
  /** The admin's token (printed at start, or PACER_STUDIO_TOKEN). */
  adminToken: string;
  sync?: SyncMode;
  /** Largest video upload in bytes (default 256 MiB). */
  uploadLimit?: number;
  /** Bootstrap rounds for the leaderboard (default 1000). */
  rounds?: number;
  log?: (msg: string) => void;
}

function fitInWorker(dir: string, rounds: number): Promise<Ratings> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./ratings-worker.js', import.meta.url), { workerData: { dir, rounds } });
    w.once('message', (m: { ok?: Ratings; error?: string }) => (m.ok ? resolve(m.ok) : reject(new Error(m.error))));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`pacer: the ratings worker exited with code ${code}`)));
  });
}

export class Studio {
  readonly users: Users;
  private readonly open = new Map<string, { p: Project; q: Queue }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly fits = new Map<string, { votes: number; rounds: number; r: Promise<Ratings> }>();

  constructor(readonly o: StudioOptions) {
    mkdirSync(o.dataDir, { recursive: true });
    this.users = new Users(o.dataDir, o.sync);
    this.users.setAdminToken(o.adminToken);
  }

  get uploadLimit(): number {
    return this.o.uploadLimit ?? 256 * 2 ** 20;
  }

  names(): string[] {
    return Project.list(this.o.dataDir);
  }

  project(name: string): { p: Project; q: Queue } {
    let x = this.open.get(name);
    if (!x) {
      let ok = false;
      try {
        ok = Project.exists(this.o.dataDir, name);
      } catch {
        ok = false;
      }
      if (!ok) throw new HttpError(404, `no project '${name}'`);
      const p = Project.open(this.o.dataDir, name, this.o.sync);
      x = { p, q: new Queue(p) };
      this.open.set(name, x);
    }
    return x;
  }

  create(name: string, settings: Record<string, unknown>): Project {
    let p: Project;
    try {
      p = Project.create(this.o.dataDir, name, settings, this.o.sync);
    } catch (e) {
      const msg = (e as Error).message.replace(/^pacer: /, '');
      throw new HttpError(/already exists/.test(msg) ? 409 : 400, msg);
    }
    this.open.set(name, { p, q: new Queue(p) });
    return p;
  }

  /** Wake the long polls waiting on a task. */
  notify(name: string, taskId: number): void {
    const key = `${name}:${taskId}`;
    for (const w of this.waiters.get(key) ?? []) w();
    this.waiters.delete(key);
  }

  /** Resolve when the task gets a vote, after ms, or when the signal aborts. */
  waitForVote(name: string, taskId: number, ms: number, signal: AbortSignal): Promise<void> {
    const key = `${name}:${taskId}`;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (!this.waiters.has(key)) this.waiters.set(key, new Set());
      this.waiters.get(key)!.add(done);
    });
  }

  /** The leaderboard's ratings, fitted in a worker thread; one fit per vote count, shared by concurrent asks. */
  ratings(name: string, rounds = this.o.rounds ?? 1000): Promise<Ratings> {
    const { p } = this.project(name);
    const votes = p.voteCount();
    const hit = this.fits.get(name);
    if (hit && hit.votes === votes && hit.rounds === rounds) return hit.r;
    const r = fitInWorker(p.dir, rounds);
    this.fits.set(name, { votes, rounds, r });
    r.catch(() => this.fits.delete(name));
    return r;
  }

  close(): void {
    for (const { p } of this.open.values()) p.close();
    this.open.clear();
    this.users.close();
  }
}
