// `pacer recipe curricula`: the online curricula raced in generated tokens on the grounding task (issue 13,
// "Curriculum revisited"; the arithmetic half is bench/curriculum_tokens.mjs). Counted in optimizer steps a
// curriculum that skips zero-variance groups cannot win; counted in the rollouts it pays for, it may. Per seed:
//   data     grounding rows from the world vlm-base learnt on ("When does …?" → <answer>[s, e]</answer>, its own
//            knobs and frame size, other seeds than its training rows): `train` rows and `held` held-out rows
//   levels   each training row's difficulty from the base's zero-shot tIoU over G sampled answers (VideoTG-R1's
//            Difficulty Estimation Agent, src/curriculum/videotg.ts): 'hard' below hard_below, 'easy' from
//            easy_from, else 'medium' — SEC's and DUMP's arms, the masking curriculum's hard rows
//   arms     GRPO from the base on the same rows, steps and seed, dynamic sampling on in every arm (groups whose
//            rewards are all equal are resampled; their tokens count), differing only in what is practised:
//            uniform, sec, dump, vcrl, balanced (src/curriculum/online.ts) and mask (uniform draws with the
//            masking curriculum on the hard rows, src/trainers/video-mask.ts)
//   race     every eval_steps the trainer answers the held-out rows greedily (eval_reward: mean tIoU, so
//            100 · eval_reward is mIoU); target = the uniform arm's final mIoU (mean of its last final_evals
//            evaluations); tokens_to_target = tokens/generated at an arm's first evaluation at or above the
//            target; tokens_ratio = that / the uniform arm's (same seed). Target of the issue: some curriculum
//            ≤ 0.70 averaged over seeds.
// Writes summary.json (arms.<arm>.<metric>: mean, std, per-seed values) and report.html (curves per arm).
import { join } from 'node:path';
import { estimateDifficulty, type MaskShape } from '../curriculum/videotg.js';
import { groundingSummary, parseSegment, scoreGrounding } from '../eval/grounding.js';
import { htmlTable, type Plot } from '../report/html.js';
import { train } from '../trainers/train.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';
import { type ArmRun, armMeans, runSeedStudy, type StudySummary } from './study.js';
import { vlmBaseSpec } from './vlm-base.js';
import {
  grpoKeys,
  lastValue,
  type Row,
  seedStart,
  studyReport,
  VideoAnswerer,
  videoGrpoSpec,
  worldRows,
  writeRows,
} from './video-study.js';

export const CURRICULA_ARMS = ['uniform', 'sec', 'dump', 'vcrl', 'balanced', 'mask'] as const;
type Arm = (typeof CURRICULA_ARMS)[number];

export function curriculaSpec(smoke: boolean) {
  return {
    train: smoke ? 6 : 160,
    held: smoke ? 3 : 96,
    difficulty: { samples: smoke ? 2 : 4, temperature: 1, hard_below: 0.1, easy_from: 0.4 },
    grpo: {
      ...videoGrpoSpec(smoke),
      steps: smoke ? 2 : 100,
      eval_steps: smoke ? 1 : 5,
      learning_rate: 2e-5,
      pass_threshold: 0.5,
    },
    mask: { start: 0.75, until: 0.7, shape: 'linear' },
    final_evals: smoke ? 1 : 3,
    max_new_tokens: 16,
  };
}
export type CurriculaSpec = ReturnType<typeof curriculaSpec>;

const level = (miou: number, d: CurriculaSpec['difficulty']) =>
  miou < d.hard_below ? 'hard' : miou >= d.easy_from ? 'easy' : 'medium';

/** The base's zero-shot difficulty of each row: mean tIoU of G sampled answers (one batched call per row). */
async function difficulty(spec: CurriculaSpec, base: string, data: string, rows: Row[], seed: number) {
  const m = VideoAnswerer.load(base, data, vlmBaseSpec(false).video_fps);
  try {
    const d = spec.difficulty;
    const answers: Array<Array<ReturnType<typeof parseSegment>>> = [];
    for (const [i, r] of rows.entries()) {
      const p = await m.prepare(r, `train row ${i + 1}`);
      const o = { samples: d.samples, temperature: d.temperature, seed: seed * 1_000_003 + i * 97 };
      answers.push(m.answer(p, { ...o, maxNewTokens: spec.max_new_tokens }).map(parseSegment));
    }
    return await estimateDifficulty(rows, {
      samples: d.samples,
      segment: (r) => r.segment,
      predict: (_r, g, i) => answers[i][g],
    });
  } finally {
    m.dispose();
  }
}

