// `pacer recipe videotg`: the VideoTG-R1 study (Dong et al., arXiv 2510.23397; research/video-methods.md §2)
// on the grounding world ("When does …?" → <answer>[s, e]</answer>, 56×56 frames at 2 fps, a fraction of
// partially labelled items whose truth the world keeps), from the vlm-base model. Per seed:
//   agents   the Difficulty Estimation Agent (zero-shot tIoU of G sampled answers; hard when the mean is
//            below hard_below) on the training and held-out rows; the Boundary Reflection Agent (the base
//            answers G times with the labelled span blanked; flagged when min_agree answers agree on a
//            span outside the label) drops flagged rows — its precision/recall against the world's truth
//   arms     A  GRPO on all rows          B  SFT on all rows
//            C  GRPO on a ~10% subset, stratified by difficulty, of the filtered rows, with the masking
//               curriculum (mask_curriculum on the hard rows)
//            C_no_mask  C without the curriculum      C_no_filter  C's subset drawn from the unfiltered rows
//   metrics  greedy answers on the held-out rows: mIoU and R@{0.3, 0.5, 0.7} (percent, src/eval/grounding.ts),
//            hard_miou (held-out rows the base finds hard); generated_tokens and trained_tokens (the
//            trainers' tokens/generated and tokens/trained); zero_std_hard_early, the mean of
//            frac_reward_zero_std/hard over the first 20% of steps; mask_frames (frames blanked in all);
//            filter_precision / filter_recall; the base model as arm `base`.
// Rewards: temporal_iou (the library's segment tIoU; an answer without a segment scores 0). Writes
// summary.json (src/recipes/study.ts) and report.html in the study folder; seed-S/ keeps data and arms.
import { join } from 'node:path';
import { boundaryReflection, estimateDifficulty, framesOutside, stratifiedSubset } from '../curriculum/videotg.js';
import type { MaskShape, Span } from '../curriculum/videotg.js';
import { flagQuality, modelFilter } from '../data/model-filter.js';
import { groundingSummary, parseSegment, scoreGrounding } from '../eval/grounding.js';
import { htmlTable, plotsFromMetrics } from '../report/html.js';
import { train } from '../trainers/train.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';
import { type ArmRun, armMeans, runSeedStudy, type StudySummary } from './study.js';
import {
  earlyMean,
  grpoKeys,
  lastValue,
  seedStart,
  type Prepared,
  type Row,
  studyReport,
  VideoAnswerer,
  videoGrpoSpec,
  worldRows,
  writeRows,
} from './video-study.js';

export function videotgSpec(smoke: boolean) {
  return {
    // the world vlm-base learnt to ground on (8–12 s, 2×2 grid), with partially labelled items added
    world: {
      duration: '8-12',
      events: '1-2',
      'event-length': '2-4',
      distractors: '0',
      clutter: '0',
      grid: '2',
      partial: smoke ? '0.5' : '0.15',
    },
    size: 56,
    fps: 2,
    train: smoke ? 6 : 200,
    held: smoke ? 3 : 40,
    difficulty: { samples: smoke ? 2 : 4, hard_below: 0.3, temperature: 1 },
    filter: { samples: smoke ? 2 : 4, min_agree: smoke ? 2 : 3, agree_iou: 0.5, outside_iou: 0.3, temperature: 1 },
    subset_fraction: smoke ? 0.34 : 0.1,
    // `npm start`'s video stage settings (a measured gain from this base): DAPO's token-level loss, no KL,
    // a constant rate (every arm keeps the vision tower fixed, as vlm-base trained it)
    grpo: { ...videoGrpoSpec(smoke), steps_all: smoke ? 2 : 50, steps_subset: smoke ? 2 : 12, learning_rate: 2e-5 },
    mask: { start: 0.75, until: 0.7, shape: 'linear' },
    sft: { steps: smoke ? 2 : 50, batch_size: smoke ? 2 : 8, learning_rate: 5e-4 },
    max_new_tokens: 20,
  };
}
export type VideotgSpec = ReturnType<typeof videotgSpec>;

const ARMS = ['A', 'B', 'C', 'C_no_mask', 'C_no_filter'] as const;

/** Every row's answers from the model: G sampled (or the blanked-span view) or one greedy. */
async function prepareAll(m: VideoAnswerer, rows: Row[], what: string): Promise<Prepared[]> {
  const out: Prepared[] = [];
  for (const [i, r] of rows.entries()) out.push(await m.prepare(r, `${what} row ${i + 1}`));
  return out;
}

