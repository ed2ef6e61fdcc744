// `pacer demo` (npm start): the whole loop on the project's arithmetic task, end to end on CPU.
//   1. data — problems at five levels (1-digit +, 2-digit +, 2-digit ±, 2-digit × 1-digit,
//      2-digit × 2-digit) in column form ("27+05=032"); SFT demonstrations cover levels 1–3 and come
//      from a sloppy teacher who forgets carries and borrows 60% of the time (src/tasks/arithmetic.ts,
//      teacherAnswer); multiplication (levels 4–5) is never demonstrated and appears only in the RL pool;
//   2. SFT — a tiny Llama trained from scratch on those demonstrations: it learns the arithmetic
//      and the teacher's mistake;
//   3. GRPO — from the SFT model with an exact-answer reward, twice on the same prompt pool (levels
//      2–5; level 1's 100 problems are all SFT material): with the uniform sampler and with a
//      curriculum (SEC by default: levels are bandit arms rewarded by mean |advantage|); held-out
//      accuracy is measured every eval_every steps;
//   4. DPO — from the SFT model on pairs of its own answers (a correct one chosen, a wrong one
//      rejected), sigmoid loss with TRL's rpo_alpha = 1 (plus the chosen answer's NLL: plain DPO
//      at this learning rate drifts — both answers' likelihoods fall — and loses accuracy);
//   5. runs/demo/summary.json and runs/demo/report.html.
// Held-out accuracy is exact-answer, greedy, on problems never trained on, at levels 2–3 (the levels
// a model this size can learn; levels 4–5 are in the pool as the too-hard part a curriculum should
// spend little on, and their accuracy is reported per level). steps_to_target: the uniform run's
// final accuracy (mean of its last five evaluations, which damps evaluation noise) is the target;
// each run's figure is the first evaluated step at or above it. tokens_to_target: the same point counted
// in generated tokens (the trainer's tokens/generated at that step: every completion token sampled,
// including groups that dynamic sampling dropped), since a curriculum that skips zero-variance groups
// saves rollouts rather than optimizer steps. --dynamic-sampling turns DAPO's dynamic sampling on.
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, setThreads, atomicWrite } from '../engine/index.js';
import { modelFromConfig, savePretrained, fromPretrained } from '../models/pretrained.js';
import type { CausalLM } from '../models/types.js';
import { Tokenizer } from '../tokenizers/index.js';
import { resolveConfig, train } from '../trainers/index.js';
import {
  makeProblems,
  teacherAnswer,
  writeTinyArithmeticModel,
  complete,
  isCorrect,
  rng,
  LEVEL_NAMES,
  type Problem,
} from '../tasks/arithmetic.js';
import { renderReport, htmlTable, type Plot } from '../report/html.js';
import type { GroundingSummary } from '../eval/grounding.js';
import {
  runVideoDemo,
  VIDEO_DEMO_DEFAULTS,
  VIDEO_DEMO_QUICK,
  type VideoDemoOptions,
  type VideoDemoSummary,
} from './demo-video.js';

export interface DemoOptions {
  out: string;
  seed: number;
  threads: number;
  progress: boolean;
  /** where the demo's narration goes (default: stdout) */
  log?: (s: string) => void;
  hidden: number;
  layers: number;
  sftExamples: number;
  sftSteps: number;
  sftBatchSize: number;
  slip: number;
  poolSize: number;
  testSize: number;
  stretchTestSize: number;
  grpoSteps: number;
  grpoLr: number;
  promptsPerStep: number;
  generations: number;
  evalEvery: number;
  curriculum: string;
  dynamicSampling: boolean;
  dpoSteps: number;
  dpoLr: number;
  dpoBeta: number;
  dpoRpoAlpha: number | null;
  /** The video stage (src/cli/demo-video.ts) after the text stages; null: none. */
  video: Omit<VideoDemoOptions, 'out' | 'seed' | 'threads' | 'progress' | 'log'> | null;
}

