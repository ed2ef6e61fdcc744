// TRL dataset formats, read from JSONL or Parquet, validated with file:line:field errors:
//   language modeling   {"text"} | {"messages": [...]}
//   prompt-only         {"prompt"} (for online RL)
//   prompt-completion   {"prompt", "completion"}
//   preference          {"prompt", "chosen", "rejected"} | implicit prompt {"chosen", "rejected"}
//   unpaired preference {"prompt", "completion", "label": bool}
// each standard (strings) or conversational (lists of {role, content}). Extra columns (e.g.
// "difficulty", "margin") are kept. A dataset may also be a SCHEME:REST URL (src/data/schemes.ts).
import { readFileSync } from 'node:fs';
import { readJsonl, isMessages, DataError, MAX_LINE_BYTES, located } from './jsonl.js';
import { rng } from './random.js';
import { datasetScheme, splitDatasetUrl } from './schemes.js';
import { isVisionMessages, rowHasMedia, rowVisionItems, type RowVision, type VisionItem } from './media.js';

/**
 * A string, or chat messages. In vision rows (Example.visionItems set) a message's content may be a
 * list of typed parts (text, image, video: tokenizers' ChatMessage); they reach only the chat template.
 */
export type Text = string | Array<{ role: string; content: string }>;
export type Format = 'language_modeling' | 'prompt_only' | 'prompt_completion' | 'preference' | 'unpaired_preference';

export interface Example {
  /** "file:line" (or "file:row N" for Parquet), for error messages. */
  where: string;
  format: Format;
  conversational: boolean;
  text?: Text;
  prompt?: Text;
  completion?: Text;
  chosen?: Text;
  rejected?: Text;
  label?: boolean;
  extra: Record<string, unknown>;
  /** Vision rows (TRL's vision format: `images`/`videos` columns, typed content parts): the items in order. */
  visionItems?: VisionItem[];
  /** …and, once a trainer has decoded them (attachVision), the resized frames and grids. */
  vision?: RowVision;
}

