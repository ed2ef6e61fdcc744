// Spatial and temporal grounding rewards.
//   iou: |P ∩ Q| / |P ∪ Q| for boxes [x1, y1, x2, y2].
//   temporal_iou: the same for segments [start, end] (VideoTG-R1, TSPO), computed and parsed exactly as
//     `pacer eval grounding` scores (src/eval/grounding.ts: temporalIoU, parseSegment — the first two
//     numbers, inside <answer>…</answer> when present; reversed segments swapped).
//   gaussian_point (GUI-G², arXiv 2507.15846): exp(-(dx²/2σx² + dy²/2σy²)) for a predicted point and
//     a target box, σ proportional to the box's size (σ = α·w, α·h; α = 0.5 here), plus a coverage term
//     when a predicted box is given: the fraction of the target box it covers.
// Boxes and points are parsed from the completion: the last bracketed list of numbers.
import { parseSegment, temporalIoU } from '../eval/grounding.js';
import { column, completionText, type RewardFunction } from './types.js';

export { temporalIoU };

export function parseNumbers(text: string, n: number): number[] | null {
  const lists = [...text.matchAll(/\[([^[\]]+)\]/g)].map((m) =>
    m[1]
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number),
  );
  const ok = lists.filter((l) => l.length === n && l.every(Number.isFinite));
  return ok.length ? ok[ok.length - 1] : null;
}

export function boxIoU(p: number[], q: number[]): number {
  const iw = Math.max(0, Math.min(p[2], q[2]) - Math.max(p[0], q[0]));
  const ih = Math.max(0, Math.min(p[3], q[3]) - Math.max(p[1], q[1]));
  const inter = iw * ih;
  const area = (b: number[]) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  const union = area(p) + area(q) - inter;
  return union > 0 ? inter / union : 0;
}

export function gaussianPointReward(point: number[], box: number[], alpha = 0.5): number {
  const cx = (box[0] + box[2]) / 2,
    cy = (box[1] + box[3]) / 2;
  const sx = Math.max(alpha * (box[2] - box[0]), 1e-6),
    sy = Math.max(alpha * (box[3] - box[1]), 1e-6);
  return Math.exp(-((point[0] - cx) ** 2 / (2 * sx * sx) + (point[1] - cy) ** 2 / (2 * sy * sy)));
}

function refList(v: unknown, n: number, reward: string, i: number): number[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number'))
    throw new Error(
      `pacer: reward '${reward}': sample ${i} needs a reference of ${n} numbers, got ${JSON.stringify(v)}`,
    );
  return v as number[];
}

/** A reward comparing the numbers parsed from the completion (by default the last list of n) with a reference
 * column (0 when none parse). */
function listReward(
  name: string,
  col: string,
  n: number,
  score: (pred: number[], ref: number[]) => number,
  parse: (text: string) => number[] | null = (t) => parseNumbers(t, n),
): RewardFunction {
  return (input) => {
    const ref = column(input, col, name);
    return input.completions.map((c, i) => {
      if (ref[i] == null) return null;
      const p = parse(completionText(c));
      return p ? score(p, refList(ref[i], n, name, i)) : 0;
    });
  };
}

export function iouReward(o: { column?: string } = {}): RewardFunction {
  return listReward('iou', o.column ?? 'box', 4, boxIoU);
}

/**
 * tIoU of the answered [start, end] with the reference segment. With `durationColumn`, an answer that leaves
 * the video (start < 0 or end > the row's duration) scores 0: otherwise a huge span keeps a small positive
 * tIoU with every truth, which RL finds before it finds the event.
 */
export function temporalIoUReward(o: { column?: string; durationColumn?: string } = {}): RewardFunction {
  const plain = listReward('temporal_iou', o.column ?? 'segment', 2, temporalIoU, parseSegment);
  if (!o.durationColumn) return plain;
  const dcol = o.durationColumn;
  return async (input) => {
    const scores = await plain(input);
    const dur = column(input, dcol, 'temporal_iou');
    return scores.map((x, i) => {
      if (x === null || !x) return x;
      const D = Number(dur[i]);
      if (!Number.isFinite(D)) throw new Error(`pacer: temporal_iou: row ${i}: '${dcol}' must be a number of seconds`);
      const seg = parseSegment(completionText(input.completions[i]))!;
      return Math.min(seg[0], seg[1]) >= 0 && Math.max(seg[0], seg[1]) <= D ? x : 0;
    });
  };
}

export function gaussianPointRewardFn(o: { column?: string; alpha?: number } = {}): RewardFunction {
  return (input) => {
    const ref = column(input, o.column ?? 'box', 'gaussian_point');
    return input.completions.map((c, i) => {
      if (ref[i] == null) return null;
      const box = refList(ref[i], 4, 'gaussian_point', i);
      const t = completionText(c);
      const pb = parseNumbers(t, 4);
      if (pb) {
        const center = [(pb[0] + pb[2]) / 2, (pb[1] + pb[3]) / 2];
        const iw = Math.max(0, Math.min(pb[2], box[2]) - Math.max(pb[0], box[0])),
          ih = Math.max(0, Math.min(pb[3], box[3]) - Math.max(pb[1], box[1]));
        const coverage = (iw * ih) / Math.max(1e-12, (box[2] - box[0]) * (box[3] - box[1]));
        return 0.5 * gaussianPointReward(center, box, o.alpha) + 0.5 * coverage;
      }
      const p = parseNumbers(t, 2);
      return p ? gaussianPointReward(p, box, o.alpha) : 0;
    });
  };
}
