// `npm start`'s video stage (`pacer demo video` alone): temporal grounding GRPO (VideoTG-R1's reward: the
// tIoU of the answered [start, end] with the true segment; 0 when the answer does not parse) from the committed
// tiny Qwen2.5-VL base (assets/vlm-base, made by `pacer recipe vlm-base`), on the grounding world ("When does the green
// square move up?" over 12–20 s of 56×56 frames at 2 fps). Greedy answers on held-out videos before and after
// give mIoU and R@{0.3,0.5,0.7} (src/eval/grounding.ts); OUT/video/report.html shows them, the reward curve
// and contact sheets of test videos with their true, before and after segments.
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, scope, setThreads } from '../engine/index.js';
import { fromPretrained } from '../models/pretrained.js';
import { generate } from '../models/generate.js';
import { loadProcessorConfigs } from '../models/qwen2_vl/processor.js';
import type { CausalLM } from '../models/types.js';
import { Tokenizer } from '../tokenizers/index.js';
import { type VisionPrompt, visionPrompt } from '../data/media.js';
import { makeDataset } from '../video/worlds/make.js';
import { readFramesNpz } from '../video/npz.js';
import { encodePng } from '../video/png.js';
import { groundingSummary, type GroundingSummary, parseSegment, temporalIoU } from '../eval/grounding.js';
import { contactSheet, pngHtml, timelineSvg } from '../report/video.js';
import { htmlTable, plotsFromMetrics, renderReport } from '../report/html.js';
import { resolveConfig } from '../trainers/config.js';
import { train } from '../trainers/train.js';
import { vlmBase, vlmBaseSpec } from '../recipes/vlm-base.js';
import { atomicWrite } from '../util/atomic.js';

export interface VideoDemoOptions {
  out: string;
  seed: number;
  threads: number;
  progress: boolean;
  steps: number;
  trainVideos: number;
  testVideos: number;
  promptsPerStep: number;
  generations: number;
  learningRate: number;
  temperature: number;
  /** Nucleus sampling of the rollouts (1: none): the tail of a tiny model's vocabulary gives wild gradients. */
  topP: number;
  /** KL coefficient to the base model (0: none). */
  beta: number;
  /** The base model folder (default: the committed vlm-base, or the recipe's cached result). */
  base?: string;
  log?: (s: string) => void;
}

export const VIDEO_DEMO_DEFAULTS = {
  steps: 40,
  trainVideos: 160,
  testVideos: 32,
  promptsPerStep: 4,
  generations: 8,
  learningRate: 2e-5,
  temperature: 1,
  topP: 1,
  beta: 0,
};
export const VIDEO_DEMO_QUICK = { steps: 2, trainVideos: 4, testVideos: 3, promptsPerStep: 2, generations: 2 };

type Row = Record<string, any>;

export interface VideoDemoSummary {
  base: string;
  steps: number;
  train_videos: number;
  before: GroundingSummary;
  after: GroundingSummary;
  seconds: number;
}