export const DEMO_DEFAULTS: Omit<DemoOptions, 'out' | 'seed' | 'threads' | 'progress' | 'log'> = {
  hidden: 96,
  layers: 3,
  sftExamples: 20000,
  sftSteps: 1500,
  sftBatchSize: 64,
  slip: 0.6,
  poolSize: 4000,
  testSize: 1000,
  stretchTestSize: 400,
  grpoSteps: 200,
  grpoLr: 5e-5,
  promptsPerStep: 4,
  generations: 8,
  evalEvery: 10,
  curriculum: 'sec',
  dynamicSampling: false,
  dpoSteps: 150,
  dpoLr: 5e-5,
  dpoBeta: 0.1,
  dpoRpoAlpha: 1,
  video: VIDEO_DEMO_DEFAULTS,
};

/** A tiny configuration for tests: the same code path in seconds (the numbers mean nothing). */
export const DEMO_QUICK: Partial<DemoOptions> = {
  hidden: 32,
  layers: 1,
  sftExamples: 400,
  sftSteps: 40,
  sftBatchSize: 16,
  poolSize: 200,
  testSize: 60,
  stretchTestSize: 20,
  grpoSteps: 6,
  evalEvery: 2,
  promptsPerStep: 2,
  generations: 4,
  dpoSteps: 4,
  video: { ...VIDEO_DEMO_DEFAULTS, ...VIDEO_DEMO_QUICK },
};

export interface DemoSummary {
  accuracy: { sft: number; grpo: number; grpo_uniform: number; dpo: number };
  steps_to_target: { curriculum: number | null; uniform: number | null; target: number; ratio: number | null };
  tokens_to_target: { curriculum: number | null; uniform: number | null; target: number; ratio: number | null };
  generated_tokens: { uniform: number; curriculum: number };
  eval_curves: { uniform: Array<[number, number]>; curriculum: Array<[number, number]> };
  [k: string]: unknown;
}

const HELD_OUT_LEVELS = [2, 3];
const STRETCH_LEVELS = [4, 5];
const SFT_LEVELS = [1, 2, 3];
// level 1 has only 100 distinct problems, all of them SFT material: the RL pool starts at level 2
const POOL_LEVELS = [2, 3, 4, 5];
const MAX_NEW = 6;

function greedy(model: CausalLM, tok: Tokenizer, problems: Problem[]): string[] {
  return complete(model, tok, problems, { batchSize: 256, maxNewTokens: MAX_NEW }).map((c) => c[0]);
}

function acc(problems: Problem[], answers: string[]): number {
  return problems.length ? problems.filter((p, i) => isCorrect(p, answers[i])).length / problems.length : 0;
}

function byLevel(problems: Problem[], answers: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const L of [...new Set(problems.map((p) => p.level))].sort()) {
    const ix = problems.map((_, i) => i).filter((i) => problems[i].level === L);
    out[String(L)] = round(
      acc(
        ix.map((i) => problems[i]),
        ix.map((i) => answers[i]),
      ),
    );
  }
  return out;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const jsonl = (file: string, rows: unknown[]) =>
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** The first evaluated step whose accuracy is at or above the target (null if none). */
export function stepsToTarget(curve: Array<[number, number]>, target: number): number | null {
  const hit = curve.find(([, a]) => a >= target - 1e-12);
  return hit ? hit[0] : null;
}

/**
 * The generated tokens spent when a curve first reaches the target: `tokens` is the run's history
 * (tokens/generated by step); null when the target is never reached or the step has no count.
 */
export function tokensToTarget(
  curve: Array<[number, number]>,
  target: number,
  history: Array<Record<string, number>>,
): number | null {
  const step = stepsToTarget(curve, target);
  if (step === null) return null;
  const rec = history.find((h) => h.step === step && typeof h['tokens/generated'] === 'number');
  return rec ? rec['tokens/generated'] : null;
}

/** The last tokens/generated a run logged. */
export function generatedTokens(history: Array<Record<string, number>>): number {
  const rec = [...history].reverse().find((h) => typeof h['tokens/generated'] === 'number');
  return rec ? rec['tokens/generated'] : 0;
}

/** The uniform run's final accuracy: the mean of its last k evaluations. */
export function finalAccuracy(curve: Array<[number, number]>, k = 5): number {
  const tail = curve.slice(-k);
  return tail.reduce((a, [, y]) => a + y, 0) / Math.max(1, tail.length);
}

export interface DemoData {
  heldOut: Problem[];
  stretch: Problem[];
  test: Problem[];
  pool: Problem[];
  files: { sft: string; pool: string; test: string; dpo: string };
}