/** The frames of each video part that overlap the labelled span (what the Boundary Reflection Agent blanks). */
function spanFrames(p: Prepared, span: Span): number[][] {
  return p.vision.parts.map((part) => {
    const fps = p.vision.processors.video.temporalPatchSize / (part.secondPerGrid ?? 1);
    const n = part.frames.frames.length;
    const out = new Set(framesOutside(n, fps, span));
    return Array.from({ length: n }, (_, f) => f).filter((f) => !out.has(f));
  });
}

/** Difficulty of the training and held-out rows, and the filter's verdicts on the training rows. */
async function runAgents(spec: VideotgSpec, base: string, data: string, rows: Row[], held: Row[], seed: number) {
  const m = VideoAnswerer.load(base, data, spec.fps);
  try {
    const [pt, ph] = [await prepareAll(m, rows, 'train'), await prepareAll(m, held, 'held-out')];
    // each row's G answers come from one batched generate call (per-answer seeds), then are handed out by g
    const sampled = (ps: Prepared[], salt: number, o: { samples: number; temperature: number; blank?: boolean }) => {
      const memo = new Map<number, Array<Span | null>>();
      return (r: Row, g: number, i: number) => {
        if (!memo.has(i)) {
          const blank = o.blank ? spanFrames(ps[i], r.segment) : undefined;
          const seedI = seed * 1_000_003 + salt * 10007 + i * 97;
          const opts = { ...o, seed: seedI, maxNewTokens: spec.max_new_tokens, blank };
          memo.set(i, m.answer(ps[i], opts).map(parseSegment));
        }
        return memo.get(i)![g];
      };
    };
    const d = spec.difficulty;
    const dOpts = { samples: d.samples, segment: (r: Row) => r.segment, hardBelow: d.hard_below };
    const dTrain = await estimateDifficulty(rows, { ...dOpts, predict: sampled(pt, 1, d) });
    const dHeld = await estimateDifficulty(held, { ...dOpts, predict: sampled(ph, 2, d) });
    const f = spec.filter;
    const bra = boundaryReflection<Row>({
      samples: f.samples,
      minAgree: f.min_agree,
      agreeIoU: f.agree_iou,
      outsideIoU: f.outside_iou,
      segment: (r) => r.segment,
      predictBlanked: sampled(pt, 3, { samples: f.samples, temperature: f.temperature, blank: true }),
    });
    const filtered = await modelFilter(rows, bra);
    return { dTrain, dHeld, filtered };
  } finally {
    m.dispose();
  }
}

/** A GRPO row: the prompt, the video, the span and the difficulty columns. */
function grpoRow(r: Row, hard: boolean): Row {
  return { id: r.id, prompt: r.prompt, videos: r.videos, segment: r.segment, hard, difficulty: hard ? 'hard' : 'easy' };
}

interface ArmPlan {
  arm: (typeof ARMS)[number];
  rows: Row[];
  mask: boolean;
}

/** The arms' training rows: all rows (A, B), a stratified subset of the filtered rows (C, C_no_mask) or of all. */
function planArms(spec: VideotgSpec, rows: Row[], hard: boolean[], kept: Set<number>, seed: number): ArmPlan[] {
  const all = rows.map((r, i) => ({ ...r, hard: hard[i] }));
  const subsetOf = (idx: number[]) => {
    if (!idx.length) throw new Error('pacer: videotg: the boundary reflection filter flagged every training row');
    const n = Math.max(1, Math.round(spec.subset_fraction * idx.length));
    const strata = idx.map((i) => (hard[i] ? 'hard' : 'easy'));
    return stratifiedSubset(strata, Math.min(n, idx.length), { seed }).map((k) => all[idx[k]]);
  };
  const filtered = subsetOf([...kept].sort((a, b) => a - b));
  const unfiltered = subsetOf(rows.map((_, i) => i));
  return [
    { arm: 'A', rows: all, mask: false },
    { arm: 'B', rows: all, mask: false },
    { arm: 'C', rows: filtered, mask: true },
    { arm: 'C_no_mask', rows: filtered, mask: false },
    { arm: 'C_no_filter', rows: unfiltered, mask: true },
  ];
}

