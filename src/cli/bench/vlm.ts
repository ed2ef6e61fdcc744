// `pacer bench vlm`: a random Qwen2.5-VL-architecture model on videos of 16 frames (128² resized to 112²
// by the processor, window attention with 4 windows per frame): a training step (forward + backward of
// the completion cross-entropy, vision tower included) at batch 4, and greedy generation with a video
// prompt at batch 1 and 8 (distinct videos: no prompt is shared), against the same checkpoint in plain
// PyTorch (bench/pytorch_qwen2_vl.py) in the same command, best configuration against best
// configuration: pacer runs at 1 thread and at --threads, the peer in peer.ts's configurations, and each
// side's fastest is compared. Also where the time goes: processor (one video), vision tower (one
// video), language model (one prompt + completion, vision embeddings given).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, type Tensor, cat, manualSeed, noGrad, scope, setThreads, tensor, threadInfo } from '../../engine/index.js';
import { rng } from '../../data/random.js';
import { generate, type PromptMedia } from '../../models/generate.js';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';
import type { Qwen2VLForConditionalGeneration } from '../../models/qwen2_vl/model.js';
import { type ProcessorConfig, defaultProcessorConfig, processFrames } from '../../models/qwen2_vl/processor.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer } from './peer.js';

export interface VlmBenchOptions {
  threads: number;
  seed: number;
  repeats: number;
  frames: number;
  newTokens: number;
  trainBatch: number;
  genBatches: number[];
  vsPytorch: boolean;
  /** Alternate pacer and PyTorch this many times; each side keeps its best (a shared machine's load moves). */
  rounds: number;
}

const SIDE = 128;
const TOKENS = { image_token_id: 2000, video_token_id: 2001, vision_start_token_id: 2002, vision_end_token_id: 2003 };

export function vlmConfig(): Record<string, any> {
  return {
    architectures: ['Qwen2_5_VLForConditionalGeneration'],
    model_type: 'qwen2_5_vl',
    vocab_size: 2048,
    hidden_size: 256,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_scaling: { type: 'mrope', mrope_section: [4, 6, 6] },
    tie_word_embeddings: true,
    ...TOKENS,
    vision_config: {
      depth: 4,
      hidden_size: 128,
      intermediate_size: 256,
      num_heads: 4,
      out_hidden_size: 256,
      patch_size: 14,
      spatial_merge_size: 2,
      temporal_patch_size: 2,
      window_size: 56,
      fullatt_block_indexes: [1, 3],
      tokens_per_second: 2,
    },
  };
}

function timed(fn: () => void, reps: number): number {
  fn();
  return median(
    Array.from({ length: reps }, () => {
      const t0 = performance.now();
      scope(fn);
      return performance.now() - t0;
    }),
  );
}

interface Work {
  videos: Uint8Array[][];
  proc: ProcessorConfig;
  prompt: number[];
  completion: number[];
  media: PromptMedia[];
}

function makeWork(o: VlmBenchOptions, n: number): Work {
  const r = rng(o.seed);
  const videos = Array.from({ length: n }, () =>
    Array.from({ length: o.frames }, () => Uint8Array.from({ length: SIDE * SIDE * 3 }, () => Math.floor(r() * 256))),
  );
  const proc = { ...defaultProcessorConfig('video'), minPixels: 3136, maxPixels: 112 * 112 };
  const media = videos.map((frames) => {
    const p = processFrames({ frames, height: SIDE, width: SIDE }, proc);
    return {
      pixelValuesVideos: p.pixelValues,
      videoGridThw: tensor([p.grid], { dtype: 'int64' }),
      secondPerGridTs: tensor([1]),
    };
  });
  const [t, h, w] = media[0].videoGridThw!.toArray();
  const text = (k: number) => Array.from({ length: k }, () => Math.floor(r() * 2000));
  const pads = new Array<number>((t * h * w) / 4).fill(TOKENS.video_token_id);
  const prompt = [...text(8), TOKENS.vision_start_token_id, ...pads, TOKENS.vision_end_token_id, ...text(8)];
  return { videos, proc, prompt, completion: text(32), media };
}

