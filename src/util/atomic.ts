// Whole-file writes that never leave a half-written output: the bytes go to a temp file in the same
// folder, are flushed, and the temp file is renamed over the target (rename is atomic within one
// file system). On any error (ENOSPC, EACCES, …) the temp file is removed and the error names the
// file it was writing.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function removeQuietly(f: string): void {
  try {
    unlinkSync(f);
  } catch {
    /* never created or already renamed */
  }
}

/** Write a file through `write(fd)`, a temp file and a rename. */
export function atomicWrite(file: string, write: (fd: number) => void): void {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Date.now()}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new Error(`pacer: cannot write ${file}: ${(e as Error).message}`);
  }
  try {
    write(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    removeQuietly(tmp);
    throw new Error(`pacer: cannot write ${file}: ${(e as Error).message}`);
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw new Error(`pacer: cannot write ${file}: ${(e as Error).message}`);
  }
}

/** Write `text` to `file` atomically. */
export function writeFileAtomic(file: string, text: string): void {
  atomicWrite(file, (fd) => writeSync(fd, text));
}
