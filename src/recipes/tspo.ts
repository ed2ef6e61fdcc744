import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Generator, loadSafetensors } from '../engine/index.js';
import { htmlTable, renderReport } from '../report/html.js';
import { agentChoice, type FeatureItem, featureItems, scoreChoices } from '../trainers/tspo.js';
import { train } from '../trainers/train.js';
import { makeAnswerer, readVideoQuestions } from '../video/answerers.js';
import '../video/vlm-answerer.js'; // registers the vlm answerer
import { FeatureCache, fitPooledEncoder } from '../video/frame-features.js';
import { HistogramEncoder } from '../video/histogram-encoder.js';
import { TemporalAgent, uniformProposals } from '../video/sampler-agent.js';
import { makeDataset } from '../video/worlds/make.js';
import { atomicWrite } from '../util/atomic.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';
import { type ArmRun, meanStd, reusableSummary, studyDir, summarizeArms, writeSummary } from './study.js';

export interface OracleSpec {
  name: string;
  min: number;
}

/** The study's settings (bench/tspo_study.mjs overrides some). */
export interface TspoStudySpec {
  k: number;
  knobs: Record<string, string>;
  width: number;
  nWarm: number;
  nTrain: number;
  nEval: number;
  steps: number;
  lr: number;
  batch: number;
  generations: number;
  heads: number;
  window: number;
  tauStart: number;
  tauEnd: number;
  temporalWeight: number;
  answererA: OracleSpec;
  answererB: OracleSpec;
  /** The colour-histogram encoder: bins per channel, word buckets, width, contrastive warm-up steps. */
  encoder: { bins: number; vocab: number; dim: number; warmSteps: number };
  /** A Qwen2(.5)-VL folder: adds arms answered by it (the vlm answerer): uniform_vlm, feature_vlm, tspo_a_on_vlm. */
  vlmModel: string | null;
}

export function tspoStudySpec(smoke: boolean, over: Partial<TspoStudySpec> = {}): TspoStudySpec {
  const k = over.k ?? (smoke ? 4 : 16);
  return {
    k,
    knobs: smoke
      ? { 'distractor-clips': '6', 'clip-frames': '4', repeats: '1-2' }
      : { 'distractor-clips': '12', 'clip-frames': '16', repeats: '1-4' },
    width: 32,
    nWarm: smoke ? 100 : 300,
    nTrain: smoke ? 16 : 200,
    nEval: smoke ? 16 : 100,
    steps: smoke ? 30 : 300,
    lr: 3e-3,
    batch: 4,
    generations: 8,
    heads: 4,
    window: 12,
    tauStart: 0.2,
    tauEnd: 0.1,
    temporalWeight: 1,
    answererA: { name: 'needle_oracle', min: Math.max(1, k / 4) },
    answererB: { name: 'event_oracle', min: Math.max(1, k / 8) },
    encoder: { bins: 4, vocab: 64, dim: 32, warmSteps: 400 },
    vlmModel: null,
    ...over,
  };
}

/** A seeded k-subset of 0..T−1 (mulberry32 + Fisher–Yates), sorted. */
export function randomK(T: number, k: number, seed: number): number[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: T }, (_, i) => i);
  for (let i = T - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p.slice(0, Math.min(k, T)).sort((x, y) => x - y);
}

