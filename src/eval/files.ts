// Ground-truth and prediction files for `pacer eval`, in any format pacer reads, with the checks that
// keep a score honest: ids unique per file, every prediction matching a ground-truth id. Formats are
// told apart by content: one JSON object of videos holding "timestamps" is ActivityNet Captions, one
// of videos holding lists per dimension is TempCompass, "VIDEO START END##SENTENCE" lines are
// Charades-STA, anything else is pacer's JSONL rows.
import { existsSync } from 'node:fs';
import { DataError } from '../data/jsonl.js';
import { readActivityNetCaptions, readCharadesSta, readText } from './annotations.js';
import {
  byId,
  choiceRow,
  fail,
  groundingRow,
  predictionRow,
  readRows,
  type ChoiceRow,
  type GroundingRow,
  type Located,
  type PredictionRow,
} from './rows.js';
import { readTempCompass, readTempCompassPredictions } from './tempcompass.js';

export const GROUNDING_FORMATS = ['auto', 'jsonl', 'charades', 'activitynet'] as const;
export type GroundingFormat = (typeof GROUNDING_FORMATS)[number];
export type FileFormat = 'jsonl' | 'charades' | 'activitynet' | 'tempcompass';

function firstValue(x: unknown): unknown {
  return x && typeof x === 'object' && !Array.isArray(x) ? Object.values(x)[0] : undefined;
}

/** What kind of annotation or prediction file this is, from its content. */
export function detectFormat(file: string): FileFormat {
  if (!existsSync(file)) throw new DataError(`pacer: cannot read ${file}: no such file`);
  const text = readText(file);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  const v = firstValue(whole);
  if (whole && !('id' in (whole as object)) && v && typeof v === 'object') {
    if ('timestamps' in v) return 'activitynet';
    if (Array.isArray(firstValue(v))) return 'tempcompass';
  }
  const line = text.split('\n').find((l) => l.trim());
  return line && /^\S+ [^\s#]+ [^\s#]+##/.test(line) ? 'charades' : 'jsonl';
}

function located<T>(rows: T[], file: string): Located<T>[] {
  return rows.map((row) => ({ row, at: file }));
}

/** Grounding ground truth: pacer rows, Charades-STA or ActivityNet Captions. */
export function readGroundingTruth(file: string, format: GroundingFormat = 'auto'): Located<GroundingRow>[] {
  const f = format === 'auto' ? detectFormat(file) : format;
  if (f === 'charades') return located(readCharadesSta(file), file);
  if (f === 'activitynet') return located(readActivityNetCaptions(file), file);
  if (f === 'jsonl') return readRows(file, groundingRow);
  throw new DataError(
    `pacer: ${file} looks like a ${f} file, not grounding annotations (use --format to say otherwise)`,
  );
}

/** Multiple-choice ground truth: pacer rows or a TempCompass question file. */
export function readChoiceTruth(file: string): Located<ChoiceRow>[] {
  const f = detectFormat(file);
  if (f === 'tempcompass') return located(readTempCompass(file), file);
  if (f !== 'jsonl') throw new DataError(`pacer: ${file} looks like a ${f} file, not multiple-choice rows`);
  return readRows(file, choiceRow);
}

/** {id, answer} predictions: pacer rows or a TempCompass prediction file. */
export function readPredictions(file: string): Located<PredictionRow>[] {
  if (detectFormat(file) === 'tempcompass') return located(readTempCompassPredictions(file), file);
  return readRows(file, predictionRow);
}

/** The model's answer per ground-truth id; a repeated id or one not in the ground truth is an error. */
export function answersById(
  truth: ReadonlyArray<Located<{ id: string }>>,
  preds: ReadonlyArray<Located<PredictionRow>>,
  truthFile: string,
): Map<string, string | null> {
  const ids = byId(truth);
  const out = new Map<string, string | null>();
  for (const [id, { row, at }] of byId(preds)) {
    if (!ids.has(id)) fail(at, `id '${id}' is not in the ground truth ${truthFile}`);
    out.set(id, row.answer);
  }
  return out;
}
