// `pacer bench dpo --video`: wall time of one DPO (sigmoid) epoch through `pacer train` on pairs whose
// chosen and rejected answers share a video prompt (a conversational prompt with a 16-frame video, TRL's
// vision rows), on bench vlm's random Qwen2.5-VL: data preparation (the videos decoded and resized once),
// reference log-probs (vision tower included), then per batch the policy's chosen+rejected forward with
// each pair's prompt (its video included) run once and both answers on its keys and values, backward and
// AdamW — against the same epoch in plain
// PyTorch (bench/pytorch_dpo_video.py, the model of bench/torch_qwen2_vl.py) on the same checkpoint,
// token ids and frame files. Best configuration against best configuration: pacer runs the epoch at 1
// thread and at --threads, the peer in each thread configuration of peer.ts. The numbers are checked
// first: the first batch's loss and mean chosen / rejected log-probs, and the second batch's loss (after
// one AdamW step), must agree within 1e-4 relative (fp32). ratio = pacer's fastest seconds over the
// fastest PyTorch configuration's (target ≤ 0.8). pacer_split says where pacer's time goes; cpu_seconds
// (each run's process CPU time) are less skewed than wall time by other load on a shared machine.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, manualSeed, scope, setThreads, threadInfo } from '../../engine/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { loadDataset } from '../../data/datasets.js';
import { fromPretrained } from '../../models/pretrained.js';
import { resolveConfig, train, type DPOConfig } from '../../trainers/index.js';
import { makeMethod, sequenceLogpSums } from '../../trainers/methods.js';
import { prepareVision } from '../../trainers/vision.js';
import { dpoBenchKeys } from './dpo.js';
import { best, configName, round, runPeerConfigs, runTorchPeer } from './peer.js';
import {
  VIDEO_FPS,
  VIDEO_PIXELS,
  VIDEO_SIDE,
  assistantText,
  userVideo,
  writeBenchVlm,
  writeRandomVideos,
} from './vlm-fixture.js';

export interface DpoVideoBenchOptions {
  pairs: number;
  batch: number;
  frames: number;
  threads: number;
  vsPytorch: boolean;
  seed: number;
}

/** pacer's seconds over the fastest PyTorch configuration's: the target. */
export const DPO_VIDEO_TARGET = 0.8;
/** Relative tolerance of the numeric agreement checks (fp32). */
export const CHECK_RTOL = 1e-4;

const THINGS = ['red circle', 'blue bar', 'green square', 'yellow star'];
const MOVES = ['moves left', 'moves right', 'grows', 'shrinks', 'spins'];

/** Pair i: two events; chosen narrates them in order, rejected in reverse (TEMPLE-style order pairs). */
function pairRow(i: number, video: string) {
  const a = `the ${THINGS[i % 4]} ${MOVES[i % 5]}`;
  const b = `the ${THINGS[(i + 1) % 4]} ${MOVES[(i + 2) % 5]}`;
  return {
    prompt: userVideo('Describe the video.'),
    videos: [video],
    chosen: assistantText(`First, ${a}. Then, ${b}.`),
    rejected: assistantText(`First, ${b}. Then, ${a}.`),
  };
}

function trainConfig(o: DpoVideoBenchOptions, dir: string, threads: number): DPOConfig {
  const raw = {
    trainer: 'dpo',
    model_name_or_path: join(dir, 'model'),
    train_dataset: join(dir, 'pairs.jsonl'),
    output_dir: join(dir, `out-${threads}`),
    ...dpoBenchKeys(o.batch, threads, o.seed),
    loss_type: ['sigmoid'],
    video_fps: VIDEO_FPS,
  };
  return resolveConfig(raw, 'bench') as DPOConfig;
}

