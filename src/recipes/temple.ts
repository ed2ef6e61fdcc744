import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { noGrad, scope } from '../engine/index.js';
import { fromPretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { scoreCompletions } from '../models/scoring.js';
import { loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import { Qwen2VLForConditionalGeneration } from '../models/qwen2_vl/model.js';
import { Tokenizer } from '../tokenizers/index.js';
import { visionPrompt } from '../data/media.js';
import { rng } from '../data/random.js';
import { makeDataset } from '../video/worlds/make.js';
import { htmlTable, renderReport } from '../report/html.js';
import { scoreVinoground, type VinoScores, vinogroundSummary } from '../eval/vinoground.js';
import { train } from '../trainers/train.js';
import { makeTemplePairs } from '../tasks/temple.js';
import { atomicWrite } from '../util/atomic.js';
import type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';
import {
  armMeans,
  reusableSummary,
  studyDir,
  type StudySummary,
  summarizeArms,
  type ArmRun,
  writeSummary,
} from './study.js';
import { vlmBase } from './vlm-base.js';

/** The study's configuration (hashed with the seeds into the cache key); edit here to rerun at other sizes. */
export function templeSpec(smoke: boolean) {
  return {
    size: 56,
    video_fps: 2,
    shots: 8,
    pair_videos: smoke ? 2 : 120,
    sft_items: { temporal: smoke ? 3 : 300, vinoground: smoke ? 2 : 100 },
    /** Held-out items: temporal ones per dimension (order, attribute_change), vinoground pairs. */
    eval_items: { temporal: smoke ? 2 : 60, vinoground: smoke ? 2 : 50 },
    magnitudes: [16, 8, 4, 2],
    types: ['drop', 'shuffle', 'reverse'] as Array<'drop' | 'shuffle' | 'reverse'>,
    narration: { temperature: 0.7, repetition_penalty: 1.05, max_new_tokens: smoke ? 16 : 120 },
    dpo: {
      beta: 0.1,
      rpo_alpha: 1.0,
      loss_type: 'sigmoid',
      learning_rate: 5e-4,
      batch_size: smoke ? 2 : 8,
      lora_r: 8,
      lora_alpha: 16,
      epochs: 1,
    },
    sft: { learning_rate: 1e-3, batch_size: smoke ? 2 : 8, steps: smoke ? 2 : 200, lora_r: 8, lora_alpha: 8 },
    answer_tokens: smoke ? 4 : 24,
  };
}
export type TempleSpec = ReturnType<typeof templeSpec>;

export const TEMPLE_ARMS = ['sft', 'sft_dpo_mixed', 'temple', 'dpo_mixed_sft', 'reversed_sft'] as const;
type Arm = (typeof TEMPLE_ARMS)[number];

type Row = Record<string, any>;
const jsonl = (rows: Row[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
const readRows = (f: string): Row[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const userVideo = (text: string) => [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text }] }];
const reply = (text: string) => [{ role: 'assistant', content: [{ type: 'text', text }] }];

async function world(name: string, n: number, seed: number, out: string, spec: TempleSpec, knobs = {}) {
  await makeDataset({ world: name, n, seed, out, framesOnly: true, knobs, width: spec.size });
  return readRows(join(out, 'data.jsonl'));
}

/** The seed's worlds under dir/data: shots (pairs), SFT rows, held-out temporal and vinoground rows. */
async function makeData(spec: TempleSpec, seed: number, dir: string) {
  const d = join(dir, 'data');
  const rel = (sub: string, r: Row) => (r.videos as string[]).map((v) => `${sub}/${v}`);
  await world('shots', spec.pair_videos, seed, join(d, 'shots'), spec, { shots: String(spec.shots) });
  const sft: Row[] = [];
  for (const r of await world('temporal', spec.sft_items.temporal, seed, join(d, 'temporal'), spec))
    sft.push({ prompt: r.prompt, completion: r.completion, videos: rel('temporal', r) });
  for (const r of await world('vinoground', spec.sft_items.vinoground, seed, join(d, 'vinoground'), spec)) {
    sft.push({ prompt: r.prompt, completion: r.completion, videos: rel('vinoground', r) });
    sft.push({ prompt: userVideo('Describe the video.'), completion: reply(r.caption), videos: rel('vinoground', r) });
  }
  const shuffled = rng(seed + 17);
  for (let i = sft.length - 1; i > 0; i--) {
    const j = Math.floor(shuffled() * (i + 1));
    [sft[i], sft[j]] = [sft[j], sft[i]];
  }
  writeFileSync(join(d, 'sft.jsonl'), jsonl(sft));
  const heldSeed = seed + 7919;
  const temporal: Row[] = [];
  for (const dim of ['order', 'attribute_change']) {
    const rows = await world('temporal', spec.eval_items.temporal, heldSeed, join(d, `held-${dim}`), spec, {
      dimension: dim,
    });
    temporal.push(...rows.map((r) => ({ ...r, videos: rel(`held-${dim}`, r) })));
  }
  const vino = (await world('vinoground', spec.eval_items.vinoground, heldSeed, join(d, 'held-vino'), spec)).map(
    (r) => ({ ...r, videos: rel('held-vino', r) }),
  );
  return { shots: join(d, 'shots', 'data.jsonl'), sft: join(d, 'sft.jsonl'), temporal, vino, dataDir: d };
}

/** One data file with every magnitude's pairs, shuffled (the mixed-magnitude arms). */
function mixPairs(files: Record<number, string>, out: string, seed: number): number {
  const rows = Object.values(files).flatMap(readRows);
  const u = rng(seed + 31);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  writeFileSync(out, jsonl(rows));
  return rows.length;
}

interface Ctx {
  spec: TempleSpec;
  seed: number;
  threads?: number;
  log: (s: string) => void;
  progress: boolean;
}

function common(c: Ctx, model: string, data: string, out: string) {
  return {
    model_name_or_path: model,
    train_dataset: data,
    output_dir: out,
    overwrite_output_dir: true,
    use_peft: true,
    lora_dropout: 0,
    seed: c.seed,
    threads: c.threads ?? null,
    video_fps: c.spec.video_fps,
    max_length: 2048,
    max_prompt_length: 1536,
    logging_steps: 1,
    save_steps: 100000,
    report: false,
  };
}

/** DPO over the given pair files in order (stages when more than one); returns the merged model folder. */
async function dpo(c: Ctx, model: string, files: string[], out: string) {
  const s = c.spec.dpo;
  const nonEmpty = files.filter((f) => readFileSync(f, 'utf8').trim());
  if (!nonEmpty.length) {
    c.log(`pacer: temple: no pairs survived the filters for ${out}; DPO skipped`);
    return { model, steps: 0, stages: [] as Array<{ pairs: string; steps: number; reward_accuracy: number }> };
  }
  const cfg = {
    ...common(c, model, nonEmpty[0], out),
    trainer: 'dpo' as const,
    beta: s.beta,
    rpo_alpha: s.rpo_alpha,
    loss_type: [s.loss_type],
    learning_rate: s.learning_rate,
    per_device_train_batch_size: s.batch_size,
    num_train_epochs: s.epochs,
    lora_r: s.lora_r,
    lora_alpha: s.lora_alpha,
    ...(nonEmpty.length > 1 ? { stages: nonEmpty.map((f) => ({ train_dataset: f })) } : {}),
  };
  const res = await train(cfg, { progress: c.progress, log: c.log });
  const runs = res.stages ?? [res];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const stages = runs.map((r, i) => ({
    pairs: basename(nonEmpty[i]),
    steps: r.globalStep,
    reward_accuracy: 100 * mean(r.history.map((h) => h['rewards/accuracies']).filter((x) => Number.isFinite(x))),
  }));
  const steps = runs.reduce((a, r) => a + r.globalStep, 0);
  return { model: join(runs[runs.length - 1].outputDir, 'merged'), steps, stages };
}

async function sft(c: Ctx, model: string, data: string, out: string): Promise<string> {
  const s = c.spec.sft;
  await train(
    {
      ...common(c, model, data, out),
      trainer: 'sft',
      learning_rate: s.learning_rate,
      per_device_train_batch_size: s.batch_size,
      max_steps: s.steps,
      lora_r: s.lora_r,
      lora_alpha: s.lora_alpha,
      lora_vision_tower: true,
    },
    { progress: c.progress, log: c.log },
  );
  return join(out, 'merged');
}

/** An arm's pipeline from the base model; returns the final model and the DPO steps it ran. */
async function runArm(c: Ctx, arm: Arm, base: string, p: PairSet, sftData: string, dir: string) {
  const asc = c.spec.magnitudes.map((m) => p.files[m]);
  const dpoOut = join(dir, 'dpo');
  const sftOut = join(dir, 'sft');
  if (arm === 'sft') return { model: await sft(c, base, sftData, sftOut), dpoSteps: 0, stages: [] };
  if (arm === 'sft_dpo_mixed') {
    const m = await sft(c, base, sftData, sftOut);
    const d = await dpo(c, m, [p.mixed], dpoOut);
    return { model: d.model, dpoSteps: d.steps, stages: d.stages };
  }
  const order = arm === 'temple' ? asc : arm === 'reversed_sft' ? [...asc].reverse() : [p.mixed];
  const d = await dpo(c, base, order, dpoOut);
  return { model: await sft(c, d.model, sftData, sftOut), dpoSteps: d.steps, stages: d.stages };
}

interface PairSet {
  files: Record<number, string>;
  mixed: string;
  total: number;
}

/** A trained model, its tokenizer and its media options (paths under baseDir). */
function loadVlm(c: Ctx, model: string, baseDir: string) {
  const tok = Tokenizer.fromPretrained(model);
  const pm = fromPretrained(model);
  const merge = pm.model instanceof Qwen2VLForConditionalGeneration ? pm.model.vl.vision.merge : 2;
  return { tok, pm, mo: { baseDir, videoFps: c.spec.video_fps, processors: loadProcessorConfigs(model), merge } };
}

/** Greedy exact-match answers to held-out temporal questions, by dimension. */
async function temporalAccuracy(c: Ctx, model: string, rows: Row[], baseDir: string): Promise<Record<string, number>> {
  const { tok, pm, mo } = loadVlm(c, model, baseDir);
  const hits: Record<string, number[]> = {};
  try {
    for (const [i, r] of rows.entries()) {
      const vp = await visionPrompt(tok, r, mo, `held-out temporal row ${i + 1}`);
      const [g] = noGrad(() =>
        scope(() =>
          generate(pm.model, [tok.encode(vp.text)], { maxNewTokens: c.spec.answer_tokens, media: [vp.media] }, tok),
        ),
      );
      const ok = (g.text ?? '').trim() === r.completion[0].content[0].text.trim() ? 1 : 0;
      for (const k of [r.dimension as string, 'all']) (hits[k] ??= []).push(ok);
    }
  } finally {
    pm.model.dispose();
  }
  const mean = (xs?: number[]) => (xs?.length ? (100 * xs.reduce((a, b) => a + b, 0)) / xs.length : Number.NaN);
  return {
    temporal_order_accuracy: mean(hits.order),
    attribute_qa_accuracy: mean(hits.attribute_change),
    temporal_qa_accuracy: mean(hits.all),
  };
}

/** Vinoground scores from log p(caption | video, "Describe the video.") for the four pairings of a pair. */
async function vinoScores(c: Ctx, model: string, rows: Row[], baseDir: string): Promise<Record<string, number>> {
  const { tok, pm, mo } = loadVlm(c, model, baseDir);
  const byPair = new Map<string, Record<string, Row>>();
  for (const r of rows) byPair.set(r.pair_id, { ...byPair.get(r.pair_id), [r.variant]: r });
  const preds: VinoScores[] = [];
  try {
    for (const [id, pair] of byPair) {
      const s: Record<string, number> = {};
      for (const v of ['pos', 'neg'] as const) {
        const row = { prompt: userVideo('Describe the video.'), videos: pair[v].videos };
        const vp = await visionPrompt(tok, row, mo, `vinoground ${id}`);
        const items = (['pos', 'neg'] as const).map((cap) => ({
          prompt: tok.encode(vp.text),
          completion: tok.encode(pair[cap].caption),
          media: vp.media,
        }));
        const res = scoreCompletions(pm.model, items, { batchSize: 2, padTokenId: tok.padTokenId ?? 0 });
        s[`${v}_pos`] = res[0].logprob;
        s[`${v}_neg`] = res[1].logprob;
      }
      preds.push({ pair_id: id, scores: s as VinoScores['scores'] });
    }
  } finally {
    pm.model.dispose();
  }
  const sum = vinogroundSummary(scoreVinoground([...byPair.keys()], preds));
  return { vinoground_text: sum.text, vinoground_video: sum.video, vinoground_group: sum.group };
}

/** One seed: base, data, pairs, the five arms, their metrics. */
async function runSeed(c: Ctx, smoke: boolean, dir: string): Promise<ArmRun[]> {
  const base = await vlmBase.run({ seed: c.seed, seeds: [c.seed], smoke, threads: c.threads, log: c.log });
  const baseModel = join(base.dir, 'model');
  c.log(`pacer: temple: seed ${c.seed}: data`);
  const data = await makeData(c.spec, c.seed, dir);
  c.log(`pacer: temple: seed ${c.seed}: pairs from the base model`);
  const n = c.spec.narration;
  const pr = await makeTemplePairs({
    model: baseModel,
    data: data.shots,
    out: join(dir, 'pairs'),
    types: c.spec.types,
    magnitudes: c.spec.magnitudes,
    temperature: n.temperature,
    repetitionPenalty: n.repetition_penalty,
    maxNewTokens: n.max_new_tokens,
    seed: c.seed,
    videoFps: c.spec.video_fps,
  });
  const mixed = join(dir, 'pairs', 'pairs-mixed.jsonl');
  const p: PairSet = { files: pr.files, mixed, total: mixPairs(pr.files, mixed, c.seed) };
  const perM = Object.fromEntries(c.spec.magnitudes.map((m) => [`pairs_r${m}`, readRows(pr.files[m]).length]));
  const runs: ArmRun[] = [];
  for (const arm of TEMPLE_ARMS) {
    c.log(`pacer: temple: seed ${c.seed}: arm ${arm}`);
    const r = await runArm(c, arm, baseModel, p, data.sft, join(dir, arm));
    const metrics = {
      ...(await temporalAccuracy(c, r.model, data.temporal, data.dataDir)),
      ...(await vinoScores(c, r.model, data.vino, data.dataDir)),
      pairs: arm === 'sft' ? 0 : p.total,
      dpo_steps: r.dpoSteps,
      sft_steps: c.spec.sft.steps,
      ...(arm === 'sft' ? {} : perM),
      ...(r.stages.length ? { dpo_reward_accuracy_last_stage: r.stages[r.stages.length - 1].reward_accuracy } : {}),
    };
    const record = { ...metrics, dpo_stages: r.stages };
    writeFileSync(join(dir, arm, 'metrics.json'), `${JSON.stringify(record, null, 2)}\n`);
    runs.push({ arm, seed: c.seed, metrics });
  }
  return runs;
}

const SHOWN = [
  'temporal_order_accuracy',
  'attribute_qa_accuracy',
  'temporal_qa_accuracy',
  'vinoground_text',
  'vinoground_video',
  'vinoground_group',
  'pairs',
  'dpo_steps',
  'dpo_reward_accuracy_last_stage',
];

function report(summary: ReturnType<typeof summarizeArms>, spec: TempleSpec, smoke: boolean): string {
  const cell = (a: string, k: string) => {
    const s = summary.arms[a]?.[k];
    return s && Number.isFinite(s.mean) ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : '—';
  };
  const table = htmlTable(
    ['arm', ...SHOWN],
    TEMPLE_ARMS.map((a) => [a, ...SHOWN.map((k) => cell(a, k))]),
  );
  return renderReport({
    title: `TEMPLE study${smoke ? ' (smoke: pipeline check, not a result)' : ''}`,
    intro:
      'Arms: (a) sft, (b) sft_dpo_mixed, (c) temple = curriculum DPO r16→r2 then SFT, (d) dpo_mixed_sft, ' +
      '(e) reversed_sft = DPO r2→r16 then SFT. Mean ± sample std over seeds; accuracies and Vinoground ' +
      'scores in percent.',
    summary: { seeds: summary.seeds.join(', '), arms: TEMPLE_ARMS.length },
    config: spec as unknown as Record<string, unknown>,
    plots: [],
    sections: [{ title: 'Arms', html: table }],
  });
}

export function templeDir(spec: TempleSpec, seeds: number[]): string {
  return studyDir('temple', spec, seeds);
}

async function run(o: RecipeOptions): Promise<RecipeResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const spec = templeSpec(o.smoke);
  const dir = o.out ?? templeDir(spec, o.seeds);
  const file = join(dir, 'summary.json');
  const flat = (s: StudySummary) => armMeans(s, SHOWN.slice(0, 6), '/');
  const prev = o.force ? null : reusableSummary(file, spec, o.seeds);
  if (prev) {
    log(`pacer: temple: reusing ${dir}`);
    return { dir, cached: true, metrics: flat(prev) };
  }
  const runs: ArmRun[] = [];
  for (const seed of o.seeds) {
    const c: Ctx = { spec, seed, threads: o.threads, log, progress: o.progress ?? true };
    const sd = join(dir, `seed-${seed}`);
    mkdirSync(sd, { recursive: true });
    runs.push(...(await runSeed(c, o.smoke, sd)));
  }
  const summary = { ...summarizeArms('temple', o.seeds, runs), spec, smoke: o.smoke };
  const html = report(summary, spec, o.smoke);
  atomicWrite(join(dir, 'report.html'), (fd) => writeFileSync(fd, html));
  writeSummary(file, summary);
  return { dir, cached: false, metrics: flat(summary) };
}

export const temple: Recipe = {
  name: 'temple',
  summary: "TEMPLE's study: self-generated temporal pairs, curriculum DPO r16→r2, then SFT, against 4 other arms",
  description: `From the vlm-base model (one per seed): makes the shots world, the base narrates clean and
perturbed videos into TEMPLE's DPO pairs (one file per magnitude), then runs five arms with equal pairs and
equal SFT steps — (a) sft, (b) sft_dpo_mixed, (c) temple (DPO r16 → r8 → r4 → r2, LoRA merged between
stages, then SFT), (d) dpo_mixed_sft, (e) reversed_sft — and evaluates temporal-order accuracy, attribute QA
and Vinoground text/video/group scores on held-out worlds. Writes DIR/summary.json (per arm and metric the
mean and std over --seeds), DIR/report.html and DIR/seed-S/ (data, pairs, models, metrics).`,
  run,
};
