// Multiple-choice scoring: TempCompass's rule-based matching per task format, accuracy with unparsed
// answers counted as wrong (and reported), per-format and per-dimension accuracy, and the MLVU-style
// macro average.
// Matching, on answerText() (first <answer>…</answer> block when present, trimmed) — TempCompass
// (llyx97/TempCompass eval_multi-choice.py, eval_yes_no.py, eval_caption_matching.py and
// eval_captioning.py with --disable_llm, where a failed match is rated 0):
//   multi-choice      the text is one option letter ("B"), or starts with "B." or "B)"; "(B)" is read too,
//                     as MLVU's prompt ends in "Best option: (" (JUNJIE99/MLVU choice_bench.py check_ans).
//                     The full answer "B. text" starts with "B." and so matches. A letter naming no option
//                     is unparsed.
//   yes_no            the lower-cased text starts with "yes" or with "no".
//   caption_matching  the text equals a full option line "Caption B: text", the option's sentence, the
//                     part after the first ") ", or the option label ("Caption B", dots removed); a later
//                     rule wins, as in eval_rule. Labels come from `option_labels`, else "Caption A", ….
//   captioning        TempCompass scores a caption by asking an LLM judge the multi-choice question with
//                     only the caption to go on; the prediction here is the judge's answer, correct when
//                     it splits on ". " to the right letter and holds exactly one of "A.", "B.", ….
// Metrics, in percent: accuracy = 100 · correct / n; per format and per dimension the same over their
// rows (TempCompass's per-aspect result and its 'avg', which pools all questions of a format); the
// macro average is the mean of the per-dimension accuracies (MLVU's M-Avg: the mean over its tasks,
// each task a `dimension` here), null when no row has a dimension.
import { answerText, letterIndex, optionLetter } from './answer.js';
import type { ChoiceFormat, ChoiceRow } from './rows.js';

type Options = Pick<ChoiceRow, 'options' | 'format' | 'option_labels'>;

/** The option a multi-choice answer text picks (TempCompass's rule), or -1. */
export function multiChoice(p: string, n: number): number {
  const m = /^(?:([A-Z])(?:[.)]|$)|\(([A-Z])\))/.exec(p);
  const k = m ? letterIndex(m[1] ?? m[2]) : -1;
  return k < n ? k : -1;
}

function yesNo(p: string, options: string[]): number {
  const s = p.toLowerCase();
  const word = s.startsWith('yes') ? 'yes' : s.startsWith('no') ? 'no' : null;
  return word ? options.findIndex((o) => o.toLowerCase() === word) : -1;
}

function captionMatching(p: string, options: string[], labels?: string[]): number {
  const label = (i: number) => labels?.[i] ?? `Caption ${optionLetter(i)}`;
  const afterParen = p.includes(') ') ? p.split(') ')[1] : undefined;
  let pick = -1;
  options.forEach((s, i) => {
    if (`${label(i)}: ${s}` === p) pick = i;
  });
  options.forEach((s, i) => {
    if (s === p || s === afterParen) pick = i;
  });
  options.forEach((_, i) => {
    if (label(i) === p || label(i) === p.replaceAll('.', '')) pick = i;
  });
  return pick;
}

function captioning(p: string, n: number): number {
  const letters = Array.from({ length: Math.max(4, n) }, (_, i) => `${optionLetter(i)}.`);
  const count = letters.reduce((c, l) => c + p.split(l).length - 1, 0);
  const k = letterIndex(p.split('. ')[0]);
  return count === 1 && k < n ? k : -1;
}

/** The index of the option the answer picks under its format's rule, or null when none matches. */
export function parseChoice(text: string, row: Options): number | null {
  const p = answerText(text);
  const format: ChoiceFormat = row.format ?? 'multi-choice';
  const k =
    format === 'yes_no'
      ? yesNo(p, row.options)
      : format === 'caption_matching'
        ? captionMatching(p, row.options, row.option_labels)
        : format === 'captioning'
          ? captioning(p, row.options.length)
          : multiChoice(p, row.options.length);
  return k >= 0 ? k : null;
}

export interface ChoiceItem {
  id: string;
  format: ChoiceFormat;
  dimension: string | null;
  /** The correct letter. */
  target: string;
  answer: string | null;
  /** The letter the answer picks, null when unparsed or missing. */
  prediction: string | null;
  correct: boolean;
  missing: boolean;
}

export function scoreChoices(truth: readonly ChoiceRow[], answers: ReadonlyMap<string, string | null>): ChoiceItem[] {
  return truth.map((row) => {
    const answer = answers.get(row.id) ?? null;
    const k = answer === null ? null : parseChoice(answer, row);
    const prediction = k === null ? null : optionLetter(k);
    return {
      id: row.id,
      format: row.format ?? 'multi-choice',
      dimension: row.dimension ?? null,
      target: row.answer,
      answer,
      prediction,
      correct: prediction === row.answer,
      missing: !answers.has(row.id),
    };
  });
}

export interface Accuracy {
  accuracy: number;
  n: number;
  correct: number;
  unparsed: number;
}

export function accuracyOf(items: readonly ChoiceItem[]): Accuracy {
  const n = items.length;
  const correct = items.filter((it) => it.correct).length;
  const unparsed = items.filter((it) => it.prediction === null).length;
  return { accuracy: n ? (100 * correct) / n : 0, n, correct, unparsed };
}

function groupBy(items: readonly ChoiceItem[], key: (it: ChoiceItem) => string | null): Record<string, Accuracy> {
  const groups = new Map<string, ChoiceItem[]>();
  for (const it of items) {
    const k = key(it);
    if (k === null) continue;
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  return Object.fromEntries([...groups].map(([k, g]) => [k, accuracyOf(g)]));
}

export interface ChoiceSummary extends Accuracy {
  macro_average: number | null;
  per_format: Record<string, Accuracy & { per_dimension: Record<string, Accuracy> }>;
  per_dimension: Record<string, Accuracy>;
}

/** Overall, per-format (with its per-dimension table), per-dimension and macro-averaged accuracy. */
export function choiceSummary(items: readonly ChoiceItem[]): ChoiceSummary {
  if (!items.length) throw new Error('pacer: multiple-choice metrics need at least one ground-truth question');
  const per_dimension = groupBy(items, (it) => it.dimension);
  const dims = Object.values(per_dimension);
  const formats = [...new Set(items.map((it) => it.format))];
  const per_format = Object.fromEntries(
    formats.map((f) => {
      const g = items.filter((it) => it.format === f);
      return [f, { ...accuracyOf(g), per_dimension: groupBy(g, (it) => it.dimension) }];
    }),
  );
  return {
    ...accuracyOf(items),
    macro_average: dims.length ? dims.reduce((s, d) => s + d.accuracy, 0) / dims.length : null,
    per_format,
    per_dimension,
  };
}
