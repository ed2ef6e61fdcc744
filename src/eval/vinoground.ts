// Vinoground text, video and group scores (Zhang, Mu & Lee, "Vinoground: Scrutinizing LMMs over Dense
// Temporal Reasoning with Short Videos", arXiv 2410.02763; Vinoground/Vinoground get_score_all.py and
// eval/videoclip.py, and lmms-eval's vinoground utils). A pair is a positive and a negative
// (video, caption) whose captions differ only in temporal order.
//   text score  = 100 · (pairs where the model picks the right caption for BOTH videos) / pairs
//   video score = 100 · (pairs where the model picks the right video for BOTH captions) / pairs
//   group score = 100 · (pairs where all four choices are right) / pairs
// Predictions (JSONL), either of two kinds per pair:
//   questions (generative models; Vinoground's textscore/videoscore response files), one row each:
//     {"pair_id", "task": "text", "variant": "pos"|"neg", "answer"}  — shown the `variant` video and the
//       two captions, which did the model pick?
//     {"pair_id", "task": "video", "variant": "pos"|"neg", "answer"} — shown the `variant` caption and the
//       two videos (Vinoground concatenates them), which did it pick?
//     Option A is the positive member and B the negative one unless the row says otherwise with
//     "order": ["neg", "pos"]. As Vinoground scores it, the first character of the answer (answerText(),
//     case-insensitive) is the choice; anything but A or B is unparsed and wrong; a question with no
//     row is missing (unparsed too) and wrong.
//   scores (similarity models such as VideoCLIP), one row per pair:
//     {"pair_id", "scores": {"pos_pos", "pos_neg", "neg_pos", "neg_neg"}} keyed video_caption; then
//     text = s(pos,pos) > s(pos,neg) and s(neg,neg) > s(neg,pos), video = s(pos,pos) > s(neg,pos) and
//     s(neg,neg) > s(pos,neg), with strict comparisons (a tie is wrong), as eval/videoclip.py does.
import { answerText } from './answer.js';
import { fail, type Located, type VinogroundRow } from './rows.js';

export type Variant = 'pos' | 'neg';
export type VinoTask = 'text' | 'video';
const VARIANTS: readonly Variant[] = ['pos', 'neg'];
const QUESTIONS = ['text_pos', 'text_neg', 'video_pos', 'video_neg'] as const;
type QuestionKey = (typeof QUESTIONS)[number];

export interface VinoQuestion {
  pair_id: string;
  task: VinoTask;
  variant: Variant;
  answer: string | null;
  order: [Variant, Variant];
}

export interface VinoScores {
  pair_id: string;
  scores: Record<'pos_pos' | 'pos_neg' | 'neg_pos' | 'neg_neg', number>;
}

export type VinoPrediction = VinoQuestion | VinoScores;

/** The variant a question's answer picks (its first character, A or B, through `order`), or null. */
export function parseVinoChoice(answer: string, order: [Variant, Variant] = ['pos', 'neg']): Variant | null {
  const c = answerText(answer).charAt(0).toLowerCase();
  return c === 'a' ? order[0] : c === 'b' ? order[1] : null;
}

export interface VinoPairItem {
  pair_id: string;
  /** Per question: true right, false wrong, null unparsed or missing (wrong). Absent for score rows. */
  choices: Partial<Record<QuestionKey, boolean | null>>;
  text: boolean;
  video: boolean;
  group: boolean;
}

function fromScores(pair_id: string, s: VinoScores['scores']): VinoPairItem {
  const text = s.pos_pos > s.pos_neg && s.neg_neg > s.neg_pos;
  const video = s.pos_pos > s.neg_pos && s.neg_neg > s.pos_neg;
  return { pair_id, choices: {}, text, video, group: text && video };
}

function fromQuestions(pair_id: string, qs: ReadonlyMap<QuestionKey, VinoQuestion>): VinoPairItem {
  const choices: Partial<Record<QuestionKey, boolean | null>> = {};
  for (const key of QUESTIONS) {
    const q = qs.get(key);
    const pick = q?.answer == null ? null : parseVinoChoice(q.answer, q.order);
    choices[key] = pick === null ? null : pick === q!.variant;
  }
  const text = choices.text_pos === true && choices.text_neg === true;
  const video = choices.video_pos === true && choices.video_neg === true;
  return { pair_id, choices, text, video, group: text && video };
}

/** Each pair's pos and neg rows; a pair without exactly one of each is an error. */
export function vinoPairs(rows: ReadonlyArray<Located<VinogroundRow>>): string[] {
  const seen = new Map<string, Map<Variant, string>>();
  for (const { row, at } of rows) {
    const m = seen.get(row.pair_id) ?? new Map<Variant, string>();
    const prev = m.get(row.variant);
    if (prev) fail(at, `pair '${row.pair_id}' has a second '${row.variant}' row (the first is ${prev})`);
    seen.set(row.pair_id, m.set(row.variant, at));
  }
  for (const [pair, m] of seen)
    for (const v of VARIANTS) if (!m.has(v)) fail([...m.values()][0], `pair '${pair}' has no '${v}' row`);
  return [...seen.keys()];
}

