// Temporal grounding metrics as Charades-STA and ActivityNet Captions grounding results are reported.
//   tIoU(p, g) = max(0, min(pe, ge) − max(ps, gs)) / (max(pe, ge) − min(ps, gs)); a reversed segment
//     [e, s] is swapped to [s, e] first, and a zero denominator (both segments one and the same instant)
//     gives 0. The denominator is the hull of the two segments: equal to the union when they overlap,
//     and when they do not the numerator is 0 anyway. (TimeChat metrics/tvg/eval_tvg.py `iou`; the
//     `calc_iou` of the training-free VTG code bases; 2D-TAN's evaluation.)
//   R@1,IoU=m = 100 · |{i : tIoU_i ≥ m}| / N over all N ground-truth queries, one (top-1) prediction
//     each, m ∈ {0.3, 0.5, 0.7}; mIoU = 100 · Σ tIoU_i / N. A tie at the threshold counts as a hit.
//   No segment in the answer, or no prediction for a query: tIoU 0, also counted in `unparsed`.
//   Times are not clipped to [0, duration]: the benchmarks' scripts compare the raw numbers.
// Answer parsing: answerText() (the first <answer>…</answer> block when present), then its first two
// numbers are start and end. A minus sign directly after a digit is a range dash ("2.5-7" is 2.5 and 7).
import { answerText } from './answer.js';

const NUMBER = /(?<![\d.])-?(?:\d+(?:\.\d*)?|\.\d+)/g;

/** The first two numbers of the answer as [start, end], or null when there are fewer than two. */
export function parseSegment(text: string): [number, number] | null {
  const nums = answerText(text).match(NUMBER);
  if (!nums || nums.length < 2) return null;
  return [Number(nums[0]), Number(nums[1])];
}

/** Temporal IoU of two [start, end] segments; either may be reversed. */
export function temporalIoU(p: readonly number[], q: readonly number[]): number {
  const [ps, pe] = p[0] <= p[1] ? [p[0], p[1]] : [p[1], p[0]];
  const [qs, qe] = q[0] <= q[1] ? [q[0], q[1]] : [q[1], q[0]];
  const inter = Math.max(0, Math.min(pe, qe) - Math.max(ps, qs));
  const hull = Math.max(pe, qe) - Math.min(ps, qs);
  return hull > 0 ? inter / hull : 0;
}

export interface GroundingItem {
  id: string;
  segment: [number, number];
  /** The model's text; null when it gave none or no prediction exists. */
  answer: string | null;
  prediction: [number, number] | null;
  iou: number;
  missing: boolean;
}

export interface GroundingSummary {
  'R@0.3': number;
  'R@0.5': number;
  'R@0.7': number;
  mIoU: number;
  n: number;
  unparsed: number;
}

/** One item per ground-truth query; `answers` maps ids to the model's text (null: no answer). */
export function scoreGrounding(
  truth: ReadonlyArray<{ id: string; segment: [number, number] }>,
  answers: ReadonlyMap<string, string | null>,
): GroundingItem[] {
  return truth.map(({ id, segment }) => {
    const answer = answers.get(id) ?? null;
    const prediction = answer === null ? null : parseSegment(answer);
    const iou = prediction ? temporalIoU(prediction, segment) : 0;
    return { id, segment, answer, prediction, iou, missing: !answers.has(id) };
  });
}

/** R@1 at IoU 0.3/0.5/0.7 and mIoU, in percent, over all items. */
export function groundingSummary(items: ReadonlyArray<{ iou: number; prediction: unknown }>): GroundingSummary {
  const n = items.length;
  if (!n) throw new Error('pacer: grounding metrics need at least one ground-truth query');
  const recall = (m: number) => (100 * items.filter((it) => it.iou >= m).length) / n;
  return {
    'R@0.3': recall(0.3),
    'R@0.5': recall(0.5),
    'R@0.7': recall(0.7),
    mIoU: (100 * items.reduce((s, it) => s + it.iou, 0)) / n,
    n,
    unparsed: items.filter((it) => it.prediction === null).length,
  };
}
