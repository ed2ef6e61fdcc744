// A folder lock between processes on one machine: `dir/.lock` is created exclusively (O_EXCL) and holds
// the owner's pid; another process waits (polling) until it is gone. A lock whose pid no longer runs —
// its owner crashed or was killed — is stale and taken over. Used where two runs would otherwise write the
// same cache folder at once (a recipe's uncached result asked for by two studies).
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Try once to take the lock; true when taken (a stale lock is removed and retried). */
function tryLock(file: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`pacer: cannot lock ${file}: ${e}`);
    }
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return false;
    try {
      unlinkSync(file); // stale: its owner is gone
    } catch {
      /* another waiter removed it first */
    }
  }
  return false;
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
