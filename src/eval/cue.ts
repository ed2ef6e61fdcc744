// Scores for the Cue-R1 study on the anomaly world (CueBench's tasks, Yu et al., arXiv 2511.00613;
// the world's rows: src/video/worlds/anomaly.ts), in percent:
//   recognition, anticipation, cue   accuracy: 100 · |answer picks the `answer` letter| / rows
//                                    (TempCompass's multi-choice rule on answerText; unparsed = wrong)
//   detection                        accuracy: the answer's yes/no (TempCompass's yes_no rule) equals
//                                    `solution`
//   grounding                        mIoU: 100 · mean tIoU(parseSegment(answer), segment) (none: 0)
//   average                          the mean of the task scores present
//   context_error_rate               100 · |answer picks `twin_answer`| / multiple-choice rows with a
//                                    twin_answer: the anomaly taken for its normal twin or back, the
//                                    error CueBench's conditional anomalies probe; also per task
// A row without a prediction scores 0 (and counts in `missing`).
import { answerText } from './answer.js';
import { multiChoice } from './choice.js';
import { parseSegment, temporalIoU } from './grounding.js';

export interface CueRow {
  id: string;
  task: string;
  answer?: string;
  options?: unknown[];
  twin_answer?: string;
  solution?: string;
  segment?: [number, number];
}

export interface CueScores {
  tasks: Record<string, number>;
  average: number | null;
  context_error_rate: number | null;
  context_errors: Record<string, number>;
  n: Record<string, number>;
  missing: number;
}

const CHOICE = new Set(['recognition', 'anticipation', 'cue']);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One row's score in [0, 1] and whether it picked the twin's option. */
function scoreRow(r: CueRow, text: string | null): { score: number; twin: boolean } {
  if (text === null) return { score: 0, twin: false };
  const a = answerText(text);
  if (CHOICE.has(r.task)) {
    const k = multiChoice(a, (r.options ?? []).length);
    const letter = k >= 0 ? String.fromCharCode(65 + k) : null;
    return { score: letter !== null && letter === r.answer ? 1 : 0, twin: letter !== null && letter === r.twin_answer };
  }
  if (r.task === 'detection') {
    const s = a.toLowerCase();
    const yn = s.startsWith('yes') ? 'yes' : s.startsWith('no') ? 'no' : null;
    return { score: yn !== null && yn === r.solution ? 1 : 0, twin: false };
  }
  if (r.task === 'grounding') {
    const p = parseSegment(text);
    return { score: p && r.segment ? temporalIoU(p, r.segment) : 0, twin: false };
  }
  const known = [...CHOICE, 'detection', 'grounding'].join(', ');
  throw new Error(`pacer: cue scores: row ${r.id} has task '${r.task}' (expected ${known})`);
}

/** Per-task scores, their average and the context-error rate of predictions (id → answer text). */
export function scoreCue(rows: readonly CueRow[], predictions: ReadonlyMap<string, string>): CueScores {
  const per = new Map<string, number[]>();
  const twins = new Map<string, number[]>();
  let missing = 0;
  for (const r of rows) {
    const text = predictions.get(r.id) ?? null;
    if (text === null) missing++;
    const { score, twin } = scoreRow(r, text);
    per.set(r.task, [...(per.get(r.task) ?? []), score]);
    if (CHOICE.has(r.task) && r.twin_answer) twins.set(r.task, [...(twins.get(r.task) ?? []), twin ? 1 : 0]);
  }
  const tasks = Object.fromEntries([...per].map(([t, v]) => [t, 100 * mean(v)]));
  const allTwins = [...twins.values()].flat();
  return {
    tasks,
    average: per.size ? mean(Object.values(tasks)) : null,
    context_error_rate: allTwins.length ? 100 * mean(allTwins) : null,
    context_errors: Object.fromEntries([...twins].map(([t, v]) => [t, 100 * mean(v)])),
    n: Object.fromEntries([...per].map(([t, v]) => [t, v.length])),
    missing,
  };
}