type Say = (s: string) => void;
type History = Array<Record<string, number>>;

/** 1. data: held-out and stretch tests, the teacher's SFT demonstrations, the RL pool. */
export function demoData(o: DemoOptions, say: Say): DemoData {
  const heldOut = makeProblems(o.testSize, HELD_OUT_LEVELS, 10_000 + o.seed, new Set(), 'columns');
  const seen = new Set(heldOut.map((p) => p.prompt));
  const stretch = makeProblems(o.stretchTestSize, STRETCH_LEVELS, 11_000 + o.seed, seen, 'columns');
  const test = [...heldOut, ...stretch];
  const exclude = new Set(test.map((p) => p.prompt));
  const teacher = rng(o.seed + 77);
  const sftData = makeProblems(o.sftExamples, SFT_LEVELS, o.seed, exclude, 'columns');
  const pool = makeProblems(o.poolSize, POOL_LEVELS, 30_000 + o.seed, exclude, 'columns');
  const files = {
    sft: join(o.out, 'data/sft.jsonl'),
    pool: join(o.out, 'data/rl_prompts.jsonl'),
    test: join(o.out, 'data/test.jsonl'),
    dpo: join(o.out, 'data/dpo_pairs.jsonl'),
  };
  const sftRows = sftData.map((p) => ({
    prompt: p.prompt,
    completion: teacherAnswer(p, o.slip, teacher),
    level: p.level,
  }));
  const wrong = sftRows.filter((r, i) => r.completion !== sftData[i].target).length;
  const row = (p: Problem) => ({ prompt: p.prompt, answer: p.answer, level: p.level });
  jsonl(files.sft, sftRows);
  jsonl(files.pool, pool.map(row));
  jsonl(files.test, test.map(row));
  say(`pacer demo: arithmetic at 5 levels (${Object.values(LEVEL_NAMES).join(', ')}),`);
  say(`  seed ${o.seed}, ${o.threads} threads`);
  say(`  data in ${join(o.out, 'data')}: ${sftData.length} SFT demonstrations (levels 1-3) from a teacher`);
  say(
    `  who forgets carries and borrows ${Math.round(o.slip * 100)}% of the time (${wrong} of its answers are wrong),`,
  );
  say(
    `  ${pool.length} RL prompts, ${heldOut.length} held-out problems at levels 2-3 (+${stretch.length} at levels 4-5)`,
  );
  return { heldOut, stretch, test, pool, files };
}

/** 2. SFT from scratch on the demonstrations. */
export async function sftPhase(o: DemoOptions, d: DemoData, common: Record<string, unknown>, say: Say) {
  const base = join(o.out, 'base');
  const config = writeTinyArithmeticModel(base, { hidden: o.hidden, layers: o.layers, heads: 4, seed: o.seed });
  const init = modelFromConfig(config);
  const params = init.numParameters().toLocaleString();
  say(`\n[1/4] SFT: a ${params}-parameter Llama learns from the demonstrations (${o.sftSteps} steps)`);
  savePretrained({ model: init, config, modelType: 'llama' }, base);
  init.dispose();
  const raw = {
    trainer: 'sft',
    model_name_or_path: base,
    train_dataset: d.files.sft,
    output_dir: join(o.out, 'sft'),
    learning_rate: 3e-3,
    max_steps: o.sftSteps,
    lr_scheduler_type: 'cosine',
    warmup_steps: 20,
    weight_decay: 0.01,
    per_device_train_batch_size: o.sftBatchSize,
    logging_steps: Math.max(1, Math.floor(o.sftSteps / 60)),
    max_length: 32,
    ...common,
  };
  const run = await train(resolveConfig(raw, 'demo'), { progress: o.progress, log: () => {} });
  const tok = Tokenizer.fromPretrained(join(o.out, 'sft'));
  const model = fromPretrained(join(o.out, 'sft')).model;
  const answers = greedy(model, tok, d.test);
  const accuracy = acc(d.heldOut, answers.slice(0, d.heldOut.length));
  say(`  SFT held-out accuracy ${accuracy.toFixed(3)} (per level ${JSON.stringify(byLevel(d.test, answers))})`);
  return { run, tok, model, answers, accuracy };
}

