// VideoTG-R1's data curation and masking curriculum for temporal grounding (Dong et al., arXiv
// 2510.23397), as general pieces. The paper publishes neither formulas nor thresholds; these are the
// design of research/video-methods.md §2, every number an option:
//   difficulty   Difficulty Estimation Agent: zero-shot mIoU_i = (1/G) Σ_g tIoU(pred_ig, gt_i) over G
//                sampled answers (no answer: tIoU 0); hard when mIoU_i < hard_below (0.3); the
//                difficulty 1 − mIoU_i feeds difficulty_column / stratification.
//   m(t)         the masked fraction at step t of T: m0 · s(min(1, t / (until · T))) with
//                s(x) = 1 − x (linear), ½(1 + cos πx) (cosine) or [x < 1] (step); m0 0.75, until 0.7.
//   maskFrames   blanks (sets to `fill`, keeping the frame so time positions stay valid) round(m · N)
//                of the N frames outside the true span — frame f covers [f/fps, (f+1)/fps) and is
//                outside when it does not overlap [s, e] — chosen farthest from the span first (by
//                the distance of the frame's centre to the span; ties: the earlier frame) or at random
//                (seeded). round: half up. curriculumMask applies it to hard items only, at m(step).
//   subset       a sample of n items stratified by difficulty stratum: proportional (largest-remainder
//                quotas n · |S_k| / N, ties to the lower stratum) or equal (n / K each, the remainder to
//                the lower strata; a stratum's leftover quota goes to the others in order), items drawn
//                at random (seeded) inside each stratum.
//   boundary reflection  the Boundary Reflection Agent as a model filter (src/data/model-filter.ts):
//                answers on the item with its labelled span blanked agree when tIoU > agree_iou (0.5);
//                the item is flagged when ≥ min_agree (6 of 8) agree on a span whose tIoU with the
//                label is below outside_iou (0.3) — the event is found elsewhere: a partial label.
import { temporalIoU } from '../eval/grounding.js';
import { rng } from '../data/random.js';
import type { ModelFilterOptions } from '../data/model-filter.js';
import type { FramesArray } from '../video/npz.js';

export type Span = readonly [number, number];

export interface Difficulty {
  miou: number;
  hard: boolean;
  difficulty: number;
}

/** Zero-shot difficulty of each item from G sampled spans. */
export async function estimateDifficulty<T>(
  items: readonly T[],
  o: {
    samples: number;
    predict: (item: T, g: number, index: number) => Promise<Span | null> | Span | null;
    segment: (item: T) => Span;
    hardBelow?: number;
  },
): Promise<Difficulty[]> {
  if (!Number.isInteger(o.samples) || o.samples < 1)
    throw new Error(`pacer: difficulty estimation: samples must be an integer >= 1, got ${o.samples}`);
  const hardBelow = o.hardBelow ?? 0.3;
  const out: Difficulty[] = [];
  for (const [i, item] of items.entries()) {
    let total = 0;
    for (let g = 0; g < o.samples; g++) {
      const p = await o.predict(item, g, i);
      total += p ? temporalIoU(p, o.segment(item)) : 0;
    }
    const miou = total / o.samples;
    out.push({ miou, hard: miou < hardBelow, difficulty: 1 - miou });
  }
  return out;
}

export type MaskShape = 'linear' | 'cosine' | 'step';
export const MASK_SHAPES: readonly MaskShape[] = ['linear', 'cosine', 'step'];

/** m(t): the fraction of non-span frames blanked at step t of T. */
export function maskSchedule(
  step: number,
  total: number,
  o: { start?: number; until?: number; shape?: MaskShape } = {},
) {
  const m0 = o.start ?? 0.75;
  const until = o.until ?? 0.7;
  const shape = o.shape ?? 'linear';
  if (!(m0 >= 0 && m0 <= 1)) throw new Error(`pacer: mask schedule: start must be in [0, 1], got ${m0}`);
  if (!(until > 0 && until <= 1)) throw new Error(`pacer: mask schedule: until must be in (0, 1], got ${until}`);
  if (!MASK_SHAPES.includes(shape))
    throw new Error(`pacer: mask schedule: shape must be one of ${MASK_SHAPES.join(', ')}, got '${shape}'`);
  if (!(total > 0)) throw new Error(`pacer: mask schedule: total steps must be > 0, got ${total}`);
  const x = Math.min(1, Math.max(0, step) / (until * total));
  const s = shape === 'linear' ? 1 - x : shape === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * x)) : x < 1 ? 1 : 0;
  return m0 * s;
}

/** The frames of a video (n frames at fps) that do not overlap [s, e], in order. */
export function framesOutside(n: number, fps: number, span: Span): number[] {
  const [s, e] = span[0] <= span[1] ? span : [span[1], span[0]];
  const out: number[] = [];
  for (let f = 0; f < n; f++) if ((f + 1) / fps <= s || f / fps >= e) out.push(f);
  return out;
}