/** Greedy held-out mIoU of the base (percent): the race's step 0. */
async function baseMiou(spec: CurriculaSpec, base: string, data: string, held: Row[]): Promise<number> {
  const m = VideoAnswerer.load(base, data, vlmBaseSpec(false).video_fps);
  try {
    const answers = new Map<string, string>();
    for (const [i, r] of held.entries()) {
      const p = await m.prepare(r, `held-out row ${i + 1}`);
      answers.set(r.id, m.answer(p, { samples: 1, temperature: 0, seed: 0, maxNewTokens: spec.max_new_tokens })[0]);
    }
    const truth = held.map((r) => ({ id: r.id as string, segment: r.segment as [number, number] }));
    return groundingSummary(scoreGrounding(truth, answers)).mIoU;
  } finally {
    m.dispose();
  }
}

/** One arm's GRPO run: the same rows, steps and seed as every other arm; only the sampler (or the mask) differs. */
async function trainArm(spec: CurriculaSpec, arm: Arm, base: string, dir: string, o: RecipeOptions, seed: number) {
  const g = spec.grpo;
  const mask =
    arm === 'mask'
      ? {
          mask_curriculum: true,
          mask_start: spec.mask.start,
          mask_until: spec.mask.until,
          mask_shape: spec.mask.shape as MaskShape,
        }
      : {};
  const cfg = {
    trainer: 'grpo' as const,
    model_name_or_path: base,
    train_dataset: join(dir, 'data', 'train.jsonl'),
    eval_dataset: join(dir, 'data', 'held.jsonl'),
    eval_strategy: 'steps' as const,
    eval_steps: g.eval_steps,
    output_dir: join(dir, arm),
    overwrite_output_dir: true,
    reward_funcs: ['temporal_iou'],
    ...grpoKeys(g, g.steps, spec.max_new_tokens),
    logging_steps: 1,
    dynamic_sampling: true,
    curriculum_sampler: arm === 'mask' ? 'uniform' : arm,
    category_column: 'level',
    difficulty_column: 'level',
    pass_threshold: g.pass_threshold,
    freeze_vision_tower: true,
    video_fps: vlmBaseSpec(false).video_fps,
    seed,
    threads: o.threads ?? null,
    report: false,
    ...mask,
  };
  return train(cfg, { progress: false, log: o.log });
}

/** The held-out mIoU curve (step, percent) of a run's history. */
export function miouCurve(history: ReadonlyArray<Record<string, number>>): Array<[number, number]> {
  return history.filter((h) => typeof h.eval_reward === 'number').map((h) => [h.step, 100 * h.eval_reward]);
}

/** The race's numbers of one arm against the target (NaN where the target is never reached). */
export function raceMetrics(
  history: ReadonlyArray<Record<string, number>>,
  target: number,
  finalEvals: number,
): Record<string, number> {
  const curve = miouCurve(history);
  const tail = curve.slice(-finalEvals);
  const hit = curve.find(([, y]) => y >= target - 1e-9);
  const tokensAt = (step: number) =>
    history.find((h) => h.step === step && 'tokens/generated' in h)?.['tokens/generated'];
  const zs = history.filter((h) => 'frac_reward_zero_std' in h).map((h) => h.frac_reward_zero_std);
  return {
    final_miou: tail.reduce((a, [, y]) => a + y, 0) / Math.max(1, tail.length),
    best_miou: Math.max(...curve.map(([, y]) => y)),
    reached: hit ? 1 : 0,
    steps_to_target: hit ? hit[0] : Number.NaN,
    tokens_to_target: hit ? (tokensAt(hit[0]) ?? Number.NaN) : Number.NaN,
    generated_tokens: lastValue(history, 'tokens/generated'),
    trained_tokens: lastValue(history, 'tokens/trained'),
    frac_reward_zero_std: zs.reduce((a, b) => a + b, 0) / Math.max(1, zs.length),
  };
}

interface SeedResult {
  runs: ArmRun[];
  histories: Partial<Record<Arm, Array<Record<string, number>>>>;
  levels: Record<string, number>;
}