/** The k frames most similar to the question (cos(f_t, q), ties to the earlier frame), sorted. */
export function featureTopK(x: Pick<FeatureItem, 'f' | 'q'>, k: number): number[] {
  const f = x.f.toArray() as number[];
  const q = x.q.toArray() as number[];
  const D = q.length;
  const T = f.length / D;
  const qn = Math.hypot(...q);
  const cos = Array.from({ length: T }, (_, t) => {
    const row = f.slice(t * D, (t + 1) * D);
    return row.reduce((s, v, j) => s + v * q[j], 0) / (Math.hypot(...row) * qn || 1);
  });
  const order = cos.map((c, t) => [c, t] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return order
    .slice(0, Math.min(k, T))
    .map((p) => p[1])
    .sort((a, b) => a - b);
}

/** The seed's data (warm-up, train, eval) and its warmed-up colour-histogram encoder (dir/enc). */
async function makeWorld(dir: string, seed: number, S: TspoStudySpec): Promise<void> {
  const make = (name: string, n: number, s: number) =>
    makeDataset({
      world: 'needle',
      n,
      seed: s,
      out: join(dir, name),
      framesOnly: true,
      width: S.width,
      knobs: S.knobs,
    });
  await make('warm', S.nWarm, 1000 + seed);
  await make('train', S.nTrain, 2000 + seed);
  await make('eval', S.nEval, 3000 + seed);
  const E = S.encoder;
  const enc = new HistogramEncoder(E.bins, E.vocab, E.dim, seed);
  const pairs = readVideoQuestions(join(dir, 'warm', 'data.jsonl')).map((q) => ({
    video: q.video,
    text: q.question,
    frames: (q.needleMask ?? []).flatMap((m, i) => (m ? [i] : [])),
  }));
  await fitPooledEncoder(enc, pairs, { steps: E.warmSteps, batchSize: 16, lr: 3e-3, seed, perPair: 4 });
  enc.save(join(dir, 'enc'));
  enc.dispose();
}

/** Train an agent with one answerer; returns the seconds it took. */
async function trainAgent(
  dir: string,
  seed: number,
  S: TspoStudySpec,
  ans: OracleSpec,
  name: string,
  threads?: number,
) {
  const t0 = Date.now();
  await train(
    {
      trainer: 'tspo',
      train_dataset: join(dir, 'train', 'data.jsonl'),
      frame_encoder: join(dir, 'enc'),
      feature_cache_dir: join(dir, 'features'),
      output_dir: join(dir, name),
      overwrite_output_dir: true,
      num_frames: S.k,
      num_generations: S.generations,
      per_device_train_batch_size: S.batch,
      agent_heads: S.heads,
      agent_window: S.window,
      tau_start: S.tauStart,
      tau_end: S.tauEnd,
      temporal_reward_weight: S.temporalWeight,
      learning_rate: S.lr,
      max_steps: S.steps,
      logging_steps: Math.max(1, Math.floor(S.steps / 10)),
      save_steps: 1_000_000,
      answerer: ans.name,
      answerer_min_frames: ans.min,
      threads: threads ?? null,
      report: false,
      seed,
    },
    { progress: false, log: () => {} },
  );
  return (Date.now() - t0) / 1000;
}

/** L2 distance between a saved agent's weights and the initialisation its run started from (same seed). */
function weightChange(agentDir: string, dim: number, S: TspoStudySpec, seed: number): number {
  const init = new TemporalAgent({ dim, heads: S.heads, window: S.window }, { generator: new Generator(seed) });
  const saved = loadSafetensors(join(agentDir, 'model.safetensors'));
  let ss = 0;
  const own = init.stateDict();
  if (!own.size) throw new Error('pacer: the agent has no weights to compare');
  for (const [name, t] of own) {
    const a = t.toArray() as number[];
    const b = saved.get(name)?.toArray() as number[] | undefined;
    if (!b) throw new Error(`pacer: ${agentDir}: the saved agent lacks ${name}`);
    for (let i = 0; i < a.length; i++) ss += (a[i] - b[i]) ** 2;
  }
  for (const t of saved.values()) t.dispose();
  init.dispose();
  return Math.sqrt(ss);
}

type Choose = (x: FeatureItem) => number[];

/** The arms answered by a video LLM (the vlm answerer on S.vlmModel). */
async function vlmArms(items: FeatureItem[], S: TspoStudySpec, c: { uniform: Choose; feature: Choose; tspoA: Choose }) {
  const vlm = makeAnswerer('vlm', { model: S.vlmModel as string });
  try {
    return {
      uniform_vlm: await scoreChoices(items, c.uniform, vlm),
      feature_vlm: await scoreChoices(items, c.feature, vlm),
      tspo_a_on_vlm: await scoreChoices(items, c.tspoA, vlm),
    };
  } finally {
    vlm.dispose?.();
  }
}

export interface SeedResult {
  arms: Record<string, { accuracy: number; hit_rate: number }>;
  trainSeconds: { a: number; b: number };
  weightChange: { a: number; b: number };
}

/** Every arm of one seed (data, encoder, both agents) under dir. */
export async function tspoStudySeed(
  dir: string,
  seed: number,
  S: TspoStudySpec,
  o: { threads?: number; log?: (s: string) => void } = {},
): Promise<SeedResult> {
  rmSync(dir, { recursive: true, force: true });
  await makeWorld(dir, seed, S);
  o.log?.(`pacer: tspo: seed ${seed}: training the agents`);
  const a = await trainAgent(dir, seed, S, S.answererA, 'agent-a', o.threads);
  const b = await trainAgent(dir, seed, S, S.answererB, 'agent-b', o.threads);
  const cache = new FeatureCache(join(dir, 'features'));
  const { items, owned, dim } = await featureItems(
    readVideoQuestions(join(dir, 'eval', 'data.jsonl')),
    join(dir, 'enc'),
    cache,
  );
  const ansA = makeAnswerer(S.answererA.name, { min_frames: S.answererA.min });
  const ansB = makeAnswerer(S.answererB.name, { min_frames: S.answererB.min });
  const agentA = TemporalAgent.load(join(dir, 'agent-a')).agent;
  const agentB = TemporalAgent.load(join(dir, 'agent-b')).agent;
  try {
    const uniform = (x: FeatureItem) => uniformProposals(x.f.shape[0] - 1, S.k);
    const feature = (x: FeatureItem) => featureTopK(x, S.k);
    const tspoA = (x: FeatureItem) => agentChoice(agentA, x, S.k, 'topk');
    const arms: Record<string, { accuracy: number; hit_rate: number }> = {
      uniform: await scoreChoices(items, uniform, ansA),
      random: await scoreChoices(items, (x, i) => randomK(x.f.shape[0], S.k, seed * 7919 + i), ansA),
      feature: await scoreChoices(items, feature, ansA),
      tspo: await scoreChoices(items, tspoA, ansA),
      bin_max: await scoreChoices(items, (x) => agentChoice(agentA, x, S.k, 'bin-max'), ansA),
      uniform_b: await scoreChoices(items, uniform, ansB),
      feature_b: await scoreChoices(items, feature, ansB),
      tspo_a_on_b: await scoreChoices(items, tspoA, ansB),
      tspo_b_on_b: await scoreChoices(items, (x) => agentChoice(agentB, x, S.k, 'topk'), ansB),
    };
    if (S.vlmModel) Object.assign(arms, await vlmArms(items, S, { uniform, feature, tspoA }));
    const pick = Object.fromEntries(
      Object.entries(arms).map(([k, v]) => [k, { accuracy: v.accuracy, hit_rate: v.hit_rate }]),
    );
    return {
      arms: pick,
      trainSeconds: { a, b },
      weightChange: {
        a: weightChange(join(dir, 'agent-a'), dim, S, seed),
        b: weightChange(join(dir, 'agent-b'), dim, S, seed),
      },
    };
  } finally {
    agentA.dispose();
    agentB.dispose();
    cache.clear();
    for (const q of owned) q.dispose();
  }
}

/** The share of the B-trained agent's gain over uniform (answered by B) that the A-trained agent keeps. */
export function transferKept(acc: { uniform_b: number; tspo_a_on_b: number; tspo_b_on_b: number }): number {
  const gain = acc.tspo_b_on_b - acc.uniform_b;
  return gain > 0 ? (acc.tspo_a_on_b - acc.uniform_b) / gain : Number.NaN;
}

const ARM_TITLES: Record<string, string> = {
  uniform: 'uniform-k (A)',
  random: 'random-k (A)',
  feature: 'feature top-k, similarity only (A)',
  tspo: 'TSPO top-k (A)',
  bin_max: 'TSPO bin-max (A)',
  uniform_b: 'uniform-k (B)',
  feature_b: 'feature top-k (B)',
  tspo_a_on_b: 'TSPO trained with A, answered by B',
  tspo_b_on_b: 'TSPO trained with B, answered by B',
  uniform_vlm: 'uniform-k (video LLM)',
  feature_vlm: 'feature top-k (video LLM)',
  tspo_a_on_vlm: 'TSPO trained with A, answered by the video LLM',
};

/** Run every seed and write summary.json and report.html under `out`; returns the summary. */
export async function runTspoStudy(
  out: string,
  seeds: number[],
  S: TspoStudySpec,
  o: { smoke: boolean; threads?: number; log?: (s: string) => void },
) {
  const runs: ArmRun[] = [];
  const perSeed: Array<SeedResult & { seed: number }> = [];
  for (const seed of seeds) {
    o.log?.(`pacer: tspo: seed ${seed}: making the needle world`);
    const r = await tspoStudySeed(join(out, `seed-${seed}`), seed, S, o);
    perSeed.push({ seed, ...r });
    for (const [arm, m] of Object.entries(r.arms)) runs.push({ arm, seed, metrics: m });
  }
  const summary = summarizeArms('tspo', seeds, runs);
  const mean = (arm: string) => summary.arms[arm].accuracy.mean;
  const full = {
    ...summary,
    smoke: o.smoke,
    spec: S,
    transfer: {
      kept: transferKept({
        uniform_b: mean('uniform_b'),
        tspo_a_on_b: mean('tspo_a_on_b'),
        tspo_b_on_b: mean('tspo_b_on_b'),
      }),
      kept_per_seed: meanStd(perSeed.map((p) => transferKept(p.arms as any))),
    },
    per_seed: perSeed.map((p) => ({ seed: p.seed, train_seconds: p.trainSeconds, weight_change: p.weightChange })),
  };
  mkdirSync(out, { recursive: true });
  writeSummary(join(out, 'summary.json'), full);
  writeReport(join(out, 'report.html'), full);
  return full;
}

function writeReport(file: string, s: ReturnType<typeof summarizeArms> & Record<string, any>): void {
  const cell = (m: { mean: number; std: number } | undefined) =>
    m && Number.isFinite(m.mean) ? `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}` : null;
  const rows = Object.entries(s.arms).map(([arm, m]) => [ARM_TITLES[arm] ?? arm, cell(m.accuracy), cell(m.hit_rate)]);
  const kept = s.transfer.kept;
  const html = renderReport({
    title: `TSPO study on the needle world${s.smoke ? ' (smoke)' : ''}`,
    intro:
      `Seeds ${s.seeds.join(', ')}; k = ${s.spec.k}; answerer A = ${s.spec.answererA.name} ` +
      `(m = ${s.spec.answererA.min}), B = ${s.spec.answererB.name} (m = ${s.spec.answererB.min}). ` +
      'Mean ± sample std over seeds. Targets (issue 14): TSPO hit-rate ≥ 0.7; accuracy ≥ uniform + 0.15 and ' +
      '≥ feature top-k + 0.05; ≥ 70% of the gain kept in transfer.',
    summary: {
      transfer_kept: Number.isFinite(kept) ? kept : null,
      tspo_minus_uniform: s.arms.tspo.accuracy.mean - s.arms.uniform.accuracy.mean,
      tspo_minus_feature: s.arms.tspo.accuracy.mean - s.arms.feature.accuracy.mean,
    },
    config: { ...s.spec, knobs: JSON.stringify(s.spec.knobs), encoder: JSON.stringify(s.spec.encoder) },
    plots: [],
    sections: [{ title: 'Arms', html: htmlTable(['arm', 'accuracy', 'needle hit-rate'], rows) }],
  });
  atomicWrite(file, (fd) => writeFileSync(fd, html));
}

/** The recipe's metrics (means over seeds) from a summary. */
function headline(s: { arms: Record<string, Record<string, { mean: number }>>; transfer: { kept: number } }) {
  const metrics: Record<string, number> = {};
  for (const arm of ['uniform', 'random', 'feature', 'tspo', 'bin_max'])
    for (const m of ['accuracy', 'hit_rate']) metrics[`${arm}_${m}`] = s.arms[arm][m].mean;
  metrics.transfer_kept = s.transfer.kept;
  return metrics;
}

/** The cache folder of a configuration and seeds (PACER_CACHE or ~/.cache/pacer, recipes/tspo/<key>). */
export function tspoDir(spec: TspoStudySpec, seeds: number[]): string {
  return studyDir('tspo', spec, seeds);
}

async function run(o: RecipeOptions): Promise<RecipeResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const S = tspoStudySpec(o.smoke);
  const out = resolve(o.out ?? tspoDir(S, o.seeds));
  const file = join(out, 'summary.json');
  const old = o.force ? null : reusableSummary(file, S, o.seeds);
  if (old) {
    log(`pacer: tspo: reusing ${out}`);
    return { dir: out, cached: true, metrics: headline(old as unknown as Parameters<typeof headline>[0]) };
  }
  const s = await runTspoStudy(out, o.seeds, S, { smoke: o.smoke, threads: o.threads, log });
  return { dir: out, cached: false, metrics: headline(s) };
}

export const tspoRecipe: Recipe = {
  name: 'tspo',
  summary: 'the TSPO study: a learned frame sampler against uniform, random and feature top-k (needle world)',
  description: `Per seed: needle-world videos (208–256 frames at 1 fps), a colour-histogram frame encoder warmed
up CLIP-style, and two TSPO agents (trainer: tspo, G = 8, k = 16), one trained with answerer A
(needle_oracle) and one with B (event_oracle). Held-out accuracy and needle hit-rate of uniform-k, random-k,
feature top-k, TSPO top-k and bin-max (answered by A), and the transfer arms (answered by B). Writes
DIR/summary.json (arms.<arm>.{accuracy,hit_rate}.{mean,std,values} over --seeds, transfer.kept) and
DIR/report.html; DIR defaults to a cache folder keyed by the configuration and seeds (reused unless --force).`,
  run,
};
