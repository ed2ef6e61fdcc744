// People: the admin and annotators, each with a bearer token, and browser sessions. Tokens are
// shown once and stored only as SHA-256 hashes (a leaked database does not leak tokens); a browser
// exchanges a token for a session on the login form (POST, so the token never sits in a URL that
// gets logged), and the session id travels in an HttpOnly, SameSite=Strict cookie together with a
// per-session CSRF token that every write from the page must echo. Stored in DATA/studio.sqlite.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type DB, type SyncMode, openDb, prep } from './db.js';

export const ROLES = ['admin', 'annotator'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  name: string;
  role: Role;
}

export interface Session {
  user: User;
  csrf: string;
}

const MIGRATIONS = [
  `CREATE TABLE users(
     name TEXT PRIMARY KEY,
     role TEXT NOT NULL CHECK(role IN ('admin', 'annotator')),
     token_hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE sessions(
     id_hash TEXT PRIMARY KEY,
     name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
     csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
];

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SESSION_S = 7 * 24 * 3600;

export const newToken = (prefix: string): string => `${prefix}_${randomBytes(24).toString('base64url')}`;
const hash = (s: string) => createHash('sha256').update(s).digest('hex');

export class Users {
  readonly db: DB;
  constructor(dataDir: string, sync: SyncMode = 'normal') {
    this.db = openDb(join(dataDir, 'studio.sqlite'), MIGRATIONS, sync);
  }

  /** Set the admin's token (the one printed at start, or PACER_STUDIO_TOKEN); a new one ends old admin sessions. */
  setAdminToken(token: string): void {
    const was = prep(this.db, "SELECT token_hash AS h FROM users WHERE name = 'admin'").get() as
      | { h: string }
      | undefined;
    if (was && was.h !== hash(token)) prep(this.db, "DELETE FROM sessions WHERE name = 'admin'").run();
    prep(
      this.db,
      `INSERT INTO users(name, role, token_hash, created_at) VALUES ('admin', 'admin', ?, ?)
         ON CONFLICT(name) DO UPDATE SET token_hash = excluded.token_hash, role = 'admin', disabled = 0`,
    ).run(hash(token), Date.now());
  }

  /** Add an annotator (or another admin); returns the token, which is not stored. */
  add(name: string, role: Role = 'annotator'): string {
    if (!NAME_RE.test(name))
      throw new Error(`pacer: annotator names are 1-64 letters, digits, '_', '.' or '-' (got '${name}')`);
    if (!ROLES.includes(role)) throw new Error(`pacer: role must be admin or annotator, got '${role}'`);
    if (name === 'admin') throw new Error("pacer: 'admin' is the studio's own admin (its token is set at start)");
    const token = newToken('pst');
    try {
      prep(this.db, 'INSERT INTO users(name, role, token_hash, created_at) VALUES (?, ?, ?, ?)').run(
        name,
        role,
        hash(token),
        Date.now(),
      );
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
        throw new Error(`pacer: there is already a user '${name}'`);
      throw e;
    }
    return token;
  }

  /** A new token for an existing user (the old one stops working, and so do its sessions). */
  rotate(name: string): string {
    const token = newToken('pst');
    const r = prep(this.db, 'UPDATE users SET token_hash = ?, disabled = 0 WHERE name = ?').run(hash(token), name);
    if (r.changes === 0) throw new Error(`pacer: no user '${name}'`);
    prep(this.db, 'DELETE FROM sessions WHERE name = ?').run(name);
    return token;
  }

  list(): Array<User & { created_at: number }> {
    return prep(this.db, 'SELECT name, role, created_at FROM users WHERE disabled = 0 ORDER BY name').all() as Array<
      User & { created_at: number }
    >;
  }

  byToken(token: string): User | null {
    const row = prep(this.db, 'SELECT name, role FROM users WHERE token_hash = ? AND disabled = 0').get(hash(token)) as
      | User
      | undefined;
    return row ?? null;
  }

  /** Open a session for a user; returns the cookie value and the CSRF token. */
  openSession(user: User): { id: string; csrf: string } {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = Date.now();
    prep(this.db, 'DELETE FROM sessions WHERE expires_at < ?').run(now);
    prep(this.db, 'INSERT INTO sessions(id_hash, name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
      hash(id),
      user.name,
      csrf,
      now,
      now + SESSION_S * 1000,
    );
    return { id, csrf };
  }

  session(id: string): Session | null {
    const row = prep(
      this.db,
      `SELECT u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.name = s.name
         WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
    ).get(hash(id), Date.now()) as { name: string; role: Role; csrf: string } | undefined;
    return row ? { user: { name: row.name, role: row.role }, csrf: row.csrf } : null;
  }

  closeSession(id: string): void {
    prep(this.db, 'DELETE FROM sessions WHERE id_hash = ?').run(hash(id));
  }

  close(): void {
    this.db.close();
  }
}

export const SESSION_MAX_AGE_S = SESSION_S;
