// JSON Lines reading with errors that name the file and line. Files are streamed line by line (never
// read whole), and a line longer than `maxLineBytes` is an error as soon as the limit is passed — one
// 50 MB line cannot exhaust the heap.
import { closeSync, openSync, readSync } from 'node:fs';
import { DataError } from '../util/errors.js';

export { DataError };

/** The file and line of a row's location ("data.jsonl:12", "data.parquet:row 3"), and a field, for errors. */
export function located(where: string, field?: string): { file: string; line?: number; field?: string } {
  const m = /^(.*):(?:row )?(\d+)$/.exec(where);
  const at = m ? { file: m[1], line: Number(m[2]) } : { file: where };
  return field === undefined ? at : { ...at, field };
}

export interface JsonlRecord {
  line: number;
  value: Record<string, unknown>;
}

/** The default longest line: 16 MiB. */
export const MAX_LINE_BYTES = 16 * 2 ** 20;

function openOrFail(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new DataError(`pacer: cannot read ${file}: ${why}`, { file });
  }
}

/** Lines of a file as Buffers with their 1-based numbers, read in 1 MiB chunks. */
export function* fileLines(file: string, maxLineBytes = MAX_LINE_BYTES): Generator<{ line: number; bytes: Buffer }> {
  const fd = openOrFail(file);
  const chunk = Buffer.alloc(1 << 20);
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1;
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1 && nl < n; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        checkSize(file, line, size + piece.length, maxLineBytes);
        yield { line, bytes: Buffer.concat([...parts, piece]) };
        parts = [];
        size = 0;
        line++;
        start = nl + 1;
      }
      const rest = chunk.subarray(start, n);
      checkSize(file, line, size + rest.length, maxLineBytes);
      parts.push(Buffer.from(rest));
      size += rest.length;
    }
    if (size > 0) yield { line, bytes: Buffer.concat(parts) };
  } finally {
    closeSync(fd);
  }
}

function checkSize(file: string, line: number, bytes: number, max: number): void {
  if (bytes > max)
    throw new DataError(
      `pacer: ${file}:${line}: the line is over ${max} bytes (max_line_bytes); split the record or raise the limit`,
      { file, line },
    );
}

/** Parse a .jsonl file; blank lines are skipped; every other line must be a JSON object. */
export function readJsonl(file: string, maxLineBytes = MAX_LINE_BYTES): JsonlRecord[] {
  const out: JsonlRecord[] = [];
  for (const { line, bytes } of fileLines(file, maxLineBytes)) {
    const s = bytes.toString('utf8').trim();
    if (!s) continue;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new DataError(`pacer: ${file}:${line}: not valid JSON (${(e as Error).message})`, { file, line });
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new DataError(
        `pacer: ${file}:${line}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`,
        {
          file,
          line,
        },
      );
    out.push({ line, value: v as Record<string, unknown> });
  }
  return out;
}

export function isMessages(v: unknown): v is Array<{ role: string; content: string }> {
  return (
    Array.isArray(v) &&
    v.every((m) => m && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string')
  );
}