async function runSeed(spec: CurriculaSpec, o: RecipeOptions, seed: number, dir: string): Promise<SeedResult> {
  const { log, base, sd, data } = await seedStart(o, seed, dir);
  const bs = vlmBaseSpec(o.smoke);
  const w = { world: 'grounding', knobs: bs.worlds.grounding, size: bs.size };
  const rows = await worldRows({ ...w, n: spec.train, seed: seed + 3000 }, data, 'train');
  const held = await worldRows({ ...w, n: spec.held, seed: seed + 4000 }, data, 'held');
  log(`pacer: curricula seed ${seed}: the base's difficulty of ${rows.length} rows`);
  const diff = await difficulty(spec, base, data, rows, seed);
  const lv = diff.map((d) => level(d.miou, spec.difficulty));
  const keep = (r: Row) => ({ id: r.id, prompt: r.prompt, videos: r.videos, segment: r.segment });
  writeRows(
    join(data, 'train.jsonl'),
    rows.map((r, i) => ({ ...keep(r), level: lv[i], hard: lv[i] === 'hard' })),
  );
  writeRows(join(data, 'held.jsonl'), held.map(keep));
  const levels: Record<string, number> = { hard: 0, medium: 0, easy: 0 };
  for (const l of lv) levels[l]++;
  const runs: ArmRun[] = [{ arm: 'base', seed, metrics: { final_miou: await baseMiou(spec, base, data, held) } }];
  const histories: SeedResult['histories'] = {};
  for (const arm of CURRICULA_ARMS) {
    log(`pacer: curricula seed ${seed}: arm ${arm} (${spec.grpo.steps} steps)`);
    histories[arm] = (await trainArm(spec, arm, base, sd, o, seed)).history;
  }
  const target = raceMetrics(histories.uniform!, Number.POSITIVE_INFINITY, spec.final_evals).final_miou;
  const u = raceMetrics(histories.uniform!, target, spec.final_evals);
  for (const arm of CURRICULA_ARMS) {
    const m = raceMetrics(histories[arm]!, target, spec.final_evals);
    runs.push({ arm, seed, metrics: { ...m, target, tokens_ratio: m.tokens_to_target / u.tokens_to_target } });
  }
  return { runs, histories, levels };
}

const METRICS = [
  'final_miou',
  'best_miou',
  'target',
  'reached',
  'steps_to_target',
  'tokens_to_target',
  'tokens_ratio',
  'generated_tokens',
  'trained_tokens',
  'frac_reward_zero_std',
];

/** Held-out mIoU against generated tokens, one series per arm (the first seed). */
function curves(h: SeedResult['histories'], seed: number): Plot[] {
  const series = (x: 'tokens/generated' | 'step') =>
    Object.entries(h).map(([arm, hist]) => {
      const at = (step: number) => hist!.find((r) => r.step === step && x in r)?.[x] ?? step;
      return { name: arm, points: miouCurve(hist!).map(([s, y]) => [at(s), y] as [number, number]) };
    });
  return [
    {
      title: `held-out mIoU vs generated tokens, seed ${seed}`,
      series: series('tokens/generated'),
      xLabel: 'generated tokens',
    },
    { title: `held-out mIoU vs step, seed ${seed}`, series: series('step') },
  ];
}

function report(spec: CurriculaSpec, summary: StudySummary, seeds: SeedResult[]): string {
  const levels = seeds.map((s, i) => [summary.seeds[i], s.levels.hard, s.levels.medium, s.levels.easy]);
  return studyReport({
    title: 'Curricula raced in generated tokens on the grounding task',
    intro:
      'GRPO from vlm-base on the same grounding rows with dynamic sampling on; arms differ only in the curriculum ' +
      "sampler (or the masking curriculum). Target: the uniform arm's final held-out mIoU; tokens_to_target: " +
      'generated tokens at the first evaluation at or above it.',
    summary,
    metrics: METRICS,
    plots: curves(seeds[0].histories, summary.seeds[0]),
    config: { spec: JSON.stringify(spec) },
    sections: [
      { title: "Training rows by the base's difficulty", html: htmlTable(['seed', 'hard', 'medium', 'easy'], levels) },
    ],
  });
}

function run(o: RecipeOptions): Promise<RecipeResult> {
  const spec = curriculaSpec(o.smoke);
  return runSeedStudy(o, {
    recipe: 'curricula',
    spec,
    seed: (seed, dir) => runSeed(spec, o, seed, dir),
    extra: (seeds) => ({ levels: seeds.map((s) => s.levels) }),
    report: (summary, seeds) => report(spec, summary, seeds),
    headline: flatMeans,
  });
}

const flatMeans = (s: StudySummary) => armMeans(s, ['final_miou', 'tokens_ratio', 'generated_tokens']);

export const curricula: Recipe = {
  name: 'curricula',
  summary: 'SEC, DUMP, VCRL, balanced and masking vs uniform, counted in generated tokens on the grounding task',
  description: `From vlm-base, GRPO on grounding rows of its own world with dynamic sampling on, one arm per
curriculum (uniform, sec, dump, vcrl, balanced, mask), the same rows, steps and seed; the held-out mIoU is
evaluated every eval_steps. Per arm: final and best mIoU, tokens_to_target (generated tokens at the first
evaluation reaching the uniform arm's final mIoU), tokens_ratio against uniform, generated and trained
tokens, frac_reward_zero_std; rows' levels come from the base's zero-shot tIoU. Writes DIR/summary.json
(mean and std over --seeds) and DIR/report.html; DIR/seed-S keeps data and models.`,
  run,
};
