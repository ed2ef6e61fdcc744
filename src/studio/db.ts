// SQLite storage for the studio through better-sqlite3: WAL mode (readers never block the writer,
// and a commit is one append to the log), foreign keys on, and numbered migrations recorded in
// PRAGMA user_version, each applied in its own transaction. Durability: with synchronous=NORMAL (the
// default here) a committed transaction survives the process being killed at any point (kill -9) —
// it is in the WAL file before the commit returns — while a power cut may roll back the last ones;
// synchronous=FULL also survives a power cut, at one fsync per commit.
import Database from 'better-sqlite3';

export type DB = Database.Database;
export const SYNC_MODES = ['normal', 'full'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export function openDb(file: string, migrations: readonly string[], sync: SyncMode = 'normal'): DB {
  let db: DB;
  try {
    db = new Database(file);
  } catch (e) {
    throw new Error(`pacer: cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file, migrations);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

function migrate(db: DB, file: string, steps: readonly string[]): void {
  const have = db.pragma('user_version', { simple: true }) as number;
  if (have > steps.length)
    throw new Error(
      `pacer: ${file} has schema version ${have}, newer than this pacer knows (${steps.length}); upgrade pacer`,
    );
  for (let v = have; v < steps.length; v++)
    db.transaction(() => {
      db.exec(steps[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
}

const STATEMENTS = new WeakMap<DB, Map<string, Database.Statement>>();

/** A prepared statement, compiled once per connection (preparing SQL on every request costs more than running it). */
export function prep(db: DB, sql: string): Database.Statement {
  let m = STATEMENTS.get(db);
  if (!m) STATEMENTS.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}