/** The grounding world (the base's knobs and frame size) as frame files; its rows. */
async function groundingRows(dir: string, n: number, seed: number): Promise<Row[]> {
  const spec = vlmBaseSpec(false);
  const knobs = spec.worlds.grounding;
  await makeDataset({ world: 'grounding', n, seed, out: dir, framesOnly: true, knobs, width: spec.size });
  return readFileSync(join(dir, 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** Greedy answers of the model to the test rows (one batch), scored as temporal grounding. */
function answerAll(model: CausalLM, tok: Tokenizer, vps: VisionPrompt[], rows: Row[]) {
  const prompts = vps.map((vp) => tok.encode(vp.text));
  const gen = noGrad(() =>
    scope(() => generate(model, prompts, { maxNewTokens: 16, media: vps.map((vp) => vp.media) }, tok)),
  );
  const answers = new Map(rows.map((r, i) => [r.id as string, gen[i].text ?? '']));
  const items = rows.map((r) => {
    const answer = answers.get(r.id) ?? '';
    const prediction = parseSegment(answer);
    return { answer, prediction, iou: prediction ? temporalIoU(prediction, r.segment) : 0 };
  });
  return { items, summary: groundingSummary(items) };
}

type Answered = ReturnType<typeof answerAll>;

/** Contact sheets of the first test videos, each with a timeline: truth, the answer before and after. */
function sheets(rows: Row[], dir: string, before: Answered, after: Answered, k = 4): string {
  return rows
    .slice(0, k)
    .map((r, i) => {
      const v = readFramesNpz(join(dir, r.videos[0]));
      const fb = v.width * v.height * 3;
      const picks = Array.from({ length: 8 }, (_, j) => Math.floor(((j + 0.5) * v.frames) / 8));
      const frames = picks.map((f) => ({
        width: v.width,
        height: v.height,
        data: v.data.subarray(f * fb, (f + 1) * fb),
      }));
      const png = encodePng(
        contactSheet(
          frames,
          picks.map((f) => f / v.fps),
          { cols: 8 },
        ),
      );
      const line = (a: Answered) => {
        const p = a.items[i].prediction;
        return timelineSvg({ duration: r.duration, truth: [r.segment], pred: p ? [p] : [] });
      };
      const say = (a: Answered) => `"${a.items[i].answer}" (IoU ${a.items[i].iou.toFixed(2)})`;
      return (
        `<figure><figcaption>${r.query} — truth [${r.segment.join(', ')}] s</figcaption>${pngHtml(png, r.id)}` +
        `<div>before: ${say(before)}</div><div>${line(before)}</div>` +
        `<div>after: ${say(after)}</div><div>${line(after)}</div></figure>`
      );
    })
    .join('');
}

async function baseModel(o: VideoDemoOptions, say: (s: string) => void): Promise<string> {
  if (o.base) return o.base;
  const r = await vlmBase.run({
    seed: 0,
    seeds: [0],
    smoke: false,
    threads: o.threads,
    progress: o.progress,
    log: say,
  });
  return join(r.dir, 'model');
}

/** GRPO config: the tIoU reward, 8 completions per prompt, the vision tower frozen. */
function grpoConfig(o: VideoDemoOptions, base: string, data: string): Record<string, unknown> {
  return {
    trainer: 'grpo',
    model_name_or_path: base,
    train_dataset: data,
    output_dir: join(o.out, 'video', 'grpo'),
    overwrite_output_dir: true,
    learning_rate: o.learningRate,
    lr_scheduler_type: 'constant',
    max_steps: o.steps,
    num_generations: o.generations,
    per_device_train_batch_size: o.generations * o.promptsPerStep,
    max_completion_length: 16,
    temperature: o.temperature,
    top_p: o.topP,
    loss_type: 'dapo',
    beta: o.beta,
    reward_funcs: ['temporal_iou:duration_column=duration'],
    freeze_vision_tower: true,
    video_fps: vlmBaseSpec(false).video_fps,
    logging_steps: 1,
    save_steps: 1_000_000,
    seed: o.seed,
    threads: o.threads,
  };
}

export async function runVideoDemo(o: VideoDemoOptions): Promise<VideoDemoSummary> {
  const say = o.log ?? ((s: string) => console.log(s));
  const t0 = performance.now();
  setThreads(o.threads);
  const base = await baseModel(o, say);
  const dataDir = join(o.out, 'video', 'data');
  const train0 = await groundingRows(join(dataDir, 'train'), o.trainVideos, 1_000_003 + o.seed);
  const test = await groundingRows(join(dataDir, 'test'), o.testVideos, 2_000_003 + o.seed);
  const tok = Tokenizer.fromPretrained(base);
  const mo = {
    baseDir: join(dataDir, 'test'),
    videoFps: vlmBaseSpec(false).video_fps,
    processors: loadProcessorConfigs(base),
    merge: 2,
  };
  const vps: VisionPrompt[] = [];
  for (const [i, r] of test.entries()) vps.push(await visionPrompt(tok, r, mo, `test row ${i + 1}`));
  const pm = fromPretrained(base);
  const before = answerAll(pm.model, tok, vps, test);
  pm.model.dispose();
  const g = (x: GroundingSummary) => `mIoU ${x.mIoU.toFixed(1)}, R@0.5 ${x['R@0.5'].toFixed(1)}`;
  say(`  before: ${g(before.summary)} (${test.length} test videos)`);
  const cfg = resolveConfig(grpoConfig(o, base, join(dataDir, 'train', 'data.jsonl')), 'demo video');
  const run = await train(cfg, { progress: o.progress, log: () => {} });
  const trained = fromPretrained(join(o.out, 'video', 'grpo'));
  const after = answerAll(trained.model, tok, vps, test);
  trained.model.dispose();
  say(`  after:  ${g(after.summary)}`);
  const summary = { base, steps: o.steps, train_videos: train0.length, before: before.summary, after: after.summary };
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  const table = htmlTable(
    ['', 'mIoU', 'R@0.3', 'R@0.5', 'R@0.7', 'unparsed'],
    (['before', 'after'] as const).map((k) => {
      const s = summary[k];
      return [k, s.mIoU.toFixed(1), s['R@0.3'].toFixed(1), s['R@0.5'].toFixed(1), s['R@0.7'].toFixed(1), s.unparsed];
    }),
  );
  const html = renderReport({
    title: 'pacer demo — temporal grounding GRPO on video',
    intro: `GRPO (tIoU reward) for ${o.steps} steps from ${base}; greedy answers on ${test.length} held-out videos.`,
    summary: { ...summary, before: undefined, after: undefined, seconds },
    config: cfg as unknown as Record<string, unknown>,
    plots: plotsFromMetrics(run.history, [{ title: 'reward (tIoU)', keys: ['reward'] }]),
    sections: [
      { title: 'Held-out grounding (%)', html: table },
      { title: 'Test videos', html: sheets(test, join(dataDir, 'test'), before, after) },
    ],
  });
  atomicWrite(join(o.out, 'video', 'report.html'), (fd) => writeSync(fd, html));
  return { ...summary, seconds };
}