/** 3. GRPO from the SFT model with a sampler; held-out accuracy every evalEvery steps. */
export async function grpoPhase(
  o: DemoOptions,
  d: DemoData,
  sampler: string,
  key: string,
  tok: Tokenizer,
  common: object,
) {
  const curve: Array<[number, number]> = [];
  const evaluate = (m: CausalLM, step: number) => {
    const a = acc(d.heldOut, greedy(m, tok, d.heldOut));
    curve.push([step, a]);
    return { accuracy: a };
  };
  const raw = {
    trainer: 'grpo',
    model_name_or_path: join(o.out, 'sft'),
    train_dataset: d.files.pool,
    output_dir: join(o.out, `grpo-${key}`),
    learning_rate: o.grpoLr,
    lr_scheduler_type: 'constant',
    warmup_steps: 0,
    max_steps: o.grpoSteps,
    num_generations: o.generations,
    per_device_train_batch_size: o.generations * o.promptsPerStep,
    max_completion_length: MAX_NEW,
    temperature: 1,
    loss_type: 'dapo',
    beta: 0,
    reward_funcs: 'accuracy',
    curriculum_sampler: sampler,
    dynamic_sampling: o.dynamicSampling,
    difficulty_column: 'level',
    eval_strategy: 'steps',
    eval_steps: o.evalEvery,
    logging_steps: 1,
    max_grad_norm: 1,
    ...common,
  };
  const run = await train(resolveConfig(raw, 'demo'), { progress: o.progress, log: () => {}, evaluate });
  return { run, curve };
}

/** Pairs of the SFT model's own answers: a correct one chosen, a wrong one rejected. */
function dpoPairs(o: DemoOptions, d: DemoData, model: CausalLM, tok: Tokenizer) {
  const mode = greedy(model, tok, d.pool);
  const samples = complete(model, tok, d.pool, {
    batchSize: 256,
    maxNewTokens: MAX_NEW,
    samples: 4,
    temperature: 1,
    seed: o.seed,
  });
  const pairs: Array<{ prompt: string; chosen: string; rejected: string; level: number }> = [];
  d.pool.forEach((p, i) => {
    // the greedy answer on whichever side it falls
    const g = mode[i];
    const good = isCorrect(p, g) ? g : samples[i].find((s) => isCorrect(p, s));
    const bad = !isCorrect(p, g) ? g : samples[i].find((s) => !isCorrect(p, s));
    if (good && bad?.trim()) pairs.push({ prompt: p.prompt, chosen: good, rejected: bad, level: p.level });
  });
  if (pairs.length === 0)
    throw new Error(
      'pacer demo: the SFT model produced no pair of a right and a wrong answer; train SFT longer (--sft-steps)',
    );
  return pairs;
}

/** 4. DPO from the SFT model on its own pairs. */
async function dpoPhase(o: DemoOptions, d: DemoData, pairs: unknown[], common: object, say: Say) {
  jsonl(d.files.dpo, pairs);
  say(`  ${pairs.length} pairs from ${d.pool.length} prompts (greedy + 4 samples each)`);
  const raw = {
    trainer: 'dpo',
    model_name_or_path: join(o.out, 'sft'),
    train_dataset: d.files.dpo,
    output_dir: join(o.out, 'dpo'),
    learning_rate: o.dpoLr,
    beta: o.dpoBeta,
    rpo_alpha: o.dpoRpoAlpha,
    max_steps: o.dpoSteps,
    per_device_train_batch_size: 16,
    logging_steps: Math.max(1, Math.floor(o.dpoSteps / 50)),
    max_length: 32,
    ...common,
  };
  return train(resolveConfig(raw, 'demo'), { progress: o.progress, log: () => {} });
}

/** Greedy answers of each trained model on the whole test set. */
function finalAnswers(o: DemoOptions, d: DemoData, tok: Tokenizer, sft: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = { sft };
  for (const [k, dir] of [
    ['grpo', 'grpo-curriculum'],
    ['grpo_uniform', 'grpo-uniform'],
    ['dpo', 'dpo'],
  ] as const) {
    const m = fromPretrained(join(o.out, dir)).model;
    out[k] = greedy(m, tok, d.test);
    m.dispose();
  }
  return out;
}