/** Pairs, videos and the model folder under dir. */
function writeWork(o: DpoVideoBenchOptions, dir: string) {
  const videos = writeRandomVideos(join(dir, 'videos'), o.pairs, o.frames, o.seed);
  const rows = videos.map((v, i) => pairRow(i, v));
  writeFileSync(join(dir, 'pairs.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const texts = rows.flatMap((r) => [r.prompt, r.chosen, r.rejected].map((m) => m[0].content.at(-1)!.text!));
  return { videos, ...writeBenchVlm(join(dir, 'model'), texts) };
}

/** One epoch through `pacer train` at 1 thread and at --threads. */
async function pacerRuns(o: DpoVideoBenchOptions, dir: string) {
  const runs = [];
  for (const threads of [...new Set([1, o.threads])]) {
    const cfg = trainConfig(o, dir, threads);
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    const r = await train(cfg, { progress: false, log: () => {} });
    const c = process.cpuUsage(c0);
    runs.push({ threads, cfg, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, r });
  }
  return runs;
}

const TEXT_KEYS = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'];
const VISION_KEYS = ['depth', 'hidden_size', 'intermediate_size', 'num_heads', 'window_size'];
const pick = (c: Record<string, any>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, c[k]]));

export async function benchDpoVideo(o: DpoVideoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-dpo-video-'));
  try {
    const { videos, config, params } = writeWork(o, dir);
    const runs = await pacerRuns(o, dir);
    const fastest = best(runs, (x) => x.seconds)!;
    const steps = runs[0].r.history.filter((h) => 'loss' in h);
    const { split, pairs } = await pacerSplit(fastest.cfg, fastest.seconds);
    const out: Record<string, unknown> = {
      bench: 'dpo',
      video: true,
      pairs: o.pairs,
      batch: o.batch,
      frames: o.frames,
      frame_size: `${VIDEO_SIDE}x${VIDEO_SIDE} -> 112x112`,
      video_tokens: pairs[0][0].filter((t) => t === config.video_token_id).length,
      steps: runs[0].r.globalStep,
      threads: o.threads,
      blas: threadInfo().blas,
      model: { params, text: pick(config, TEXT_KEYS), vision: pick(config.vision_config, VISION_KEYS) },
      seconds: round(fastest.seconds, 3),
      pacer_threads: fastest.threads,
      pacer_configs: runs.map((x) => ({
        threads: x.threads,
        seconds: round(x.seconds, 3),
        cpu_seconds: round(x.cpu, 3),
      })),
      pacer_split: split,
      pairs_per_s: round(o.pairs / fastest.seconds),
      first_loss: steps[0]?.loss,
      last_loss: steps.at(-1)?.loss,
    };
    if (o.vsPytorch) {
      const same = runs.find((x) => x.threads === o.threads)!.seconds;
      const work = { videos, pairs, steps, same, best: fastest.seconds };
      Object.assign(out, dpoVideoPeer(o, fastest.cfg, dir, work));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where pacer's time goes, measured after the timed runs with the trainer's own functions at the
 * fastest run's threads: prepare (tokenizer, rows, the videos decoded and resized, tokenization),
 * reference (every pair's log-probs, vision tower included), steps (loss, backward and AdamW per batch),
 * and other: the rest of the timed run (model load, saving). Also the token ids the trainer trains on.
 */
async function pacerSplit(cfg: DPOConfig, seconds: number) {
  setThreads(cfg.threads!);
  const t0 = performance.now();
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const examples = await loadDataset(cfg.train_dataset);
  await prepareVision(examples, cfg, cfg.train_dataset);
  const method = makeMethod(cfg);
  const items = method.prepare(examples, tok, { maxLength: cfg.max_length, maxPromptLength: cfg.max_prompt_length });
  const t1 = performance.now();
  manualSeed(cfg.seed);
  const { model } = fromPretrained(cfg.model_name_or_path);
  const t2 = performance.now();
  const refs = method.referenceSeqs!(items);
  const pad = tok.padTokenId ?? 0;
  const values = sequenceLogpSums(
    model,
    refs.map((r) => r.seq),
    cfg.per_device_eval_batch_size,
    pad,
  );
  refs.forEach((r, i) => r.set(r.item, values[i]));
  const t3 = performance.now();
  const opt = new AdamW(model.parameters(), { lr: cfg.learning_rate });
  const bs = cfg.per_device_train_batch_size;
  for (let s = 0; s < items.length; s += bs)
    scope(() => {
      opt.zeroGrad();
      method.loss(model, items.slice(s, s + bs), pad, { step: s / bs, warmupSteps: 0, train: true }).loss.backward();
      opt.step();
    });
  const t4 = performance.now();
  opt.dispose();
  model.dispose();
  const part = (a: number, b: number) => round((b - a) / 1000, 3);
  const measured = (t4 - t0 - (t2 - t1)) / 1000;
  const split = {
    prepare_s: part(t0, t1),
    reference_s: part(t2, t3),
    steps_s: part(t3, t4),
    other_s: round(Math.max(0, seconds - measured), 3),
  };
  return { split, pairs: items.map((it) => [it.prompt!, it.chosen!, it.rejected!]) };
}

interface PeerWork {
  videos: string[];
  pairs: number[][][];
  /** pacer's logged steps (the check), its seconds at --threads and its fastest. */
  steps: Array<Record<string, number>>;
  same: number;
  best: number;
}

/** The same epoch in plain PyTorch in each thread configuration; the agreement check and the time ratios. */
function dpoVideoPeer(o: DpoVideoBenchOptions, cfg: DPOConfig, dir: string, w: PeerWork) {
  const args = join(dir, 'args.json');
  const spec = {
    pairs: w.pairs,
    videos: w.videos,
    video_pixels: VIDEO_PIXELS,
    fps: VIDEO_FPS,
    batch: o.batch,
    beta: cfg.beta,
    lr: cfg.learning_rate,
    threads: o.threads,
    pad: 0,
  };
  writeFileSync(args, JSON.stringify(spec));
  const peer = runPeerConfigs(
    o.threads,
    (c) => runTorchPeer('pytorch_dpo_video.py', [cfg.model_name_or_path, args], c),
    (j) => j,
  );
  if (peer.errors.length || peer.runs.length === 0) return { pytorch_error: peer.errors.join('; ') || 'no result' };
  const j = peer.runs[0].result; // both pools at --threads
  const fastest = best(peer.runs, (r) => r.result.seconds)!;
  const split = Object.fromEntries(Object.entries(fastest.result.split).map(([k, v]) => [k, round(v as number, 3)]));
  return {
    pytorch: {
      torch: j.torch,
      seconds: round(j.seconds, 3),
      first_loss: j.losses[0],
      last_loss: j.losses.at(-1),
      configs: peer.runs.map((r) => ({
        intra_op: r.config.intraOp,
        blas: r.config.blas,
        seconds: round(r.result.seconds, 3),
        cpu_seconds: round(r.result.cpu_seconds, 3),
      })),
      best: { config: configName(fastest.config), seconds: round(fastest.result.seconds, 3), split },
    },
    check: dpoCheck(w.steps, j),
    // time ratios: pacer's seconds over PyTorch's (below 1: pacer is faster)
    wall_time_ratio: round(w.same / j.seconds, 3),
    ratio_best_vs_best: round(w.best / fastest.result.seconds, 3),
    ratio: round(w.best / fastest.result.seconds, 3),
    ratio_target: DPO_VIDEO_TARGET,
  };
}

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/**
 * pacer's logged numbers against the peer's: the first batch's loss and mean chosen / rejected
 * log-prob sums (policy = reference, so the loss is ln 2 on both sides and the log-probs carry the
 * check), and the second batch's loss (after one AdamW step on both sides).
 */
export function dpoCheck(steps: Array<Record<string, number>>, peer: { losses: number[]; logps: number[][] }) {
  const rows: Array<[string, number | undefined, number | undefined]> = [
    ['first_loss', steps[0]?.loss, peer.losses[0]],
    ['first_logps_chosen', steps[0]?.['logps/chosen'], peer.logps[0]?.[0]],
    ['first_logps_rejected', steps[0]?.['logps/rejected'], peer.logps[0]?.[1]],
    ['second_loss', steps[1]?.loss, peer.losses[1]],
  ];
  const values: Record<string, { pacer: number; pytorch: number; rel_diff: number }> = {};
  for (const [k, a, b] of rows)
    if (typeof a === 'number' && typeof b === 'number') values[k] = { pacer: a, pytorch: b, rel_diff: relDiff(a, b) };
  const worst = Math.max(...Object.values(values).map((v) => v.rel_diff));
  return { ...values, max_rel_diff: worst, rtol: CHECK_RTOL, agrees: Number.isFinite(worst) && worst <= CHECK_RTOL };
}
