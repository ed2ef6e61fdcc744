// pacer's evaluation rows (the schema shared with the video worlds, src/video/) and their checks.
// Every row has a string `id`. Ground truth:
//   grounding        {id, segment: [start, end] (seconds), duration?, video_id?, query?, videos?, prompt?}
//   multiple choice  {id, options: [text, …], answer: "A" | "B" | …, dimension?, format?, option_labels?,
//                    question?}
//                    format ∈ multi-choice | yes_no | caption_matching | captioning (TempCompass's task
//                    formats; multi-choice when absent); yes_no rows have options "yes" and "no".
//   Vinoground       {id, pair_id, variant: "pos" | "neg", caption, videos: [path, …]}
// Predictions: {id, answer} with the model's free text (null: the model gave no answer).
// A bad row is reported with its file, line and field; ids must be unique within a file.
import { DataError, readJsonl } from '../data/jsonl.js';
import { letterIndex, optionLetter } from './answer.js';

export const CHOICE_FORMATS = ['multi-choice', 'yes_no', 'caption_matching', 'captioning'] as const;
export type ChoiceFormat = (typeof CHOICE_FORMATS)[number];

export interface GroundingRow {
  id: string;
  segment: [number, number];
  duration?: number | null;
  video_id?: string;
  query?: string;
  videos?: string[];
  prompt?: string;
  [key: string]: unknown;
}

export interface ChoiceRow {
  id: string;
  options: string[];
  answer: string;
  dimension?: string;
  format?: ChoiceFormat;
  option_labels?: string[];
  question?: string;
  [key: string]: unknown;
}

export interface VinogroundRow {
  id: string;
  pair_id: string;
  variant: 'pos' | 'neg';
  caption: string;
  videos: string[];
  [key: string]: unknown;
}

export interface PredictionRow {
  id: string;
  answer: string | null;
}

/** A row and where it came from ("file:line"), for error messages. */
export interface Located<T> {
  row: T;
  at: string;
}

export function fail(at: string, msg: string): never {
  throw new DataError(`pacer: ${at}: ${msg}`);
}

/** A JSONL file's rows, each checked by `check`. */
export function readRows<T>(file: string, check: (v: Record<string, unknown>, at: string) => T): Located<T>[] {
  return readJsonl(file).map((r) => {
    const at = `${file}:${r.line}`;
    return { row: check(r.value, at), at };
  });
}

/** Rows by id; a repeated id is an error naming both lines. */
export function byId<T extends { id: string }>(rows: ReadonlyArray<Located<T>>): Map<string, Located<T>> {
  const out = new Map<string, Located<T>>();
  for (const r of rows) {
    const prev = out.get(r.row.id);
    if (prev) fail(r.at, `id '${r.row.id}' repeats the id of ${prev.at}; ids must be unique`);
    out.set(r.row.id, r);
  }
  return out;
}

function str(v: Record<string, unknown>, key: string, at: string, optional = false): string | undefined {
  const x = v[key];
  if (x === undefined && optional) return undefined;
  if (typeof x !== 'string' || (!optional && x === ''))
    fail(at, `field '${key}' must be a ${optional ? '' : 'non-empty '}string, got ${JSON.stringify(x) ?? 'nothing'}`);
  return x;
}

function strList(v: Record<string, unknown>, key: string, at: string): string[] {
  const x = v[key];
  if (!Array.isArray(x) || !x.length || !x.every((s) => typeof s === 'string'))
    fail(at, `field '${key}' must be a non-empty list of strings, got ${JSON.stringify(x) ?? 'nothing'}`);
  return x;
}

/** A [start, end] pair of finite seconds >= 0 (a reversed pair is kept: the IoU swaps it). */
export function segmentOf(x: unknown, at: string, field = 'segment'): [number, number] {
  if (!Array.isArray(x) || x.length !== 2 || !x.every((t) => typeof t === 'number' && Number.isFinite(t)))
    fail(at, `field '${field}' must be [start, end] in seconds, got ${JSON.stringify(x) ?? 'nothing'}`);
  if (x[0] < 0 || x[1] < 0) fail(at, `field '${field}' has a negative time: ${JSON.stringify(x)}`);
  return [x[0], x[1]];
}

export function groundingRow(v: Record<string, unknown>, at: string): GroundingRow {
  const id = str(v, 'id', at)!;
  const segment = segmentOf(v.segment, at);
  const d = v.duration;
  if (d !== undefined && d !== null && (typeof d !== 'number' || !Number.isFinite(d) || d <= 0))
    fail(at, `field 'duration' must be a positive number of seconds or null, got ${JSON.stringify(d)}`);
  return { ...v, id, segment };
}

export function predictionRow(v: Record<string, unknown>, at: string): PredictionRow {
  const id = str(v, 'id', at)!;
  const a = v.answer;
  if (a !== null && typeof a !== 'string')
    fail(at, `field 'answer' must be the model's text (a string, or null for no answer), got ${JSON.stringify(a)}`);
  return { id, answer: a };
}

export function choiceRow(v: Record<string, unknown>, at: string): ChoiceRow {
  const id = str(v, 'id', at)!;
  const options = strList(v, 'options', at);
  if (options.length < 2) fail(at, `field 'options' needs at least 2 options, got ${options.length}`);
  const answer = str(v, 'answer', at)!;
  const k = letterIndex(answer);
  if (k < 0 || k >= options.length)
    fail(
      at,
      `field 'answer' must be the correct option's letter (A to ${optionLetter(options.length - 1)}), got '${answer}'`,
    );
  const format = v.format;
  if (format !== undefined && !CHOICE_FORMATS.includes(format as ChoiceFormat))
    fail(at, `field 'format' must be one of ${CHOICE_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  str(v, 'dimension', at, true);
  if (
    format === 'yes_no' &&
    [...options]
      .map((o) => o.toLowerCase())
      .sort()
      .join() !== 'no,yes'
  )
    fail(at, `a yes_no row's 'options' must be "yes" and "no", got ${JSON.stringify(options)}`);
  if (v.option_labels !== undefined && strList(v, 'option_labels', at).length !== options.length)
    fail(at, `field 'option_labels' must have one label per option (${options.length})`);
  return { ...v, id, options, answer } as ChoiceRow;
}

export function vinogroundRow(v: Record<string, unknown>, at: string): VinogroundRow {
  const id = str(v, 'id', at)!;
  const pair_id = str(v, 'pair_id', at)!;
  const variant = v.variant;
  if (variant !== 'pos' && variant !== 'neg')
    fail(at, `field 'variant' must be 'pos' or 'neg', got ${JSON.stringify(variant)}`);
  const caption = str(v, 'caption', at)!;
  const videos = strList(v, 'videos', at);
  return { ...v, id, pair_id, variant, caption, videos };
}
