// TempCompass question and prediction files in and out, as pacer multiple-choice rows (src/eval/rows.ts).
// Format (llyx97/TempCompass questions/{multi-choice,yes_no,caption_matching}.json; predictions/<model>/
// *.json add "prediction" or "response" to each item):
//   {VIDEO: {DIMENSION: [{"question": …, "answer": …}, …]}}, DIMENSION ∈ action, speed, direction, order,
//   attribute_change. The task format is read from each item:
//     multi-choice      question "STEM\nA. x\nB. y…", answer "B. y"
//     yes_no            question "STEM", answer "yes" | "no"
//     caption_matching  question "STEM\nCaption A: x\nCaption B: y" (or "Option 1: …", "Sentence A: …"),
//                       answer the full correct line
//   captioning.json is not read: TempCompass scores captions with an LLM judge that answers the
//   multi-choice question from the caption; score the judge's answers as rows with format "captioning".
// Row ids: FORMAT/VIDEO/DIMENSION/K (K counts the items of that list from 0). Rows carry {id, video_id,
// dimension, format, question (the stem), options, answer (letter), option_labels (caption_matching),
// prompt (the full question)} and, with `videoDir`, videos: [videoDir/VIDEO.mp4].
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { DataError } from '../data/jsonl.js';
import { letterIndex, optionLetter } from './answer.js';
import { lineOf, parseJson, readText, type AnnotationOptions } from './annotations.js';
import { fail, type ChoiceFormat, type ChoiceRow, type PredictionRow } from './rows.js';

interface Item {
  question: string;
  answer: string;
  prediction?: string | null;
  response?: string | null;
}

function formatOf(it: Item, at: string): ChoiceFormat {
  if (it.answer === 'yes' || it.answer === 'no') return 'yes_no';
  if (it.question.includes('\nInformation A:'))
    fail(at, "this is a TempCompass captioning question: score the LLM judge's answers to multi-choice.json instead");
  if (/^[A-Z]\. /.test(it.answer)) return 'multi-choice';
  if (/^[^:\n]+: /.test(it.answer)) return 'caption_matching';
  return fail(
    at,
    `field 'answer' ${JSON.stringify(it.answer)} fits no TempCompass format (yes/no, "B. …", "Caption B: …")`,
  );
}

function multiChoice(it: Item, at: string): Pick<ChoiceRow, 'question' | 'options' | 'answer'> {
  const lines = it.question.split('\n');
  let first = lines.length;
  while (first > 1 && /^[A-Z]\. /.test(lines[first - 1])) first--;
  const opts = lines.slice(first);
  if (opts.length < 2 || opts.some((l, i) => l[0] !== optionLetter(i)))
    fail(
      at,
      `field 'question' must end in option lines "A. …", "B. …", got ${JSON.stringify(it.question.slice(0, 80))}`,
    );
  const k = letterIndex(it.answer[0]);
  if (k >= opts.length) fail(at, `field 'answer' ${JSON.stringify(it.answer)} names no option of the question`);
  return { question: lines.slice(0, first).join('\n'), options: opts.map((l) => l.slice(3)), answer: it.answer[0] };
}

function captionMatching(it: Item, at: string): Pick<ChoiceRow, 'question' | 'options' | 'answer' | 'option_labels'> {
  const [stem, ...lines] = it.question.split('\n');
  const parts = lines.map((l) => {
    const i = l.indexOf(': ');
    if (i < 0) fail(at, `field 'question': option line ${JSON.stringify(l)} is not "LABEL: caption"`);
    return [l.slice(0, i), l.slice(i + 2)];
  });
  const k = lines.indexOf(it.answer);
  if (parts.length < 2 || k < 0)
    fail(at, `field 'answer' ${JSON.stringify(it.answer)} is not one of the question's option lines`);
  return {
    question: stem,
    option_labels: parts.map((p) => p[0]),
    options: parts.map((p) => p[1]),
    answer: optionLetter(k),
  };
}

function item(x: unknown, at: string): Item {
  const it = x as Item;
  if (!it || typeof it !== 'object' || typeof it.question !== 'string' || typeof it.answer !== 'string')
    fail(at, 'each item must be {"question": string, "answer": string}');
  return it;
}