/** Train one arm from the base; returns its model folder and training history. */
async function trainArm(spec: VideotgSpec, p: ArmPlan, base: string, dir: string, o: RecipeOptions, seed: number) {
  const file = join(dir, 'data', `${p.arm}.jsonl`);
  const common = {
    model_name_or_path: base,
    train_dataset: file,
    output_dir: join(dir, p.arm),
    overwrite_output_dir: true,
    logging_steps: 1,
    seed,
    threads: o.threads ?? null,
    video_fps: spec.fps,
    report: false,
    freeze_vision_tower: true,
  };
  if (p.arm === 'B') {
    writeRows(
      file,
      p.rows.map((r) => ({ prompt: r.prompt, completion: r.completion, videos: r.videos })),
    );
    const s = spec.sft;
    const cfg = { ...common, trainer: 'sft' as const, max_steps: s.steps, per_device_train_batch_size: s.batch_size };
    return train({ ...cfg, learning_rate: s.learning_rate, save_steps: s.steps + 1 }, { progress: false, log: o.log });
  }
  writeRows(
    file,
    p.rows.map((r) => grpoRow(r, r.hard)),
  );
  const g = spec.grpo;
  const steps = p.arm === 'A' ? g.steps_all : g.steps_subset;
  const mask = p.mask
    ? {
        mask_curriculum: true,
        mask_start: spec.mask.start,
        mask_until: spec.mask.until,
        mask_shape: spec.mask.shape as MaskShape,
      }
    : {};
  const cfg = {
    ...common,
    trainer: 'grpo' as const,
    reward_funcs: ['temporal_iou'],
    ...grpoKeys(g, steps, spec.max_new_tokens),
    difficulty_column: 'difficulty',
    ...mask,
  };
  return train(cfg, { progress: false, log: o.log });
}

/** Greedy held-out grounding metrics of a model (percent), with the mIoU of the rows the base finds hard. */
async function evalModel(spec: VideotgSpec, model: string, data: string, held: Row[], hard: boolean[]) {
  const m = VideoAnswerer.load(model, data, spec.fps);
  try {
    const answers = new Map<string, string>();
    for (const [i, r] of held.entries()) {
      const p = await m.prepare(r, `held-out row ${i + 1}`);
      answers.set(r.id, m.answer(p, { samples: 1, temperature: 0, seed: 0, maxNewTokens: spec.max_new_tokens })[0]);
    }
    const items = scoreGrounding(
      held.map((r) => ({ id: r.id, segment: r.segment })),
      answers,
    );
    const s = groundingSummary(items);
    const hardItems = items.filter((_, i) => hard[i]);
    return {
      miou: s.mIoU,
      'r@0.3': s['R@0.3'],
      'r@0.5': s['R@0.5'],
      'r@0.7': s['R@0.7'],
      hard_miou: hardItems.length ? groundingSummary(hardItems).mIoU : Number.NaN,
      unparsed: s.unparsed,
    };
  } finally {
    m.dispose();
  }
}

/** One arm's numbers from its training history and held-out evaluation. */
function armMetrics(hist: Array<Record<string, number>>, steps: number, ev: Record<string, number>, rows: number) {
  const tok = (k: string) => {
    const v = lastValue(hist, k);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    ...ev,
    generated_tokens: tok('tokens/generated'),
    trained_tokens: tok('tokens/trained'),
    zero_std_hard_early: earlyMean(hist, 'frac_reward_zero_std/hard', steps, 0.2),
    mask_frames: hist.reduce((a, h) => a + (h['mask/frames'] ?? 0), 0),
    train_rows: rows,
  };
}

interface SeedResult {
  runs: ArmRun[];
  filter: ReturnType<typeof flagQuality> & { rows: number; kept: number };
  hard: { train: number; held: number };
  histories: Record<string, Array<Record<string, number>>>;
}

