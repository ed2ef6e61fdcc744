// `pacer recipe cue`: the Cue-R1 study (Yu et al., CueBench, arXiv 2511.00613; research/video-methods.md §4)
// on the anomaly world (absolute and conditional anomalies, each with its normal twin; five tasks:
// recognition, detection, grounding, anticipation, cue), from the vlm-base model (56×56 frames, 2 fps). Per seed:
//   sft        SFT on the multitask training rows (completion-only loss)
//   grpo_flat  sft → GRPO with flat rewards routed by the task column: multiple_choice (0/1) on recognition,
//              anticipation and cue, yes_no on detection, temporal_iou on grounding
//   grpo_hier  the same with hierarchical_label (taxonomy.json: 1 exact class, 0.5 right anomaly type,
//              0.25 only normal-vs-anomaly right) on recognition and anticipation (Cue-R1's rewards)
// Metrics (src/eval/cue.ts, percent): greedy answers on held-out rows → each task's score, their
// average, the context-error rate (the anomaly taken for its normal twin or back) and per task; the
// tokens generated and trained (the GRPO arms count their SFT stage's trained tokens too); the mean
// frac_reward_zero_std over the GRPO steps. The base model is arm `base`. Writes summary.json and
// report.html in the study folder; seed-S/ keeps data and models.
import { join } from 'node:path';
import { scoreCue } from '../eval/cue.js';
import { TASKS } from '../video/worlds/anomaly.js';
import { train } from '../trainers/train.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';
import { type ArmRun, armMeans, runSeedStudy, type StudySummary } from './study.js';
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
import { plotsFromMetrics } from '../report/html.js';

export function cueSpec(smoke: boolean) {
  return {
    size: 56,
    fps: 2,
    train: smoke ? 1 : 60,
    held: smoke ? 1 : 12,
    sft: { steps: smoke ? 2 : 120, batch_size: smoke ? 2 : 8, learning_rate: 5e-4 },
    // long enough that the two reward schemes part (at 30 steps of 2 × 4 their greedy answers were identical);
    // DAPO's token-level loss, no KL, a constant rate, as `npm start`'s video stage
    grpo: { ...videoGrpoSpec(smoke), steps: smoke ? 2 : 100, learning_rate: 5e-5 },
    credits: '0.25;0.5',
    max_new_tokens: 20,
  };
}
export type CueSpec = ReturnType<typeof cueSpec>;

/** The reward routes of a GRPO arm (flat 0/1, or hierarchical on recognition and anticipation). */
export function cueRoutes(kind: 'flat' | 'hier', taxonomy: string, credits: string): Record<string, string[]> {
  const choice = kind === 'hier' ? [`hierarchical_label:taxonomy=${taxonomy}:credits=${credits}`] : ['multiple_choice'];
  return {
    recognition: choice,
    anticipation: choice,
    cue: ['multiple_choice'],
    detection: ['yes_no'],
    grounding: ['temporal_iou'],
  };
}

/** Rows with every column of any row (null where a task has none), so each reward finds its column. */
function uniformRows(rows: Row[], keep: string[]): Row[] {
  return rows.map((r) => Object.fromEntries(keep.map((k) => [k, r[k] ?? null])));
}

const GRPO_COLUMNS = ['id', 'prompt', 'videos', 'task', 'answer', 'solution', 'segment', 'class', 'option_classes'];

async function trainStage(
  cfg: Record<string, unknown>,
  o: RecipeOptions,
): Promise<{ dir: string; history: Array<Record<string, number>> }> {
  const res = await train(cfg as Parameters<typeof train>[0], { progress: false, log: o.log });
  return { dir: res.outputDir, history: res.history };
}

/** Greedy held-out answers of a model, scored as CueBench scores them. */
async function evalModel(spec: CueSpec, model: string, data: string, held: Row[]): Promise<Record<string, number>> {
  const m = VideoAnswerer.load(model, data, spec.fps);
  const preds = new Map<string, string>();
  try {
    for (const [i, r] of held.entries()) {
      const p = await m.prepare(r, `held-out row ${i + 1}`);
      preds.set(r.id, m.answer(p, { samples: 1, temperature: 0, seed: 0, maxNewTokens: spec.max_new_tokens })[0]);
    }
  } finally {
    m.dispose();
  }
  const s = scoreCue(held as unknown as Parameters<typeof scoreCue>[0], preds);
  const ctx = Object.fromEntries(Object.entries(s.context_errors).map(([t, v]) => [`context_errors/${t}`, v]));
  return {
    ...s.tasks,
    average: s.average ?? Number.NaN,
    context_error_rate: s.context_error_rate ?? Number.NaN,
    ...ctx,
    held_rows: held.length,
  };
}

const tokens = (h: Array<Record<string, number>>, k: string) => {
  const v = lastValue(h, k);
  return Number.isFinite(v) ? v : 0;
};

interface SeedResult {
  runs: ArmRun[];
  histories: Record<string, Array<Record<string, number>>>;
}

interface Stage {
  spec: CueSpec;
  o: RecipeOptions;
  sd: string;
  data: string;
  common: Record<string, unknown>;
}

/** SFT on the multitask rows from the base. */
async function sftStage(st: Stage, base: string, rows: Row[]) {
  writeRows(
    join(st.data, 'sft.jsonl'),
    rows.map((r) => ({ prompt: r.prompt, completion: r.completion, videos: r.videos })),
  );
  const s = st.spec.sft;
  const cfg = {
    ...st.common,
    trainer: 'sft',
    model_name_or_path: base,
    train_dataset: join(st.data, 'sft.jsonl'),
    output_dir: join(st.sd, 'sft'),
    max_steps: s.steps,
    per_device_train_batch_size: s.batch_size,
    learning_rate: s.learning_rate,
    save_steps: s.steps + 1,
  };
  return trainStage(cfg, st.o);
}