/** One item per pair, from its predictions (question rows or one score row). */
export function scoreVinoground(pairs: readonly string[], preds: ReadonlyArray<VinoPrediction>): VinoPairItem[] {
  const scores = new Map<string, VinoScores>();
  const questions = new Map<string, Map<QuestionKey, VinoQuestion>>();
  for (const p of preds) {
    if ('scores' in p) scores.set(p.pair_id, p);
    else {
      const m = questions.get(p.pair_id) ?? new Map<QuestionKey, VinoQuestion>();
      questions.set(p.pair_id, m.set(`${p.task}_${p.variant}`, p));
    }
  }
  return pairs.map((id) => {
    const s = scores.get(id);
    return s ? fromScores(id, s.scores) : fromQuestions(id, questions.get(id) ?? new Map());
  });
}

export interface VinoSummary {
  text: number;
  video: number;
  group: number;
  n: number;
  unparsed: number;
}

export function vinogroundSummary(items: readonly VinoPairItem[]): VinoSummary {
  const n = items.length;
  if (!n) throw new Error('pacer: Vinoground scores need at least one pair');
  const pct = (f: (it: VinoPairItem) => boolean) => (100 * items.filter(f).length) / n;
  const unparsed = items.reduce((c, it) => c + Object.values(it.choices).filter((v) => v === null).length, 0);
  return { text: pct((it) => it.text), video: pct((it) => it.video), group: pct((it) => it.group), n, unparsed };
}

function scoresOf(x: unknown, at: string): VinoScores['scores'] {
  const keys = ['pos_pos', 'pos_neg', 'neg_pos', 'neg_neg'] as const;
  const o = x as Record<string, unknown>;
  if (!o || typeof o !== 'object' || !keys.every((k) => typeof o[k] === 'number' && Number.isFinite(o[k])))
    fail(at, `field 'scores' must be {"pos_pos", "pos_neg", "neg_pos", "neg_neg"} numbers (video_caption)`);
  return {
    pos_pos: o.pos_pos as number,
    pos_neg: o.pos_neg as number,
    neg_pos: o.neg_pos as number,
    neg_neg: o.neg_neg as number,
  };
}

function orderOf(x: unknown, at: string): [Variant, Variant] {
  if (x === undefined) return ['pos', 'neg'];
  if (!Array.isArray(x) || x.length !== 2 || [...x].sort().join() !== 'neg,pos')
    fail(
      at,
      `field 'order' must be ["pos", "neg"] or ["neg", "pos"] (the members shown as A and B), got ${JSON.stringify(x)}`,
    );
  return x as [Variant, Variant];
}

/** A Vinoground prediction row: a question's answer or a pair's four similarity scores. */
export function vinoPredictionRow(v: Record<string, unknown>, at: string): VinoPrediction {
  const pair_id = v.pair_id;
  if (typeof pair_id !== 'string' || !pair_id)
    fail(at, `field 'pair_id' must be a non-empty string, got ${JSON.stringify(pair_id) ?? 'nothing'}`);
  if ('scores' in v) return { pair_id, scores: scoresOf(v.scores, at) };
  const { task, variant, answer } = v;
  if (task !== 'text' && task !== 'video')
    fail(at, `field 'task' must be 'text' or 'video' (or give 'scores'), got ${JSON.stringify(task) ?? 'nothing'}`);
  if (variant !== 'pos' && variant !== 'neg')
    fail(at, `field 'variant' must be 'pos' or 'neg', got ${JSON.stringify(variant) ?? 'nothing'}`);
  if (answer !== null && typeof answer !== 'string')
    fail(at, `field 'answer' must be the model's text (or null), got ${JSON.stringify(answer) ?? 'nothing'}`);
  return { pair_id, task, variant, answer, order: orderOf(v.order, at) };
}

/** Every prediction names a known pair; no question is answered twice; a pair is scored one way. */
export function checkVinoPredictions(preds: ReadonlyArray<Located<VinoPrediction>>, pairs: ReadonlySet<string>): void {
  const seen = new Map<string, string>();
  for (const { row, at } of preds) {
    const p = row.pair_id;
    if (!pairs.has(p)) fail(at, `pair_id '${p}' is not in the ground truth`);
    const own = 'scores' in row ? `${p} scores` : `${p} ${row.task}_${row.variant}`;
    const other = 'scores' in row ? `${p} questions` : `${p} scores`;
    const clash = seen.get(own) ?? seen.get(other);
    if (clash)
      fail(at, `pair '${p}' is already predicted at ${clash} (one row per question, or one 'scores' row per pair)`);
    seen.set(own, at);
    if (!('scores' in row) && !seen.has(`${p} questions`)) seen.set(`${p} questions`, at);
  }
}