function demoSummary(
  o: DemoOptions,
  d: DemoData,
  answers: Record<string, string[]>,
  curves: { uniform: Array<[number, number]>; curriculum: Array<[number, number]> },
  extra: { accSft: number; pairs: number; seconds: Record<string, number>; histories: Record<string, History> },
): DemoSummary {
  const held = (k: string) => round(acc(d.heldOut, answers[k].slice(0, d.heldOut.length)));
  const target = round(finalAccuracy(curves.uniform));
  const sUni = stepsToTarget(curves.uniform, target);
  const sCur = stepsToTarget(curves.curriculum, target);
  const h = extra.histories;
  const tUni = tokensToTarget(curves.uniform, target, h.uniform);
  const tCur = tokensToTarget(curves.curriculum, target, h.curriculum);
  const rounded = (c: Array<[number, number]>) => c.map(([s, a]) => [s, round(a)] as [number, number]);
  return {
    accuracy: { sft: round(extra.accSft), grpo: held('grpo'), grpo_uniform: held('grpo_uniform'), dpo: held('dpo') },
    steps_to_target: {
      curriculum: sCur,
      uniform: sUni,
      target,
      ratio: sCur !== null && sUni ? round(sCur / sUni, 3) : null,
    },
    tokens_to_target: {
      curriculum: tCur,
      uniform: tUni,
      target,
      ratio: tCur !== null && tUni ? round(tCur / tUni, 3) : null,
    },
    generated_tokens: { uniform: generatedTokens(h.uniform), curriculum: generatedTokens(h.curriculum) },
    accuracy_by_level: Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, byLevel(d.test, a)])),
    eval_curves: { uniform: rounded(curves.uniform), curriculum: rounded(curves.curriculum) },
    definitions: {
      accuracy:
        `held-out exact-answer accuracy, greedy decoding, on ${d.heldOut.length} problems at levels 2-3 ` +
        'never trained on',
      steps_to_target:
        `first evaluated step (every ${o.evalEvery}) at or above the target: ` +
        "the uniform run's final accuracy, the mean of its last 5 evaluations",
      tokens_to_target: 'completion tokens generated (tokens/generated) up to the step steps_to_target names',
    },
    curriculum: o.curriculum,
    seed: o.seed,
    threads: o.threads,
    dpo_pairs: extra.pairs,
    config: { ...o, progress: undefined, log: undefined },
    seconds: extra.seconds,
  };
}

/** Config keys every run of the demo shares (each starts afresh in its folder). */
export function demoCommon(o: DemoOptions) {
  return { threads: o.threads, seed: o.seed, save_steps: 1_000_000, max_prompt_length: 16, overwrite_output_dir: true };
}

export async function runDemo(opts: Partial<DemoOptions> & { out: string }): Promise<DemoSummary> {
  const o: DemoOptions = { seed: 0, threads: 2, progress: true, ...DEMO_DEFAULTS, ...opts };
  const say = o.log ?? ((s: string) => console.log(s));
  const t0 = performance.now();
  const seconds: Record<string, number> = {};
  const lap = (k: string, since: number) => (seconds[k] = round((performance.now() - since) / 1000, 1));
  setThreads(o.threads);
  manualSeed(o.seed);
  mkdirSync(join(o.out, 'data'), { recursive: true });
  const d = demoData(o, say);
  const common = demoCommon(o);
  let t = performance.now();
  const sft = await sftPhase(o, d, common, say);
  lap('sft_s', t);
  const steps = `${o.grpoSteps} steps, ${o.promptsPerStep} prompts x ${o.generations} completions, exact-answer reward`;
  say(`\n[2/4] GRPO with the uniform sampler (${steps})`);
  t = performance.now();
  const uni = await grpoPhase(o, d, 'uniform', 'uniform', sft.tok, common);
  lap('grpo_uniform_s', t);
  say(`  held-out accuracy ${uni.curve[uni.curve.length - 1][1].toFixed(3)}`);
  say(`\n[3/4] GRPO with the ${o.curriculum} curriculum (same prompts, steps and seed)`);
  t = performance.now();
  const cur = await grpoPhase(o, d, o.curriculum, 'curriculum', sft.tok, common);
  lap('grpo_curriculum_s', t);
  say(`  held-out accuracy ${cur.curve[cur.curve.length - 1][1].toFixed(3)}`);
  say(`\n[4/4] DPO on pairs of the SFT model's own answers (${o.dpoSteps} steps)`);
  t = performance.now();
  const pairs = dpoPairs(o, d, sft.model, sft.tok);
  sft.model.dispose();
  const dpo = await dpoPhase(o, d, pairs, common, say);
  lap('dpo_s', t);
  const answers = finalAnswers(o, d, sft.tok, sft.answers);
  const video = o.video ? await videoStage(o, say) : null;
  if (video) seconds.video_s = video.seconds;
  seconds.total_s = round((performance.now() - t0) / 1000, 1);
  const curves = { uniform: uni.curve, curriculum: cur.curve };
  const histories = { sft: sft.run.history, uniform: uni.run.history, curriculum: cur.run.history, dpo: dpo.history };
  const extra = { accSft: sft.accuracy, pairs: pairs.length, seconds, histories };
  const summary = { ...demoSummary(o, d, answers, curves, extra), ...(video ? { video } : {}) };
  atomicWrite(join(o.out, 'summary.json'), (fd) => writeSync(fd, JSON.stringify(summary, null, 2) + '\n'));
  writeDemoReport(o, summary, histories, d.test, answers);
  tellResults(o, summary, say);
  return summary;
}