function trainStep(model: Qwen2VLForConditionalGeneration, w: Work, B: number): void {
  const seq = [...w.prompt, ...w.completion];
  const ids = tensor(Array.from({ length: B }, () => seq).flat(), { dtype: 'int64' }).view(B, seq.length);
  const rows = w.media.slice(0, B);
  const logits = model.forward({
    ids,
    pixelValuesVideos: cat(rows.map((m) => m.pixelValuesVideos!)),
    videoGridThw: cat(rows.map((m) => m.videoGridThw!)),
    secondPerGridTs: cat(rows.map((m) => m.secondPerGridTs!)),
  });
  const n = w.completion.length;
  const pred = logits.narrow(1, seq.length - n - 1, n).reshape(B * n, -1);
  const loss = F.crossEntropy(pred, ids.narrow(1, seq.length - n, n).reshape(B * n));
  model.zeroGrad();
  loss.backward();
}

/** pacer's side: breakdown, training step, generation. */
function pacerSide(model: Qwen2VLForConditionalGeneration, w: Work, o: VlmBenchOptions) {
  const m0 = w.media[0];
  const out: Record<string, any> = {
    processor_ms: round(
      timed(() => processFrames({ frames: w.videos[0], height: SIDE, width: SIDE }, w.proc), o.repeats),
    ),
  };
  noGrad(() => {
    out.vision_tower_ms = round(timed(() => model.encodeVision(m0.pixelValuesVideos!, m0.videoGridThw!), o.repeats));
    const seq = [...w.prompt, ...w.completion];
    const ids = tensor(seq, { dtype: 'int64' }).view(1, seq.length);
    const emb = model.encodeVision(m0.pixelValuesVideos!, m0.videoGridThw!);
    const x = { ids, videoEmbeds: emb, videoGridThw: m0.videoGridThw, secondPerGridTs: m0.secondPerGridTs };
    out.language_model_ms = round(timed(() => model.forward(x), o.repeats));
  });
  out.train_step_ms = round(timed(() => trainStep(model, w, o.trainBatch), o.repeats));
  out.generate = {} as Record<string, any>;
  for (const B of o.genBatches) {
    let tokens: number[] = [];
    const run = () => {
      const r = generate(model, new Array(B).fill(w.prompt), {
        maxNewTokens: o.newTokens,
        eosTokenId: [],
        media: w.media.slice(0, B),
      });
      tokens = r[0].tokens;
    };
    const ms = timed(run, o.repeats);
    out.generate[B] = { seconds: round(ms / 1000, 3), tokens_per_s: round((B * o.newTokens) / (ms / 1000)), tokens };
  }
  return out;
}

function compare(ours: Record<string, any>, runs: Array<{ config: any; result: any }>, o: VlmBenchOptions): void {
  const same = runs[0].result;
  const fastest = (key: (r: any) => number) => best(runs, (r) => key(r.result))!;
  const tr = fastest((r) => r.train_step_ms);
  ours.train_step = {
    pacer_ms: ours.train_step_ms,
    pacer_threads: ours.pacer_threads.train_step,
    pytorch_ms: round(same.train_step_ms),
    pytorch_best: { config: configName(tr.config), ms: round(tr.result.train_step_ms) },
    ratio_vs_pytorch: round(same.train_step_ms / ours.train_step_ms, 3),
    ratio_best_vs_best: round(tr.result.train_step_ms / ours.train_step_ms, 3),
  };
  for (const B of o.genBatches) {
    const g = ours.generate[B];
    const f = fastest((r) => r.generate[B].seconds);
    g.pytorch_tokens_per_s = round(same.generate[B].tokens_per_s);
    g.pytorch_best = { config: configName(f.config), tokens_per_s: round(f.result.generate[B].tokens_per_s) };
    g.ratio_vs_pytorch = round(g.tokens_per_s / same.generate[B].tokens_per_s, 3);
    g.ratio_best_vs_best = round(g.tokens_per_s / f.result.generate[B].tokens_per_s, 3);
    g.same_tokens_as_pytorch = runs.every(
      (r) => JSON.stringify(r.result.generate[B].tokens_row0) === JSON.stringify(g.tokens),
    );
  }
  // where PyTorch's time goes, each part in its fastest configuration (pacer's likewise)
  ours.pytorch_breakdown = Object.fromEntries(
    ['processor_ms', 'vision_tower_ms', 'language_model_ms'].map((k) => [
      k,
      round(Math.min(...runs.map((r) => r.result[k]))),
    ]),
  );
  ours.torch = same.torch;
}

