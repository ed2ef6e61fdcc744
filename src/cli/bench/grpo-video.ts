// `pacer bench grpo --video`: GRPO steps through the online trainer on video prompts (a conversational
// prompt with a 16-frame video, TRL's vision rows; 8 prompts × 8 completions by default) on bench vlm's
// random Qwen2.5-VL, split into generation (each video encoded once and each prompt prefilled once per
// group, then G completions sampled with the KV cache), scoring (decoding + the accuracy reward on a
// fixed answer) and training (advantages, the forward/backward with each group's prompt, its video
// included, run once and the G completions on its keys and values,
// the clipped DAPO surrogate, clipping, AdamW) — the trainer's timing/*_s — against the same step in
// plain PyTorch (bench/pytorch_grpo_video.py, the model of bench/torch_qwen2_vl.py) on the same
// checkpoint, token ids and frame files. Best configuration against best configuration: pacer trains
// at 1 thread and at --threads, the peer runs in each thread configuration of peer.ts; medians over the
// measured steps (the first step of each run warms up). The numbers are checked first: pacer's trainer
// computes per-token log-probs of G sampled completions (cut to different lengths, so right padding
// counts) for the first prompts through the trainer's shared-prompt forward (each prompt run once, its
// G completions on its keys and values), and the peer's training path (the batched forward) and sampling path
// (prefill + KV-cache decoding) must give the same within 1e-4 relative (|a − b| / max(|b|, 1), per
// token). ratio = pacer's fastest step over PyTorch's fastest (target ≤ 0.8).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, scope, setThreads, threadInfo } from '../../engine/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { loadDataset } from '../../data/datasets.js';
import { renderPrompt } from '../../data/tokenize.js';
import { rowPixels } from '../../data/media.js';
import { generate, type PromptMedia } from '../../models/generate.js';
import { fromPretrained } from '../../models/pretrained.js';
import { labelLogps } from '../../models/scoring.js';
import { resolveConfig, train, type OnlineConfig } from '../../trainers/index.js';
import { prepareVision } from '../../trainers/vision.js';
import { sharedLogits, sharedPlan } from '../../trainers/shared-prompt.js';
import { CHECK_RTOL } from './dpo-video.js';
import { compareSplits, grpoBenchKeys, peerRun, peerSplit, split, type Split } from './grpo.js';
import { best, runPeerConfigs, runTorchPeer } from './peer.js';
import { VIDEO_FPS, VIDEO_PIXELS, VIDEO_SIDE, userVideo, writeBenchVlm, writeRandomVideos } from './vlm-fixture.js';

export interface GrpoVideoBenchOptions {
  steps: number;
  prompts: number;
  generations: number;
  newTokens: number;
  frames: number;
  beta: number;
  threads: number;
  seed: number;
  vsPytorch: boolean;
}

/** pacer's step time over PyTorch's (each side's fastest configuration): the target. */
export const GRPO_VIDEO_TARGET = 0.8;
const QUESTION = 'How many things move in the video? Answer with a number.';
const ANSWER = '3';
/** Prompts whose G completions the numeric check scores. */
const CHECK_PROMPTS = 2;

function trainConfig(o: GrpoVideoBenchOptions, dir: string, threads: number): OnlineConfig {
  const raw = {
    trainer: 'grpo',
    model_name_or_path: join(dir, 'model'),
    train_dataset: join(dir, 'prompts.jsonl'),
    output_dir: join(dir, `out-${threads}`),
    ...grpoBenchKeys(o, threads),
    video_fps: VIDEO_FPS,
  };
  return resolveConfig(raw, 'bench') as OnlineConfig;
}