async function videoStage(o: DemoOptions, say: Say): Promise<VideoDemoSummary> {
  const v = o.video!;
  say(`\n[video] temporal grounding GRPO from the tiny video-language base (${v.steps} steps, tIoU reward)`);
  return runVideoDemo({ ...v, out: o.out, seed: o.seed, threads: o.threads, progress: o.progress, log: say });
}

function tellResults(o: DemoOptions, s: DemoSummary, say: Say): void {
  const a = s.accuracy;
  const t = s.steps_to_target;
  say(`\nheld-out accuracy (levels 2-3): SFT ${a.sft.toFixed(3)} -> GRPO+${o.curriculum} ${a.grpo.toFixed(3)}`);
  say(`  (uniform ${a.grpo_uniform.toFixed(3)}), DPO ${a.dpo.toFixed(3)}`);
  const reached = (x: number | null) => x ?? 'not reached';
  say(`steps to reach ${t.target.toFixed(3)} (the uniform run's final accuracy):`);
  say(`  ${o.curriculum} ${reached(t.curriculum)}, uniform ${reached(t.uniform)}`);
  const k = s.tokens_to_target;
  say(`  in generated tokens: ${o.curriculum} ${reached(k.curriculum)}, uniform ${reached(k.uniform)}`);
  const v = s.video as VideoDemoSummary | undefined;
  if (v) {
    const g = (x: GroundingSummary) => `mIoU ${x.mIoU.toFixed(1)}, R@0.5 ${x['R@0.5'].toFixed(1)}`;
    say(`video grounding (held-out): before ${g(v.before)} -> after GRPO ${g(v.after)}`);
    say(`  video report: ${join(o.out, 'video', 'report.html')}`);
  }
  say(`report: ${join(o.out, 'report.html')}   summary: ${join(o.out, 'summary.json')}`);
  say(`  (${(s.seconds as Record<string, number>).total_s} s)`);
}

function videoSection(v: VideoDemoSummary | undefined): Array<{ title: string; html: string }> {
  if (!v) return [];
  const row = (k: 'before' | 'after') => [k, v[k].mIoU.toFixed(1), v[k]['R@0.5'].toFixed(1), v[k].unparsed];
  const table = htmlTable(['held-out grounding (%)', 'mIoU', 'R@0.5', 'unparsed'], [row('before'), row('after')]);
  const link = '<p><a href="video/report.html">video/report.html</a>: test videos, segments, reward curve</p>';
  return [{ title: `Video: temporal grounding GRPO (${v.steps} steps)`, html: table + link }];
}