async function runSeed(spec: VideotgSpec, o: RecipeOptions, seed: number, dir: string): Promise<SeedResult> {
  const { log, base, sd, data } = await seedStart(o, seed, dir);
  // other seeds than vlm-base's own grounding rows (seed, seed + 7919)
  const w = { world: 'grounding', knobs: spec.world, size: spec.size };
  const rows = await worldRows({ ...w, n: spec.train, seed: seed + 1000 }, data, 'train');
  const held = await worldRows({ ...w, n: spec.held, seed: seed + 2000 }, data, 'held');
  log(`pacer: videotg seed ${seed}: difficulty and boundary reflection on ${rows.length} rows`);
  const ag = await runAgents(spec, base, data, rows, held, seed);
  const truth = rows.flatMap((r, i) => (r.truth?.partial ? [i] : []));
  const flagged = new Set(ag.filtered.flagged);
  const kept = new Set(rows.map((_, i) => i).filter((i) => !flagged.has(i)));
  const filter = { ...flagQuality(ag.filtered.flagged, truth), rows: rows.length, kept: kept.size };
  const heldHard = ag.dHeld.map((d) => d.hard);
  const runs: ArmRun[] = [{ arm: 'base', seed, metrics: await evalModel(spec, base, data, held, heldHard) }];
  const histories: SeedResult['histories'] = {};
  const fm = { filter_precision: filter.precision ?? Number.NaN, filter_recall: filter.recall ?? Number.NaN };
  for (const p of planArms(
    spec,
    rows,
    ag.dTrain.map((d) => d.hard),
    kept,
    seed,
  )) {
    log(`pacer: videotg seed ${seed}: arm ${p.arm} (${p.rows.length} rows)`);
    const res = await trainArm(spec, p, base, sd, o, seed);
    const ev = await evalModel(spec, res.outputDir, data, held, heldHard);
    const metrics = armMetrics(res.history, res.globalStep, ev, p.rows.length);
    runs.push({ arm: p.arm, seed, metrics: p.arm === 'C' || p.arm === 'C_no_mask' ? { ...metrics, ...fm } : metrics });
    histories[p.arm] = res.history;
  }
  const hard = { train: ag.dTrain.filter((d) => d.hard).length, held: heldHard.filter(Boolean).length };
  return { runs, filter, hard, histories };
}

const METRICS = [
  'miou',
  'r@0.3',
  'r@0.5',
  'r@0.7',
  'hard_miou',
  'generated_tokens',
  'trained_tokens',
  'zero_std_hard_early',
  'mask_frames',
  'train_rows',
  'filter_precision',
  'filter_recall',
];

function report(spec: VideotgSpec, summary: StudySummary, seeds: SeedResult[]): string {
  const h = seeds[0].histories;
  const series = (key: string) =>
    Object.entries(h).flatMap(([arm, hist]) =>
      plotsFromMetrics(hist, [{ title: `${key} (${arm})`, keys: [key] }]).map((p) =>
        p.series.map((s) => ({ ...s, name: arm })),
      ),
    );
  const plots = ['reward', 'frac_reward_zero_std/hard', 'tokens/generated'].map((k) => ({
    title: `${k}, seed ${summary.seeds[0]}`,
    series: series(k).flat(),
  }));
  const filters = seeds.map((s, i) => [
    summary.seeds[i],
    s.filter.rows,
    s.filter.truth,
    s.filter.flagged,
    s.filter.kept,
  ]);
  return studyReport({
    title: 'VideoTG-R1 on the grounding world',
    intro:
      'GRPO on all rows (A), SFT on all rows (B), VideoTG-R1 (C: boundary-reflection filter, a stratified subset, ' +
      'the masking curriculum) and C without the mask or the filter, from vlm-base; metrics on held-out rows.',
    summary,
    metrics: METRICS,
    plots: plots.filter((p) => p.series.length),
    config: { spec: JSON.stringify(spec) },
    sections: [
      {
        title: 'Boundary reflection filter',
        html: htmlTable(['seed', 'rows', 'partial (truth)', 'flagged', 'kept'], filters),
      },
    ],
  });
}

function run(o: RecipeOptions): Promise<RecipeResult> {
  const spec = videotgSpec(o.smoke);
  return runSeedStudy(o, {
    recipe: 'videotg',
    spec,
    seed: (seed, dir) => runSeed(spec, o, seed, dir),
    extra: (seeds) => ({ filter: seeds.map((s) => s.filter), hard_rows: seeds.map((s) => s.hard) }),
    report: (summary, seeds) => report(spec, summary, seeds),
    headline: flatMeans,
  });
}

/** arm.metric → mean, for the CLI's listing. */
const flatMeans = (s: StudySummary) => armMeans(s, ['miou', 'generated_tokens', 'zero_std_hard_early']);

export const videotg: Recipe = {
  name: 'videotg',
  summary: 'the VideoTG-R1 study: GRPO / SFT / filter + subset + masking curriculum on the grounding world',
  description: `From vlm-base, on the grounding world (56×56, 2 fps, partially labelled items): difficulty and
boundary-reflection agents, then arms A (GRPO, all rows), B (SFT, all rows), C (VideoTG-R1: filtered rows,
a ~10% subset stratified by difficulty, masking curriculum), C_no_mask and C_no_filter; per arm held-out
mIoU and R@{0.3,0.5,0.7}, hard-row mIoU, generated and trained tokens, frac_reward_zero_std on hard rows
over the first 20% of steps; the filter's precision and recall against the world's truth. Writes
DIR/summary.json (mean and std over --seeds) and DIR/report.html; DIR/seed-S keeps data and models.`,
  run,
};