/** GRPO from the SFT model with flat or hierarchical routed rewards (on data/grpo.jsonl). */
async function grpoStage(st: Stage, kind: 'flat' | 'hier', from: string) {
  const g = st.spec.grpo;
  const cfg = {
    ...st.common,
    trainer: 'grpo',
    model_name_or_path: from,
    train_dataset: join(st.data, 'grpo.jsonl'),
    output_dir: join(st.sd, `grpo_${kind}`),
    reward_routes: cueRoutes(kind, join(st.data, 'train', 'taxonomy.json'), st.spec.credits),
    ...grpoKeys(g, g.steps, st.spec.max_new_tokens),
  };
  return trainStage(cfg, st.o);
}

/** The SFT stage from the base, then both GRPO arms from it; each arm scored on the held-out rows. */
async function runSeed(spec: CueSpec, o: RecipeOptions, seed: number, dir: string): Promise<SeedResult> {
  const { log, base, sd, data } = await seedStart(o, seed, dir);
  const w = { world: 'anomaly', knobs: {}, size: spec.size };
  const rows = await worldRows({ ...w, n: spec.train, seed: seed + 1000 }, data, 'train');
  const held = await worldRows({ ...w, n: spec.held, seed: seed + 2000 }, data, 'held');
  const common = { overwrite_output_dir: true, logging_steps: 1, seed, threads: o.threads ?? null, report: false };
  // every stage keeps the vision tower fixed, as vlm-base trained it (trained, it collapses to a constant)
  const st: Stage = { spec, o, sd, data, common: { ...common, video_fps: spec.fps, freeze_vision_tower: true } };
  const runs: ArmRun[] = [{ arm: 'base', seed, metrics: await evalModel(spec, base, data, held) }];
  log(`pacer: cue seed ${seed}: sft on ${rows.length} rows`);
  const sft = await sftStage(st, base, rows);
  const sftTrained = tokens(sft.history, 'tokens/trained');
  const sftMetrics = { generated_tokens: 0, trained_tokens: sftTrained, train_rows: rows.length };
  runs.push({ arm: 'sft', seed, metrics: { ...(await evalModel(spec, sft.dir, data, held)), ...sftMetrics } });
  writeRows(join(data, 'grpo.jsonl'), uniformRows(rows, GRPO_COLUMNS));
  const histories: SeedResult['histories'] = {};
  for (const kind of ['flat', 'hier'] as const) {
    const arm = `grpo_${kind}`;
    log(`pacer: cue seed ${seed}: ${arm}`);
    const res = await grpoStage(st, kind, sft.dir);
    histories[arm] = res.history;
    const zs = res.history.filter((h) => 'frac_reward_zero_std' in h).map((h) => h.frac_reward_zero_std);
    const metrics = {
      ...(await evalModel(spec, res.dir, data, held)),
      generated_tokens: tokens(res.history, 'tokens/generated'),
      trained_tokens: sftTrained + tokens(res.history, 'tokens/trained'),
      frac_reward_zero_std: zs.length ? zs.reduce((a, x) => a + x, 0) / zs.length : Number.NaN,
      train_rows: rows.length,
    };
    runs.push({ arm, seed, metrics });
  }
  return { runs, histories };
}

const METRICS = [
  ...TASKS,
  'average',
  'context_error_rate',
  'generated_tokens',
  'trained_tokens',
  'frac_reward_zero_std',
  'train_rows',
];

function report(spec: CueSpec, summary: StudySummary, seeds: SeedResult[]): string {
  const h = seeds[0].histories;
  const plot = (key: string) => ({
    title: `${key}, seed ${summary.seeds[0]}`,
    series: Object.entries(h).flatMap(([arm, hist]) =>
      plotsFromMetrics(hist, [{ title: key, keys: [key] }]).flatMap((p) => p.series.map((s) => ({ ...s, name: arm }))),
    ),
  });
  return studyReport({
    title: 'Cue-R1 on the anomaly world',
    intro:
      'SFT, then GRPO with flat 0/1 rewards or hierarchical rewards routed by the task column, from vlm-base; ' +
      'task scores, their average and the context-error rate (anomaly ↔ normal twin) on held-out rows, percent.',
    summary,
    metrics: METRICS,
    plots: ['reward', 'frac_reward_zero_std'].map(plot).filter((p) => p.series.length),
    config: { spec: JSON.stringify(spec) },
  });
}

function run(o: RecipeOptions): Promise<RecipeResult> {
  const spec = cueSpec(o.smoke);
  return runSeedStudy(o, {
    recipe: 'cue',
    spec,
    seed: (seed, dir) => runSeed(spec, o, seed, dir),
    report: (summary, seeds) => report(spec, summary, seeds),
    headline: means,
  });
}

/** arm.metric → mean for the average and the context-error rate (the CLI's listing). */
const means = (s: StudySummary) => armMeans(s, ['average', 'context_error_rate']);

export const cue: Recipe = {
  name: 'cue',
  summary: 'the Cue-R1 study: SFT, then GRPO with flat or hierarchical rewards on the anomaly world',
  description: `From vlm-base, on the anomaly world (five tasks; 56×56, 2 fps): arms sft (SFT on the multitask
rows), grpo_flat (sft → GRPO, 0/1 rewards routed by the task column) and grpo_hier (hierarchical_label on
recognition and anticipation); per arm each task's held-out score, their average, the context-error rate
(anomaly ↔ normal twin), generated and trained tokens. Writes DIR/summary.json (mean and std over
--seeds) and DIR/report.html; DIR/seed-S keeps data and models.`,
  run,
};