function toRow(it: Item, vid: string, dim: string, k: number, at: string, o: AnnotationOptions): ChoiceRow {
  const format = formatOf(it, at);
  const parts =
    format === 'yes_no'
      ? { question: it.question, options: ['yes', 'no'], answer: it.answer === 'yes' ? 'A' : 'B' }
      : format === 'multi-choice'
        ? multiChoice(it, at)
        : captionMatching(it, at);
  const row: ChoiceRow = {
    id: `${format}/${vid}/${dim}/${k}`,
    video_id: vid,
    dimension: dim,
    format,
    ...parts,
    prompt: it.question,
  };
  if (o.videoDir) row.videos = [join(o.videoDir, `${vid}${o.videoExt ?? '.mp4'}`)];
  return row;
}

/** Every item of a TempCompass file with its video, dimension, index and place. */
function walk(file: string): Array<{ it: Item; vid: string; dim: string; k: number; at: string }> {
  const text = readText(file);
  const data = parseJson(text, file) as Record<string, Record<string, unknown[]>>;
  const bad = (at: string) => fail(at, 'expected {VIDEO: {DIMENSION: [{question, answer}, …]}} (TempCompass)');
  if (!data || typeof data !== 'object' || Array.isArray(data)) bad(`${file}:1`);
  return Object.entries(data).flatMap(([vid, dims]) => {
    const at = lineOf(text, vid, file);
    if (!dims || typeof dims !== 'object' || Array.isArray(dims)) bad(at);
    return Object.entries(dims).flatMap(([dim, items]) => {
      if (!Array.isArray(items)) bad(at);
      return items.map((x, k) => ({
        it: item(x, `${at} (${vid}.${dim}[${k}])`),
        vid,
        dim,
        k,
        at: `${at} (${vid}.${dim}[${k}])`,
      }));
    });
  });
}

/** A TempCompass question file as multiple-choice rows. */
export function readTempCompass(file: string, o: AnnotationOptions = {}): ChoiceRow[] {
  return walk(file).map(({ it, vid, dim, k, at }) => toRow(it, vid, dim, k, at, o));
}

/** A TempCompass prediction file (items with "prediction" or "response") as {id, answer} rows. */
export function readTempCompassPredictions(file: string): PredictionRow[] {
  return walk(file).map(({ it, vid, dim, k, at }) => {
    const answer = it.prediction !== undefined ? it.prediction : it.response;
    if (answer !== null && typeof answer !== 'string')
      fail(at, "each item needs the model's text in 'prediction' or 'response'");
    return { id: `${formatOf(it, at)}/${vid}/${dim}/${k}`, answer };
  });
}

function toItem(r: ChoiceRow): Item {
  const k = letterIndex(r.answer);
  const stem = r.question;
  if (typeof stem !== 'string') throw new DataError(`pacer: row '${r.id}' has no 'question' (the question stem)`);
  const format = r.format ?? 'multi-choice';
  if (format === 'yes_no') return { question: stem, answer: r.options[k].toLowerCase() };
  if (format === 'multi-choice') {
    const lines = r.options.map((x, i) => `${optionLetter(i)}. ${x}`);
    return { question: [stem, ...lines].join('\n'), answer: lines[k] };
  }
  if (format === 'captioning')
    throw new DataError(`pacer: row '${r.id}': captioning rows cannot be written as TempCompass questions`);
  const lines = r.options.map((x, i) => `${r.option_labels?.[i] ?? `Caption ${optionLetter(i)}`}: ${x}`);
  return { question: [stem, ...lines].join('\n'), answer: lines[k] };
}

/** Multiple-choice rows as a TempCompass question file (rows need video_id, dimension and question). */
export function writeTempCompass(file: string, rows: readonly ChoiceRow[]): void {
  const out: Record<string, Record<string, Item[]>> = {};
  for (const r of rows) {
    const { video_id: vid, dimension: dim } = r;
    if (typeof vid !== 'string' || typeof dim !== 'string')
      throw new DataError(`pacer: row '${r.id}' needs 'video_id' and 'dimension' to be written as TempCompass`);
    ((out[vid] ??= {})[dim] ??= []).push(toItem(r));
  }
  writeFileAtomic(file, `${JSON.stringify(out, null, 4)}\n`);
}
