// JSON Lines reading with errors that name the file and line.
import { readFileSync } from 'node:fs';

import { DataError } from '../util/errors.js';

export { DataError };

export interface JsonlRecord {
  line: number;
  value: Record<string, unknown>;
}

/** Parse a .jsonl file; blank lines are skipped; every other line must be a JSON object. */
export function readJsonl(file: string): JsonlRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(
      `pacer: cannot read ${file}: ` +
        `${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  const out: JsonlRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.trim();
    if (!s) return;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new DataError(`pacer: ${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new DataError(
        `pacer: ${file}:${i + 1}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`,
      );
    out.push({ line: i + 1, value: v as Record<string, unknown> });
  });
  return out;
}

export function isMessages(v: unknown): v is Array<{ role: string; content: string }> {
  return (
    Array.isArray(v) &&
    v.every((m) => m && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string')
  );
}