export async function benchGrpoVideo(o: GrpoVideoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-grpo-video-'));
  try {
    const videos = writeRandomVideos(join(dir, 'videos'), o.prompts * (o.steps + 1), o.frames, o.seed);
    const rows = videos.map((v) => ({ prompt: userVideo(QUESTION), videos: [v], solution: ANSWER }));
    writeFileSync(join(dir, 'prompts.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { config, params, vocab } = writeBenchVlm(join(dir, 'model'), [QUESTION, ANSWER]);
    const check = await pacerCheck(trainConfig(o, dir, o.threads), o);
    const runs = [];
    for (const threads of [...new Set([1, o.threads])]) {
      const r = await train(trainConfig(o, dir, threads), { progress: false, log: () => {} });
      runs.push({ threads, split: split(r.history) });
    }
    const fastest = best(runs, (x) => x.split.step_s)!;
    const out: Record<string, unknown> = {
      bench: 'grpo',
      video: true,
      steps: o.steps,
      prompts_per_step: o.prompts,
      num_generations: o.generations,
      max_completion_length: o.newTokens,
      frames: o.frames,
      frame_size: `${VIDEO_SIDE}x${VIDEO_SIDE} -> 112x112`,
      prompt_tokens: check.prompts[0].length,
      video_tokens: check.prompts[0].filter((t) => t === config.video_token_id).length,
      beta: o.beta,
      loss_type: 'dapo',
      reward: `accuracy against '${ANSWER}'`,
      threads: o.threads,
      blas: threadInfo().blas,
      params,
      pacer: { ...fastest.split, threads: fastest.threads },
      pacer_configs: runs.map((x) => ({ threads: x.threads, step_s: x.split.step_s })),
    };
    if (o.vsPytorch) {
      const same = runs.find((x) => x.threads === o.threads)!.split;
      const work = { videos, vocab, check, same, best: fastest.split };
      Object.assign(out, grpoVideoPeer(o, config, join(dir, 'model'), dir, work));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface CheckRows {
  /** Every row's prompt ids (video pads expanded), in file order. */
  prompts: number[][];
  /** G rows per checked prompt: its index, the completion, and pacer's per-token log-probs. */
  rows: Array<{ prompt: number; completion: number[]; logps: number[] }>;
}

/**
 * The check's side in pacer: the rows' prompt ids as the trainer renders them, and for the first
 * CHECK_PROMPTS prompts G completions sampled as the trainer samples them, cut to lengths that differ
 * (row k keeps newTokens − k mod 3 tokens), scored by the trainer's path (the shared-prompt forward:
 * sharedPlan + sharedLogits + labelLogps) on the initial checkpoint.
 */
async function pacerCheck(cfg: OnlineConfig, o: GrpoVideoBenchOptions): Promise<CheckRows> {
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const examples = await loadDataset(cfg.train_dataset);
  await prepareVision(examples, cfg, cfg.train_dataset);
  const prompts = examples.map((e) => renderPrompt(tok, e.prompt!, undefined, { rv: e.vision!, where: e.where }));
  const n = Math.min(CHECK_PROMPTS, examples.length);
  const G = o.generations;
  const idx = Array.from({ length: n * G }, (_, k) => Math.floor(k / G));
  const { model } = fromPretrained(cfg.model_name_or_path);
  const pads = examples[0].vision!.padIds;
  try {
    return noGrad(() =>
      scope(() => {
        const media: PromptMedia[] = examples.slice(0, n).map((e) => rowPixels(e.vision!)!);
        const gen = generate(
          model,
          idx.map((i) => prompts[i]),
          {
            maxNewTokens: o.newTokens,
            temperature: 1,
            doSample: true,
            seed: o.seed,
            media: idx.map((i) => media[i]),
            logitBias: Object.fromEntries(pads.map((id) => [id, -1e9])),
          },
        );
        const comps = gen.map((g, k) => g.tokens.slice(0, Math.max(1, o.newTokens - (k % 3))));
        const plan = sharedPlan(
          comps.map((c, k) => ({ prompt: prompts[idx[k]], completion: c, vision: examples[idx[k]].vision })),
          tok.padTokenId ?? 0,
        );
        if (!plan) throw new Error('pacer: bench check: the rows of a group do not share their prompt');
        const lp = labelLogps(sharedLogits(model, plan), plan.labels).perToken.toArray() as number[];
        const L = plan.completions.shape[1];
        const rows = comps.map((c, k) => ({ prompt: idx[k], completion: c, logps: lp.slice(k * L, k * L + c.length) }));
        return { prompts, rows };
      }),
    );
  } finally {
    model.dispose();
  }
}

interface PeerWork {
  videos: string[];
  vocab: string[];
  check: CheckRows;
  /** pacer's split at --threads and its fastest. */
  same: Split;
  best: Split;
}

/** The same steps in plain PyTorch in each thread configuration (the first also checks the numbers). */
function grpoVideoPeer(o: GrpoVideoBenchOptions, config: Record<string, any>, model: string, dir: string, w: PeerWork) {
  const args = join(dir, 'args.json');
  const spec = {
    prompts: w.check.prompts,
    videos: w.videos,
    answers: w.videos.map(() => ANSWER),
    ...peerRun(o),
    pad: config.pad_token_id,
    eos: config.eos_token_id,
    vocab: w.vocab,
    specials: w.vocab.indexOf('[UNK]') + 1,
    never: [config.image_token_id, config.video_token_id],
    video_pixels: VIDEO_PIXELS,
    fps: VIDEO_FPS,
    check: { rows: w.check.rows },
  };
  writeFileSync(args, JSON.stringify(spec));
  let checked: any = null;
  const peer = runPeerConfigs(
    o.threads,
    (c) => runTorchPeer('pytorch_grpo_video.py', [model, args, ...(checked ? [] : ['--check'])], c),
    (j) => {
      checked ??= j.check;
      return peerSplit(j);
    },
  );
  if (peer.errors.length || peer.runs.length === 0) return { pytorch_error: peer.errors.join('; ') || 'no result' };
  const cmp = compareSplits(peer.runs, w.same, w.best);
  const worst = Math.max(checked.training_path_max_rel_diff, checked.sampling_path_max_rel_diff);
  return {
    ...cmp,
    check: { ...checked, rtol: CHECK_RTOL, agrees: Number.isFinite(worst) && worst <= CHECK_RTOL },
    ratio: cmp.ratio_best_vs_best,
    ratio_target: GRPO_VIDEO_TARGET,
  };
}