/** Read rows of a .jsonl or .parquet file with a location string each. */
export async function readRows(
  file: string,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<Array<{ where: string; value: Record<string, unknown> }>> {
  if (file.endsWith('.parquet')) {
    const { parquetReadObjects } = await import('hyparquet');
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (e) {
      throw new DataError(
        `pacer: cannot read ${file}: ` +
          `${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        { file },
      );
    }
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
    } catch (e) {
      throw new DataError(`pacer: ${file}: not a readable Parquet file (${(e as Error).message})`, { file });
    }
    return rows.map((value, i) => ({ where: `${file}:row ${i + 1}`, value: normalizeParquet(value) }));
  }
  if (file.endsWith('.jsonl') || file.endsWith('.json'))
    return readJsonl(file, maxLineBytes).map((r) => ({ where: `${file}:${r.line}`, value: r.value }));
  throw new DataError(`pacer: ${file}: unsupported dataset file type (expected .jsonl or .parquet)`, { file });
}

function normalizeParquet(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'bigint' ? Number(x) : x;
  return out;
}

function textField(v: Record<string, unknown>, key: string, where: string, required: boolean): Text | undefined {
  const x = v[key];
  if (x === undefined || x === null) {
    if (required) throw new DataError(`pacer: ${where}: missing field '${key}'`, located(where, key));
    return undefined;
  }
  if (typeof x === 'string') {
    if (x.length === 0) throw new DataError(`pacer: ${where}: field '${key}' is empty`, located(where, key));
    return x;
  }
  if (isMessages(x) || isVisionMessages(x)) {
    if (x.length === 0)
      throw new DataError(`pacer: ${where}: field '${key}' is an empty message list`, located(where, key));
    return x as Text;
  }
  throw new DataError(
    `pacer: ${where}: field '${key}' must be a string or a list of {"role", "content"} messages`,
    located(where, key),
  );
}

/** Typed content parts count only in vision rows (the content of a text row's message is a string). */
function checkTypedParts(e: Example): void {
  if (e.visionItems) return;
  for (const k of ['text', 'prompt', 'completion', 'chosen', 'rejected'] as const) {
    const x = e[k];
    const parts = (m: { content: unknown }) => (Array.isArray(m.content) ? (m.content as Array<{ type: string }>) : []);
    if (Array.isArray(x) && x.some((m) => parts(m).some((c) => c.type !== 'text')))
      throw new DataError(
        `pacer: ${e.where}: field '${k}' has image/video content parts but the row names no images or videos`,
        located(e.where, k),
      );
  }
}

/** TRL's extract_prompt: split an implicit-prompt pair at its longest common prefix. */
export function extractPrompt(chosen: Text, rejected: Text): { prompt: Text; chosen: Text; rejected: Text } {
  if (Array.isArray(chosen) && Array.isArray(rejected)) {
    let i = 0;
    while (i < Math.min(chosen.length, rejected.length) && JSON.stringify(chosen[i]) === JSON.stringify(rejected[i]))
      i++;
    return { prompt: chosen.slice(0, i), chosen: chosen.slice(i), rejected: rejected.slice(i) };
  }
  const c = chosen as string,
    r = rejected as string;
  let i = 0;
  while (i < Math.min(c.length, r.length) && c[i] === r[i]) i++;
  if (i > 0 && c[i - 1] === ' ') i--;
  return { prompt: c.slice(0, i), chosen: c.slice(i), rejected: r.slice(i) };
}

const KNOWN = new Set(['text', 'messages', 'prompt', 'completion', 'chosen', 'rejected', 'label']);

/** Parse rows into examples of the format they hold; mixing formats or styles in one file is an error. */
export function parseExamples(rows: Array<{ where: string; value: Record<string, unknown> }>, file: string): Example[] {
  const out: Example[] = [];
  let first: { format: Format; conversational: boolean; where: string } | null = null;
  for (const { where, value: v } of rows) {
    const extra: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!KNOWN.has(k)) extra[k] = x;
    let e: Example;
    if ('chosen' in v || 'rejected' in v) {
      const chosen = textField(v, 'chosen', where, true)!;
      const rejected = textField(v, 'rejected', where, true)!;
      let prompt = textField(v, 'prompt', where, false);
      let c = chosen,
        r = rejected;
      if (prompt === undefined) ({ prompt, chosen: c, rejected: r } = extractPrompt(chosen, rejected));
      e = { where, format: 'preference', conversational: Array.isArray(c), prompt, chosen: c, rejected: r, extra };
    } else if ('label' in v) {
      if (typeof v.label !== 'boolean')
        throw new DataError(`pacer: ${where}: field 'label' must be true or false`, located(where, 'label'));
      e = {
        where,
        format: 'unpaired_preference',
        conversational: false,
        prompt: textField(v, 'prompt', where, true),
        completion: textField(v, 'completion', where, true),
        label: v.label,
        extra,
      };
      e.conversational = Array.isArray(e.completion);
    } else if ('prompt' in v && !('completion' in v) && !('text' in v) && !('messages' in v)) {
      const prompt = textField(v, 'prompt', where, true)!;
      e = { where, format: 'prompt_only', conversational: Array.isArray(prompt), prompt, extra };
    } else if ('completion' in v) {
      e = {
        where,
        format: 'prompt_completion',
        conversational: false,
        prompt: textField(v, 'prompt', where, true),
        completion: textField(v, 'completion', where, true),
        extra,
      };
      e.conversational = Array.isArray(e.completion);
    } else if ('messages' in v) {
      const m = textField(v, 'messages', where, true)!;
      if (!Array.isArray(m))
        throw new DataError(
          `pacer: ${where}: field 'messages' must be a list of {"role", "content"} messages`,
          located(where, 'messages'),
        );
      e = { where, format: 'language_modeling', conversational: true, text: m, extra };
    } else if ('text' in v) {
      e = { where, format: 'language_modeling', conversational: false, text: textField(v, 'text', where, true), extra };
    } else {
      throw new DataError(
        `pacer: ${where}: cannot tell the dataset format: expected 'text', 'messages', 'prompt'+'completion', ` +
          `'chosen'+'rejected' or 'prompt'+'completion'+'label' (found ${fieldList(v)})`,
        located(where),
      );
    }
    for (const k of ['prompt', 'completion', 'chosen', 'rejected'] as const) {
      const x = e[k];
      if (
        x !== undefined &&
        Array.isArray(x) !== e.conversational &&
        !(k === 'prompt' && Array.isArray(x) && x.length === 0 && e.conversational)
      )
        throw new DataError(
          `pacer: ${where}: field '${k}' mixes conversational and standard text (all fields must be strings, or ` +
            `all message lists)`,
          located(where, k),
        );
    }
    if (rowHasMedia(v)) e.visionItems = rowVisionItems(v, where);
    checkTypedParts(e);
    if (!first) first = { format: e.format, conversational: e.conversational, where };
    else if (first.format !== e.format || first.conversational !== e.conversational)
      throw new DataError(
        `pacer: ${where}: this line is ${e.conversational ? 'conversational ' : ''}${e.format} but ${first.where} ` +
          `is ${first.conversational ? 'conversational ' : ''}${first.format}; one dataset holds one format`,
        located(where),
      );
    out.push(e);
  }
  if (out.length === 0) throw new DataError(`pacer: ${file}: the dataset is empty`, { file });
  return out;
}

/** Read a dataset file (.jsonl, .parquet) or a registered SCHEME:REST URL (src/data/schemes.ts). */
export async function loadDataset(file: string, o: { maxLineBytes?: number } = {}): Promise<Example[]> {
  const url = splitDatasetUrl(file);
  if (url) {
    let rows: Array<{ where: string; value: Record<string, unknown> }>;
    try {
      rows = await datasetScheme(url.scheme, file).rows(url.rest);
    } catch (e) {
      throw new DataError((e as Error).message, { file });
    }
    return parseExamples(rows, file);
  }
  return parseExamples(await readRows(file, o.maxLineBytes), file);
}

/** A seeded permutation (mulberry32 + Fisher-Yates), the same on every platform. */
export function shuffledIndices(n: number, seed: number): number[] {
  const rnd = rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

export { DataError };

/** The fields of a record, for messages. */
function fieldList(v: Record<string, unknown>): string {
  return (
    Object.keys(v)
      .map((k) => `'${k}'`)
      .join(', ') || 'no fields'
  );
}