/** Which frames to blank: round(m · N) of the N outside the span, farthest first or at random. */
export function maskedFrames(
  n: number,
  fps: number,
  span: Span,
  m: number,
  o: { order?: 'farthest' | 'random'; seed?: number } = {},
): number[] {
  if (!(m >= 0 && m <= 1)) throw new Error(`pacer: frame mask: the fraction must be in [0, 1], got ${m}`);
  const outside = framesOutside(n, fps, span);
  const k = Math.floor(m * outside.length + 0.5);
  const [s, e] = span[0] <= span[1] ? span : [span[1], span[0]];
  let order: number[];
  if ((o.order ?? 'farthest') === 'farthest') {
    const dist = (f: number) => {
      const c = (f + 0.5) / fps;
      return c < s ? s - c : c - e;
    };
    order = [...outside].sort((a, b) => dist(b) - dist(a) || a - b);
  } else if (o.order === 'random') order = shuffled(outside, o.seed ?? 0);
  else throw new Error(`pacer: frame mask: order must be farthest or random, got '${o.order}'`);
  return order.slice(0, k).sort((a, b) => a - b);
}

/** A copy of the video with the given frames set to `fill` (an RGB value; black by default). */
export function blankFrames(
  v: FramesArray,
  frames: readonly number[],
  fill: readonly [number, number, number] = [0, 0, 0],
) {
  const data = new Uint8Array(v.data);
  const size = v.height * v.width * 3;
  for (const f of frames) {
    if (!Number.isInteger(f) || f < 0 || f >= v.frames)
      throw new Error(`pacer: frame mask: frame ${f} is not in [0, ${v.frames})`);
    for (let p = f * size; p < (f + 1) * size; p += 3) data.set(fill, p);
  }
  return { ...v, data };
}

export interface MaskCurriculumOptions {
  start?: number;
  until?: number;
  shape?: MaskShape;
  order?: 'farthest' | 'random';
  seed?: number;
}

/**
 * The masking curriculum for one item at a step: the frames to blank — m(step) of those outside its
 * span when the item is hard, none otherwise (random order: seeded by seed, item index and step).
 */
export function curriculumMask(
  item: { index: number; hard: boolean; segment: Span; frames: number; fps: number },
  step: number,
  total: number,
  o: MaskCurriculumOptions = {},
): number[] {
  const m = maskSchedule(step, total, o);
  if (!item.hard || m === 0) return [];
  const seed = ((o.seed ?? 0) * 1_000_003 + item.index * 7919 + step) >>> 0;
  return maskedFrames(item.frames, item.fps, item.segment, m, { order: o.order, seed });
}

/** Fisher–Yates with the seeded PRNG. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const r = rng(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Quotas per stratum for a subset of n (sizes: each stratum's item count). */
export function stratumQuotas(sizes: readonly number[], n: number, allocation: 'proportional' | 'equal'): number[] {
  const N = sizes.reduce((a, b) => a + b, 0);
  if (!Number.isInteger(n) || n < 0 || n > N)
    throw new Error(`pacer: stratified subset: n must be an integer in [0, ${N}], got ${n}`);
  if (allocation === 'proportional') {
    const exact = sizes.map((s) => (n * s) / N);
    const q = exact.map(Math.floor);
    const order = exact.map((x, k) => [x - Math.floor(x), k]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let r = n - q.reduce((a, b) => a + b, 0), i = 0; r > 0; r--, i++) q[order[i][1]]++;
    return q;
  }
  if (allocation !== 'equal')
    throw new Error(`pacer: stratified subset: allocation must be proportional or equal, got '${allocation}'`);
  const q = sizes.map(() => 0);
  for (let left = n; left > 0; ) {
    const open = sizes.map((_, k) => k).filter((k) => q[k] < sizes[k]);
    const each = Math.floor(left / open.length);
    open.forEach((k, i) => {
      const want = each + (i < left - each * open.length ? 1 : 0);
      const got = Math.min(want, sizes[k] - q[k]);
      q[k] += got;
    });
    left = n - q.reduce((a, b) => a + b, 0);
  }
  return q;
}

/** A subset of n item indices stratified by `strata` (one stratum label per item), in index order. */
export function stratifiedSubset(
  strata: readonly (string | number)[],
  n: number,
  o: { allocation?: 'proportional' | 'equal'; seed?: number } = {},
): number[] {
  const keys = [...new Set(strata)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const members = keys.map((k) => strata.flatMap((s, i) => (s === k ? [i] : [])));
  const q = stratumQuotas(
    members.map((m) => m.length),
    n,
    o.allocation ?? 'proportional',
  );
  return members.flatMap((m, k) => shuffled(m, (o.seed ?? 0) * 7919 + k).slice(0, q[k])).sort((a, b) => a - b);
}

/** Model-filter options for the Boundary Reflection Agent on grounding items. */
export function boundaryReflection<T>(o: {
  samples?: number;
  minAgree?: number;
  agreeIoU?: number;
  outsideIoU?: number;
  /** A span the model finds on the item with its labelled span blanked. */
  predictBlanked: (item: T, g: number, index: number) => Promise<Span | null> | Span | null;
  segment: (item: T) => Span;
  action?: 'drop' | 'relabel' | 'flag';
  relabel?: (item: T, span: Span) => T;
}): ModelFilterOptions<T, Span> {
  const agreeIoU = o.agreeIoU ?? 0.5;
  const outsideIoU = o.outsideIoU ?? 0.3;
  return {
    samples: o.samples ?? 8,
    minAgree: o.minAgree ?? 6,
    predict: o.predictBlanked,
    agree: (a, b) => temporalIoU(a, b) > agreeIoU,
    conflicts: (item, c) => temporalIoU(c, o.segment(item)) < outsideIoU,
    action: o.action ?? 'drop',
    relabel: o.relabel,
  };
}
