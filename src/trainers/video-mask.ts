// VideoTG-R1's masking curriculum inside online training (Dong et al., arXiv 2510.23397; the design of
// research/video-methods.md §2): on a video row marked hard (mask_hard_column true), at step t of T the
// rollouts see a copy of the video whose frames outside the true span (mask_segment_column, [s, e] in
// seconds) are blanked — black, kept in place so M-RoPE time positions stay valid — a fraction
//   m(t) = mask_start · s(min(1, t / (mask_until · T)))      (src/curriculum/videotg.ts, maskSchedule)
// of them, round(m · N) of the N outside frames, farthest from the span first or at random (mask_order);
// frame f of a video part sampled at r frames/s covers [f/r, (f+1)/r) (r = temporal_patch_size /
// second_per_grid_t). Rows not hard, or without video, are left as they are. The policy is trained on
// the rollouts with the video they were sampled from (the masked one). Logged: mask/fraction = m(t)
// and mask/frames, the frames blanked in the step's prompts.
import { curriculumMask, type MaskShape, type Span } from '../curriculum/videotg.js';
import type { Example } from '../data/datasets.js';
import { located } from '../data/jsonl.js';
import type { RowVision } from '../data/media.js';
import { DataError } from '../util/errors.js';

export interface MaskPlan {
  hardColumn: string;
  segmentColumn: string;
  start: number;
  until: number;
  shape: MaskShape;
  order: 'farthest' | 'random';
  seed: number;
}

/** The keys a config with a masking curriculum sets (the grpo trainer's mask_* keys). */
export interface MaskKeys {
  mask_curriculum: boolean;
  mask_hard_column: string;
  mask_segment_column: string;
  mask_start: number;
  mask_until: number;
  mask_shape: MaskShape;
  mask_order: 'farthest' | 'random';
  seed: number;
}

/** The plan of a config, or null when it has no masking curriculum (or the trainer has no such keys). */
export function maskPlan(cfg: object): MaskPlan | null {
  if (!('mask_curriculum' in cfg)) return null;
  const c = cfg as MaskKeys;
  if (!c.mask_curriculum) return null;
  return {
    hardColumn: c.mask_hard_column,
    segmentColumn: c.mask_segment_column,
    start: c.mask_start,
    until: c.mask_until,
    shape: c.mask_shape,
    order: c.mask_order,
    seed: c.seed,
  };
}

/** Each row's true span when the curriculum acts on it (a hard row with a video), else null; bad spans are errors. */
export function maskSpans(examples: readonly Example[], plan: MaskPlan): Array<Span | null> {
  return examples.map((e) => {
    const hard = e.extra[plan.hardColumn];
    if (hard !== undefined && typeof hard !== 'boolean')
      throw new DataError(
        `pacer: ${e.where}: ${plan.hardColumn} must be true or false (mask_hard_column), got ${JSON.stringify(hard)}`,
        located(e.where, plan.hardColumn),
      );
    if (hard !== true || !e.vision?.parts.some((p) => p.kind === 'video')) return null;
    const seg = e.extra[plan.segmentColumn];
    const ok = Array.isArray(seg) && seg.length === 2 && seg.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok || seg[0] > seg[1])
      throw new DataError(
        `pacer: ${e.where}: a hard row needs ${plan.segmentColumn} = [start, end] in seconds with start <= end ` +
          `(mask_segment_column), got ${JSON.stringify(seg)}`,
        located(e.where, plan.segmentColumn),
      );
    return [seg[0], seg[1]] as Span;
  });
}

/**
 * A row's vision at a step of the curriculum: the same object when nothing is blanked, else a copy whose
 * video parts have the scheduled frames blanked; `blanked` lists them per part (image parts: none).
 */
export function maskVision(
  rv: RowVision,
  span: Span,
  index: number,
  step: number,
  total: number,
  plan: MaskPlan,
): { vision: RowVision; blanked: number[][] } {
  const blanked = rv.parts.map((p) => {
    if (p.kind !== 'video') return [];
    const fps = rv.processors.video.temporalPatchSize / p.secondPerGrid!;
    const item = { index, hard: true, segment: span, frames: p.frames.frames.length, fps };
    return curriculumMask(item, step, total, plan);
  });
  return { vision: blankVision(rv, blanked), blanked };
}

/** A copy of a row's vision with frames blanked (black) per part, other frames shared; rv itself when none. */
export function blankVision(rv: RowVision, frames: ReadonlyArray<readonly number[]>): RowVision {
  if (frames.every((b) => b.length === 0)) return rv;
  const parts = rv.parts.map((p, i) => {
    if (!frames[i]?.length) return p;
    const black = new Uint8Array(p.frames.height * p.frames.width * 3);
    const off = new Set(frames[i]);
    return { ...p, frames: { ...p.frames, frames: p.frames.frames.map((f, k) => (off.has(k) ? black : f)) } };
  });
  return { ...rv, parts };
}
