// Dataset URL schemes: a dataset may be named SCHEME:REST (e.g. `train_dataset: studio:votes/projects/arena`)
// and read by a reader that a higher layer registers here — the data layer knows the syntax, not the
// sources (the studio registers 'studio'; a layer below may not import it). REST is a path, resolved
// against the config's folder like any dataset path; a reader returns rows in a TRL format, which
// loadDataset then validates as it validates files. A scheme name has two or more characters, so
// Windows drive letters ("C:\…") are paths, and an existing file of that name wins over a scheme.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface DatasetScheme {
  /** Rows of the dataset named by REST, each with a location string for error messages. */
  rows(rest: string): Promise<Array<{ where: string; value: Record<string, unknown> }>>;
  /** A short digest of the current contents (for resume checks), or null. */
  digest?(rest: string): string | null;
}

const SCHEMES = new Map<string, DatasetScheme>();
const URL_RE = /^([a-z][a-z0-9+.-]+):(.+)$/;

export function registerDatasetScheme(name: string, s: DatasetScheme): void {
  if (!/^[a-z][a-z0-9+.-]+$/.test(name)) throw new Error(`pacer: '${name}' is not a dataset scheme name`);
  SCHEMES.set(name, s);
}

/** SCHEME and REST when `spec` is a scheme URL rather than an existing file. */
export function splitDatasetUrl(spec: string): { scheme: string; rest: string } | null {
  const m = URL_RE.exec(spec);
  if (!m || existsSync(spec)) return null;
  return { scheme: m[1], rest: m[2] };
}

/** A dataset path resolved against baseDir (for a scheme URL, its REST). */
export function resolveDatasetPath(spec: string, baseDir: string): string {
  const u = splitDatasetUrl(spec);
  if (u && !existsSync(resolve(baseDir, spec)))
    return `${u.scheme}:${isAbsolute(u.rest) ? u.rest : resolve(baseDir, u.rest)}`;
  return isAbsolute(spec) ? spec : resolve(baseDir, spec);
}

/** The registered reader of a URL, or an error naming the schemes there are. */
export function datasetScheme(scheme: string, spec: string): DatasetScheme {
  const s = SCHEMES.get(scheme);
  if (s) return s;
  const known = [...SCHEMES.keys()];
  throw new Error(
    `pacer: ${spec}: no file of that name, and no dataset scheme '${scheme}' is registered ` +
      `(${known.length ? `known: ${known.join(', ')}` : 'none are'}; the pacer CLI registers 'studio', and ` +
      "code does by importing 'pacer/studio')",
  );
}
