// A folder lock between processes on one machine: `dir/.lock` appears atomically (a hard link) holding
// the owner's pid; another process waits (polling) until it is gone. A lock whose pid no longer runs —
// its owner crashed or was killed — is stale and taken over. Used where two runs would otherwise write the
// same cache folder at once (a recipe's uncached result asked for by two studies).
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

let serial = 0;

/**
 * Try once to take the lock; true when taken. The pid is written to a private file first and hard-linked to
 * the lock's name (atomic, EEXIST when held), so a lock is never seen empty — a reader that found it being
 * written would otherwise take it for stale and break it.
 */
function tryLock(file: string): boolean {
  const mine = `${file}.${process.pid}.${serial++}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let i = 0; i < 2; i++) {
      try {
        linkSync(mine, file);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`pacer: cannot lock ${file}: ${e}`);
      }
      if (!breakIfStale(file)) return false;
    }
    return false;
  } finally {
    unlinkSync(mine);
  }
}

/**
 * Remove `file` if its owner no longer runs; true when it is gone. Breaking is itself serialised by
 * `file.break` (taken with O_EXCL), so two waiters that both saw a dead owner cannot remove each other's
 * fresh lock. A break file older than a minute is left over from a crash inside this function and removed.
 */
function breakIfStale(file: string): boolean {
  const brk = `${file}.break`;
  try {
    writeFileSync(brk, `${process.pid}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`pacer: cannot lock ${file}: ${e}`);
    try {
      if (Date.now() - statSync(brk).mtimeMs > 60_000) unlinkSync(brk);
    } catch {
      /* released meanwhile */
    }
    return false;
  }
  try {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return true; // released meanwhile
    }
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return false;
    unlinkSync(file); // stale: its owner is gone
    return true;
  } finally {
    unlinkSync(brk);
  }
}

/**
 * Run `fn` holding `dir`'s lock. While another live process holds it, `onWait` is called once and the lock is
 * polled every `pollMs` for at most `maxWaitMs` (then an error names the lock file and its owner).
 */
export async function withDirLock<T>(
  dir: string,
  fn: () => Promise<T>,
  o: { onWait?: (owner: string) => void; pollMs?: number; maxWaitMs?: number } = {},
): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '.lock');
  const poll = o.pollMs ?? 2000;
  const deadline = Date.now() + (o.maxWaitMs ?? 6 * 3600_000);
  let told = false;
  while (!tryLock(file)) {
    let owner = '?';
    try {
      owner = readFileSync(file, 'utf8').trim();
    } catch {
      /* released meanwhile */
    }
    if (Date.now() > deadline)
      throw new Error(`pacer: ${file} is still held by process ${owner}; remove it if that process is not running`);
    if (!told) o.onWait?.(owner);
    told = true;
    await new Promise((r) => setTimeout(r, poll));
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      /* removed by hand */
    }
  }
}