function writeDemoReport(
  o: DemoOptions,
  s: DemoSummary,
  h: Record<string, History>,
  test: Problem[],
  answers: Record<string, string[]>,
): void {
  const series = (hist: Array<Record<string, number>>, key: string, name = key) => ({
    name,
    points: hist.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key]] as [number, number]),
  });
  const flat = (name: string, y: number, x1: number) => ({
    name,
    points: [
      [0, y],
      [x1, y],
    ] as Array<[number, number]>,
  });
  const levels = ['1', '2', '3', '4', '5'];
  const plots: Plot[] = [
    {
      title: 'Held-out accuracy (levels 2-3) during GRPO',
      series: [
        { name: 'uniform', points: s.eval_curves.uniform },
        { name: o.curriculum, points: s.eval_curves.curriculum },
        flat('SFT start', s.accuracy.sft, o.grpoSteps),
        flat('target', s.steps_to_target.target, o.grpoSteps),
      ],
    },
    {
      title: 'GRPO reward (sampled completions)',
      series: [series(h.uniform, 'reward', 'uniform'), series(h.curriculum, 'reward', o.curriculum)],
    },
    {
      title: 'Groups with zero reward spread (no learning signal)',
      series: [
        series(h.uniform, 'frac_reward_zero_std', 'uniform'),
        series(h.curriculum, 'frac_reward_zero_std', o.curriculum),
      ],
    },
    {
      title: `Curriculum (${o.curriculum}): probability of each level`,
      series: levels.map((l) => series(h.curriculum, `curriculum/p/${l}`, `level ${l}`)).filter((x) => x.points.length),
    },
    { title: 'SFT loss', series: [series(h.sft, 'loss')] },
    { title: 'DPO loss and reward margin', series: [series(h.dpo, 'loss'), series(h.dpo, 'rewards/margins')] },
  ].filter((p) => p.series.some((x) => x.points.length));
  const models = ['sft', 'grpo', 'grpo_uniform', 'dpo'];
  const names: Record<string, string> = {
    sft: 'SFT',
    grpo: `GRPO + ${o.curriculum}`,
    grpo_uniform: 'GRPO uniform',
    dpo: 'DPO',
  };
  const byLevel = s.accuracy_by_level as Record<string, Record<string, number>>;
  const accTable = htmlTable(
    ['model', 'held-out (levels 2-3)', ...Object.keys(byLevel.sft).map((l) => `level ${l}: ${LEVEL_NAMES[Number(l)]}`)],
    models.map((m) => [names[m], (s.accuracy as Record<string, number>)[m], ...Object.values(byLevel[m])]),
  );
  const pick = test.filter((p) => p.level <= 3).slice(0, 12);
  const sampleTable = htmlTable(
    ['problem', 'answer', ...models.map((m) => names[m])],
    pick.map((p) => {
      const i = test.indexOf(p);
      return [
        p.prompt,
        p.target,
        ...models.map((m) => `${answers[m][i].trim()} ${isCorrect(p, answers[m][i]) ? '✓' : '✗'}`),
      ];
    }),
  );
  const html = renderReport({
    title: 'pacer demo — SFT, GRPO with a curriculum, and DPO on arithmetic',
    intro:
      'A tiny Llama learns column arithmetic from a teacher who forgets carries and borrows 60% of the time, ' +
      'then improves with GRPO (exact-answer reward; uniform sampling vs a curriculum over the five levels) ' +
      'and with DPO on its own answers. Accuracy is greedy and exact on held-out problems.',
    summary: {
      'accuracy.sft': s.accuracy.sft,
      'accuracy.grpo': s.accuracy.grpo,
      'accuracy.grpo_uniform': s.accuracy.grpo_uniform,
      'accuracy.dpo': s.accuracy.dpo,
      'steps_to_target.curriculum': s.steps_to_target.curriculum,
      'steps_to_target.uniform': s.steps_to_target.uniform,
      'steps_to_target.target': s.steps_to_target.target,
      'tokens_to_target.curriculum': s.tokens_to_target.curriculum,
      'tokens_to_target.uniform': s.tokens_to_target.uniform,
      ...(s.definitions as Record<string, string>),
      seconds: s.seconds,
    },
    sections: [
      { title: 'Accuracy by level', html: accTable },
      { title: 'Sample answers (held-out)', html: sampleTable },
      ...videoSection(s.video as VideoDemoSummary | undefined),
    ],
    config: { ...o, progress: undefined, log: undefined },
    plots,
  });
  atomicWrite(join(o.out, 'report.html'), (fd) => writeSync(fd, html));
}