function runPeer(model: Qwen2VLForConditionalGeneration, config: Record<string, any>, w: Work, o: VlmBenchOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-vlm-'));
  try {
    savePretrained({ model, config }, dir);
    const framesFile = join(dir, 'frames.u8');
    writeFileSync(framesFile, Buffer.concat(w.videos.flat()));
    const args = {
      threads: o.threads,
      repeats: o.repeats,
      new_tokens: o.newTokens,
      train_batch: o.trainBatch,
      gen_batches: o.genBatches,
      frames_shape: [w.videos.length, o.frames, SIDE, SIDE, 3],
      video_pixels: [w.proc.minPixels, w.proc.maxPixels],
      fps: 2,
      prompt: w.prompt,
      completion: w.completion,
    };
    writeFileSync(join(dir, 'args.json'), JSON.stringify(args));
    return runPeerConfigs(
      o.threads,
      (c) => runTorchPeer('pytorch_qwen2_vl.py', [dir, join(dir, 'args.json'), framesFile], c, 30 * 60_000),
      (j) => j,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** pacer at 1 thread and at --threads (its best per measure, like the peer's configurations). */
function pacerBest(model: Qwen2VLForConditionalGeneration, w: Work, o: VlmBenchOptions): Record<string, any> {
  const runs = [...new Set([1, o.threads])].map((t) => {
    setThreads(t);
    return { threads: t, r: pacerSide(model, w, o) };
  });
  setThreads(o.threads);
  const pick = (key: (r: any) => number) => best(runs, (x) => key(x.r))!;
  const out: Record<string, any> = {
    pacer_configs: runs.map((x) => ({ threads: x.threads, train_step_ms: x.r.train_step_ms })),
  };
  for (const k of ['processor_ms', 'vision_tower_ms', 'language_model_ms', 'train_step_ms'])
    out[k] = pick((r) => r[k]).r[k];
  out.pacer_threads = { train_step: pick((r) => r.train_step_ms).threads };
  out.generate = {};
  for (const B of o.genBatches) {
    const b = pick((r) => r.generate[B].seconds);
    out.generate[B] = { ...b.r.generate[B], threads: b.threads };
  }
  return out;
}

/** The better of two measurements of the same thing (per field: less time, more tokens/s). */
function better(a: any, b: any): any {
  if (!a) return b;
  const out: any = { ...a };
  for (const k of ['processor_ms', 'vision_tower_ms', 'language_model_ms', 'train_step_ms'])
    if (typeof b[k] === 'number') out[k] = Math.min(a[k], b[k]);
  out.generate = {};
  for (const B of Object.keys(a.generate))
    out.generate[B] = a.generate[B].seconds <= b.generate[B].seconds ? a.generate[B] : b.generate[B];
  return out;
}

export function benchVlm(o: VlmBenchOptions): Record<string, unknown> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const config = vlmConfig();
  const model = modelFromConfig(config) as Qwen2VLForConditionalGeneration;
  const w = makeWork(o, Math.max(o.trainBatch, ...o.genBatches));
  let ours: Record<string, any> | null = null;
  let peerRuns: Array<{ config: any; result: any }> = [];
  const errors: string[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const mine = pacerBest(model, w, o);
    ours = better(ours, mine);
    if (ours !== mine) ours!.pacer_configs = [...ours!.pacer_configs, ...mine.pacer_configs];
    if (!o.vsPytorch) continue;
    const peer = runPeer(model, config, w, o);
    errors.push(...peer.errors);
    peerRuns = peer.runs.map((x, i) => ({ config: x.config, result: better(peerRuns[i]?.result, x.result) }));
  }
  const out: Record<string, unknown> = {
    bench: 'vlm',
    threads: o.threads,
    blas: threadInfo().blas,
    params: model.numParameters(),
    frames: o.frames,
    frame_size: `${SIDE}x${SIDE} -> 112x112`,
    video_tokens: w.prompt.filter((t) => t === TOKENS.video_token_id).length,
    prompt_tokens: w.prompt.length,
    new_tokens: o.newTokens,
  };
  out.rounds = o.rounds;
  if (o.vsPytorch) {
    if (errors.length || !peerRuns.length) out.pytorch_error = errors.join('; ') || 'no result';
    else compare(ours!, peerRuns, o);
  }
  return finishVlm(out, ours!, model, w);
}

function finishVlm(
  out: Record<string, unknown>,
  ours: Record<string, any>,
  model: Qwen2VLForConditionalGeneration,
  w: Work,
) {
  for (const g of Object.values(ours.generate as Record<string, any>)) delete g.tokens;
  ours.train_step ??= { pacer_ms: ours.train_step_ms, pacer_threads: ours.pacer_threads.train_step };
  delete ours.train_step_ms;
  delete ours.pacer_threads;
  model.dispose();
  for (const m of w.media) for (const t of Object.values(m)) (t as Tensor).dispose();
  return { ...out, ...ours };
}
