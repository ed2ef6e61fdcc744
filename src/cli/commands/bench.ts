// `pacer bench engine | generate | dpo | grpo | ppo`: pacer against a PyTorch peer in the same command;
// `pacer bench envs`: environment steps/s against plain JavaScript loops of the same dynamics;
// `pacer bench video`: the video decoder against ffmpeg alone, world generation, memory.
// With --vs-pytorch each benchmark runs the peer in several thread configurations (src/cli/bench/
// peer.ts) and prints ratio_best_vs_best — each side in its fastest configuration — next to the
// same-threads ratios.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { benchEngine } from '../bench/engine.js';
import { benchGenerate } from '../bench/generate.js';
import { benchDpo } from '../bench/dpo.js';
import { benchDpoVideo } from '../bench/dpo-video.js';
import { benchGrpo } from '../bench/grpo.js';
import { benchGrpoVideo } from '../bench/grpo-video.js';
import { benchVideo } from '../bench/video.js';
import { benchDdp, ddpWorker } from '../bench/ddp.js';
import { benchVlm } from '../bench/vlm.js';
import { buildInfo } from '../../engine/index.js';
import {
  UsageError,
  defineCommand,
  int,
  intList,
  oneOf,
  output,
  str,
  threadsOpt,
  type OptionSpec,
  type OptionValues,
} from '../command.js';
import { benchEnvs, PLAIN_LOOPS } from '../bench/envs.js';
import { benchPpo, PPO_CASES } from '../bench/ppo.js';
import { ENV_IDS, type EnvId } from '../../envs/index.js';
import { benchTspo } from '../bench/tspo.js';

const common: Record<string, OptionSpec> = {
  seed: { type: 'string', arg: 'N', help: 'random seed', default: '0' },
  'vs-pytorch': {
    type: 'boolean',
    help: 'also run the same work in PyTorch (needs python3-torch) in several thread configurations',
  },
  json: { type: 'boolean', help: 'print one JSON object' },
};

const BEST = `ratio_best_vs_best compares each side in its fastest configuration: PyTorch is run with both
thread pools at --threads (what torch.set_num_threads gives), with intra-op 1 and OpenBLAS at
--threads, and with 1/1.`;

export const benchEngineCmd = defineCommand({
  name: 'bench engine',
  summary: 'time a GPT-2-style training step; --vs-pytorch compares with PyTorch eager',
  usage: 'pacer bench engine [--threads 1,2] [--rounds N] [--vs-pytorch] [--json] [model options]',
  description: `A GPT-2-architecture training step (fp32, CPU, AdamW lr 1e-4 wd 0.1): tokens/s, step time
(median), parameters, threads, the BLAS in use, and MFU against the best sgemm measured in the same
command. ratio_vs_pytorch is pacer's speed over PyTorch's with both pools at the same thread count;
ratio_best_vs_best is pacer's fastest thread count against PyTorch's fastest configuration (both
pools at each thread count, and intra-op 1 with OpenBLAS at the largest). > 1: pacer is faster.`,
  options: {
    vocab: { type: 'string', arg: 'N', help: 'vocabulary size', default: '512' },
    'd-model': { type: 'string', arg: 'N', help: 'embedding width', default: '256' },
    layers: { type: 'string', arg: 'N', help: 'transformer blocks', default: '4' },
    heads: { type: 'string', arg: 'N', help: 'attention heads', default: '4' },
    seq: { type: 'string', arg: 'N', help: 'sequence length', default: '128' },
    batch: { type: 'string', arg: 'N', help: 'sequences per step', default: '8' },
    steps: { type: 'string', arg: 'N', help: 'timed steps after 2 warm-up steps', default: '10' },
    threads: { type: 'string', arg: 'LIST', help: 'thread counts', default: '1,<cores>' },
    rounds: { type: 'string', arg: 'N', help: 'alternate pacer and PyTorch N times; medians', default: '1' },
    device: { type: 'string', arg: 'D', help: "'cpu' or a CUDA device (a CUDA build of the addon)", default: 'cpu' },
    amp: {
      type: 'string',
      arg: 'A',
      help: 'autocast the step: none | bf16 | fp16 (fp16 with loss scaling)',
      default: 'none',
    },
    ...common,
  },
  run(v) {
    const cores = availableParallelism();
    const device = str(v.device) ?? 'cpu';
    if (device !== 'cpu' && !/^cuda(:\d+)?$/.test(device))
      throw new UsageError(`--device must be cpu, cuda or cuda:N, got '${device}'`);
    if (device !== 'cpu' && !buildInfo().cuda)
      throw new UsageError(`--device ${device}: this build of the addon has no CUDA device (LIBTORCH=… npm run setup)`);
    const amp = oneOf(v.amp, 'amp', ['none', 'bf16', 'fp16'] as const, 'none');
    if (amp === 'fp16' && device === 'cpu')
      throw new UsageError('--amp fp16 needs a CUDA --device (CPU autocast is bf16)');
    const o = {
      vocab: int(v.vocab, 'vocab', 512),
      dModel: int(v['d-model'], 'd-model', 256),
      layers: int(v.layers, 'layers', 4),
      heads: int(v.heads, 'heads', 4),
      seq: int(v.seq, 'seq', 128),
      batch: int(v.batch, 'batch', 8),
      steps: int(v.steps, 'steps', 10),
      seed: int(v.seed, 'seed', 0, 0),
      rounds: int(v.rounds, 'rounds', 1),
      threadList: intList(v.threads, 'threads', cores > 1 ? `1,${cores}` : '1'),
      vsPytorch: !!v['vs-pytorch'],
      progress: !v.json || process.stderr.isTTY === true,
      device,
      amp,
    };
    if (o.dModel % o.heads !== 0)
      throw new UsageError(`--d-model (${o.dModel}) must be divisible by --heads (${o.heads})`);
    const r = benchEngine(o);
    output(!!v.json, r, () => {
      for (const x of r.runs) {
        const mfu = `MFU ${(x.mfu * 100).toFixed(1)}% of ${x.sgemm_best_gflops} GFLOP/s sgemm`;
        console.log(`threads ${x.threads}: ${x.tokens_per_s} tokens/s, ${x.step_ms} ms/step, ${mfu}`);
        if (x.pytorch) console.log(`  PyTorch (same threads): ${x.pytorch.step_ms} ms/step -> ${x.ratio_vs_pytorch}x`);
      }
      const b = r.best as any;
      if (b)
        console.log(
          `best vs best: pacer ${b.pacer.step_ms} ms (${b.pacer.threads} threads), PyTorch ${b.pytorch.step_ms} ms ` +
            `(intra-op ${b.pytorch.intra_op}, BLAS ${b.pytorch.blas}) -> ${r.ratio_best_vs_best}x`,
        );
      if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
      console.log(`params ${r.params}; BLAS: ${r.blas}`);
    });
    return 0;
  },
});

export const benchGenerateCmd = defineCommand({
  name: 'bench generate',
  summary: 'decoding tokens/s at batch 1 and 16; --vs-pytorch compares with a PyTorch loop',
  usage: 'pacer bench generate [--batches 1,16] [--threads N] [--vs-pytorch] [--json] [model options]',
  description: `A random Llama-architecture model; greedy tokens/s per batch size (median of --repeats). With
--vs-pytorch the same checkpoint runs in a PyTorch reference loop (bench/pytorch_generate.py) and the
generated tokens are compared. ratio_vs_pytorch and ratio_best_vs_best are pacer's tokens/s over
PyTorch's (> 1: pacer is faster). ${BEST}`,
  options: {
    batches: { type: 'string', arg: 'LIST', help: 'batch sizes', default: '1,16' },
    'prompt-len': { type: 'string', arg: 'N', help: 'prompt tokens', default: '32' },
    'new-tokens': { type: 'string', arg: 'N', help: 'generated tokens', default: '64' },
    hidden: { type: 'string', arg: 'N', help: 'hidden size', default: '256' },
    layers: { type: 'string', arg: 'N', help: 'decoder layers', default: '4' },
    heads: { type: 'string', arg: 'N', help: 'attention heads', default: '8' },
    'kv-heads': { type: 'string', arg: 'N', help: 'key/value heads', default: '4' },
    vocab: { type: 'string', arg: 'N', help: 'vocabulary size', default: '4096' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    repeats: { type: 'string', arg: 'N', help: 'timed repeats (median)', default: '3' },
    ...common,
  },
  run(v) {
    const o = {
      batches: intList(v.batches, 'batches', '1,16'),
      promptLen: int(v['prompt-len'], 'prompt-len', 32),
      newTokens: int(v['new-tokens'], 'new-tokens', 64),
      hidden: int(v.hidden, 'hidden', 256),
      layers: int(v.layers, 'layers', 4),
      heads: int(v.heads, 'heads', 8),
      kvHeads: int(v['kv-heads'], 'kv-heads', 4),
      vocab: int(v.vocab, 'vocab', 4096),
      threads: threadsOpt(v.threads),
      repeats: int(v.repeats, 'repeats', 3),
      seed: int(v.seed, 'seed', 0, 0),
      vsPytorch: !!v['vs-pytorch'],
    };
    if (o.hidden % o.heads !== 0 || o.heads % o.kvHeads !== 0)
      throw new UsageError('--hidden must be divisible by --heads, and --heads by --kv-heads');
    const r = benchGenerate(o);
    output(!!v.json, r, () => {
      for (const [b, x] of Object.entries(r.results as Record<string, any>)) {
        const best = `best vs best ${x.ratio_best_vs_best}x (same tokens: ${x.same_tokens_as_pytorch})`;
        const vs = x.pytorch_tokens_per_s
          ? `, PyTorch ${x.pytorch_tokens_per_s} -> ${x.ratio_vs_pytorch}x; ${best}`
          : '';
        console.log(`batch ${b}: ${x.tokens_per_s} tokens/s${vs}`);
      }
      if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
    });
    return 0;
  },
});

export const benchDpoCmd = defineCommand({
  name: 'bench dpo',
  summary: 'one DPO epoch through pacer train; --vs-pytorch compares with a plain PyTorch loop',
  usage:
    'pacer bench dpo [--pairs 64] [--batch 8] [--hidden 256] [--layers 4] [--threads N] [--vs-pytorch] [--json]\n' +
    '       pacer bench dpo --video [--pairs 16] [--batch 4] [--frames 16] [--threads N] [--vs-pytorch] [--json]',
  description: `With --vs-pytorch the same epoch runs as a straightforward PyTorch loop (bench/pytorch_dpo.py:
policy and reference forwards per pair, no caching); wall_time_ratio and ratio_best_vs_best are
pacer's time over PyTorch's (< 1: pacer is faster), and first_loss_agrees checks both start alike.
ift: one IFT step (a no-grad pass for the guesses, then the pass on mixed embeddings) against one SFT
step on the same model and batch of chosen completions (ift_over_sft; medians of 5 steps).
--video: pairs whose chosen and rejected answers share a video prompt (--frames random 128x128 frames,
112x112 after the processor) on bench vlm's random Qwen2.5-VL, the vision tower in the policy and the
reference forwards; the peer is bench/pytorch_dpo_video.py (one tower pass per video per model, as
pacer). check: the first batch's loss and log-probs and the second batch's loss agree within 1e-4
relative; ratio = pacer's seconds over PyTorch's fastest configuration (target <= 0.8). No IFT step.
${BEST}`,
  options: {
    pairs: { type: 'string', arg: 'N', help: 'preference pairs', default: '64; 16 with --video' },
    batch: { type: 'string', arg: 'N', help: 'pairs per step', default: '8; 4 with --video' },
    hidden: { type: 'string', arg: 'N', help: 'hidden size (a multiple of 8; text model only)', default: '256' },
    layers: { type: 'string', arg: 'N', help: 'decoder layers (text model only)', default: '4' },
    video: { type: 'boolean', help: "pairs with a video prompt on bench vlm's Qwen2.5-VL" },
    frames: { type: 'string', arg: 'N', help: 'frames per video (--video only)', default: '16' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    ...common,
  },
  async run(v) {
    onlyWith(v, !!v.video, { video: ['frames'], text: ['hidden', 'layers'] });
    if (v.video) {
      const r = await benchDpoVideo({
        pairs: int(v.pairs, 'pairs', 16),
        batch: int(v.batch, 'batch', 4),
        frames: int(v.frames, 'frames', 16, 2),
        threads: threadsOpt(v.threads),
        seed: int(v.seed, 'seed', 0, 0),
        vsPytorch: !!v['vs-pytorch'],
      });
      output(!!v.json, r, () => printDpo(r));
      return 0;
    }
    const hidden = int(v.hidden, 'hidden', 256);
    if (hidden % 8 !== 0) throw new UsageError('--hidden must be a multiple of 8');
    const r = await benchDpo({
      pairs: int(v.pairs, 'pairs', 64),
      batch: int(v.batch, 'batch', 8),
      hidden,
      layers: int(v.layers, 'layers', 4),
      threads: threadsOpt(v.threads),
      seed: int(v.seed, 'seed', 0, 0),
      vsPytorch: !!v['vs-pytorch'],
    });
    output(!!v.json, r, () => printDpo(r));
    return 0;
  },
});

function printDpo(r: Record<string, unknown>): void {
  console.log(`pacer: ${r.seconds} s for ${r.pairs} pairs (${r.steps} steps, ${r.threads} threads)`);
  const p = r.pytorch as any;
  if (p)
    console.log(
      `PyTorch: ${p.seconds} s -> ratio ${r.wall_time_ratio}; best ${p.best.seconds} s (${p.best.config}) -> ` +
        `best vs best ${r.ratio_best_vs_best}` +
        (r.check ? ` (target <= ${r.ratio_target})` : ` (first losses agree: ${r.first_loss_agrees})`),
    );
  const c = r.check as any;
  if (c) console.log(`numbers agree with PyTorch: ${c.agrees} (max relative difference ${c.max_rel_diff})`);
  if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
}

/** Options that act only with --video (or only without it) are usage errors in the other mode. */
function onlyWith(v: OptionValues, video: boolean, keys: { video: string[]; text: string[] }): void {
  const wrong = video ? keys.text : keys.video;
  for (const k of wrong)
    if (v[k] !== undefined)
      throw new UsageError(`--${k} ${video ? 'applies to the text model, not --video' : 'needs --video'}`);
}

export const benchGrpoCmd = defineCommand({
  name: 'bench grpo',
  summary: 'a GRPO step split into generation / scoring / training; --vs-pytorch adds a PyTorch step',
  usage:
    'pacer bench grpo [--steps 5] [--prompts 8] [--generations 8] [--threads N] [--vs-pytorch] [--json]\n' +
    '       pacer bench grpo --video [--steps 3] [--frames 16] [--prompts 8] [--generations 8] [--vs-pytorch] [--json]',
  description: `A random Llama (the fixture byte-level tokenizer) is trained for steps + 1 GRPO steps (dapo loss,
accuracy reward on arithmetic prompts, temperature 1); the first step warms up. Each part is the
median over the measured steps: generation (sampling prompts x generations completions with the KV
cache), scoring (decoding + rewards), training (advantages, forward/backward, clipping, AdamW; a
reference forward too when --beta > 0). With --vs-pytorch the same step runs in a plain PyTorch loop
(bench/pytorch_grpo.py); time_ratio_vs_pytorch (per part) and ratio_best_vs_best (the step) are
pacer's seconds over PyTorch's (< 1: pacer is faster).
--video: video prompts (--frames random 128x128 frames, 112x112 after the processor; accuracy reward on
a fixed answer) on bench vlm's random Qwen2.5-VL; each video is encoded once per group when sampling and
when training. pacer trains at 1 thread and at --threads (its fastest counts); the peer is
bench/pytorch_grpo_video.py. check: the peer's per-token log-probs of completions pacer sampled, by its
training and its sampling path, agree with pacer's trainer within 1e-4 relative; ratio = pacer's fastest
step over PyTorch's fastest (target <= 0.8). ${BEST}`,
  options: {
    steps: { type: 'string', arg: 'N', help: 'measured steps', default: '5; 3 with --video' },
    prompts: { type: 'string', arg: 'N', help: 'prompts per step', default: '8' },
    generations: { type: 'string', arg: 'N', help: 'completions per prompt', default: '8' },
    'new-tokens': { type: 'string', arg: 'N', help: 'max completion tokens', default: '32' },
    hidden: { type: 'string', arg: 'N', help: 'hidden size (a multiple of 8; text model only)', default: '256' },
    layers: { type: 'string', arg: 'N', help: 'decoder layers (text model only)', default: '4' },
    video: { type: 'boolean', help: "video prompts on bench vlm's Qwen2.5-VL" },
    frames: { type: 'string', arg: 'N', help: 'frames per video (--video only)', default: '16' },
    beta: { type: 'string', arg: 'B', help: 'KL coefficient (> 0 adds a reference forward)', default: '0' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    ...common,
  },
  async run(v) {
    onlyWith(v, !!v.video, { video: ['frames'], text: ['hidden', 'layers'] });
    const beta = v.beta === undefined ? 0 : Number(v.beta);
    if (!(beta >= 0)) throw new UsageError(`--beta must be a number >= 0, got '${v.beta}'`);
    const shared = {
      prompts: int(v.prompts, 'prompts', 8),
      generations: int(v.generations, 'generations', 8),
      newTokens: int(v['new-tokens'], 'new-tokens', 32),
      beta,
      threads: threadsOpt(v.threads),
      seed: int(v.seed, 'seed', 0, 0),
      vsPytorch: !!v['vs-pytorch'],
    };
    let r: Record<string, unknown>;
    if (v.video)
      r = await benchGrpoVideo({ ...shared, steps: int(v.steps, 'steps', 3), frames: int(v.frames, 'frames', 16, 2) });
    else {
      const hidden = int(v.hidden, 'hidden', 256);
      if (hidden % 8 !== 0) throw new UsageError('--hidden must be a multiple of 8');
      r = await benchGrpo({ ...shared, steps: int(v.steps, 'steps', 5), hidden, layers: int(v.layers, 'layers', 4) });
    }
    output(!!v.json, r, () => printGrpo(r));
    return 0;
  },
});

function printGrpo(r: Record<string, unknown>): void {
  const show = (name: string, x: any) =>
    console.log(
      `${name}: step ${x.step_s} s = generation ${x.generation_s} + scoring ${x.scoring_s} + training ${x.training_s}`,
    );
  show('pacer  ', r.pacer);
  if (r.pytorch) {
    show('PyTorch', r.pytorch);
    const target = r.ratio_target !== undefined ? ` (target <= ${r.ratio_target})` : '';
    console.log(
      `time ratio pacer/PyTorch: ${JSON.stringify(r.time_ratio_vs_pytorch)}; best vs best ${r.ratio_best_vs_best}` +
        target,
    );
  }
  const c = r.check as any;
  if (c) console.log(`log-probs agree with PyTorch: ${c.agrees} (${JSON.stringify(c)})`);
  if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
}

export const benchDdpCmd = defineCommand({
  name: 'bench ddp',
  summary: 'data-parallel scaling: GPT training tokens/s in 1 vs 2 processes (1 thread each, Gloo)',
  usage: 'pacer bench ddp [--runs 3] [--steps 10] [--json] [model options]',
  description: `The engine-bench GPT (fp32, CPU, AdamW) trains in 1 process and in 2 processes started by pacer's
launcher (1 thread each; a Gloo group on 127.0.0.1; gradients averaged in 25 MiB buckets, as the trainers
do). Each process runs --batch sequences per step. Per run: tokens/s of both, the 2-process step's
all-reduce time, and scaling_efficiency = tokens/s(2 processes) / (2 x tokens/s(1 process)); then the
median, min and max over --runs runs (1 and 2 processes alternate). On a machine whose cores other work
shares, read the spread.`,
  options: {
    vocab: { type: 'string', arg: 'N', help: 'vocabulary size', default: '512' },
    'd-model': { type: 'string', arg: 'N', help: 'embedding width', default: '256' },
    layers: { type: 'string', arg: 'N', help: 'transformer blocks', default: '4' },
    heads: { type: 'string', arg: 'N', help: 'attention heads', default: '4' },
    seq: { type: 'string', arg: 'N', help: 'sequence length', default: '128' },
    batch: { type: 'string', arg: 'N', help: 'sequences per process per step', default: '8' },
    steps: { type: 'string', arg: 'N', help: 'timed steps after 2 warm-up steps', default: '10' },
    runs: { type: 'string', arg: 'N', help: 'runs of each (1 and 2 processes alternate)', default: '3' },
    'worker-out': { type: 'string', arg: 'FILE', help: "internal: run as the launcher's worker, rank 0 writes FILE" },
    ...common,
  },
  async run(v) {
    const o = {
      vocab: int(v.vocab, 'vocab', 512),
      dModel: int(v['d-model'], 'd-model', 256),
      layers: int(v.layers, 'layers', 4),
      heads: int(v.heads, 'heads', 4),
      seq: int(v.seq, 'seq', 128),
      batch: int(v.batch, 'batch', 8),
      steps: int(v.steps, 'steps', 10),
      runs: int(v.runs, 'runs', 3),
      seed: int(v.seed, 'seed', 0, 0),
    };
    if (o.dModel % o.heads !== 0)
      throw new UsageError(`--d-model (${o.dModel}) must be divisible by --heads (${o.heads})`);
    if (v['vs-pytorch']) throw new UsageError('bench ddp has no PyTorch peer (--vs-pytorch)');
    const out = v['worker-out'];
    if (typeof out === 'string') {
      const r = ddpWorker(o);
      if (process.env.RANK === undefined || process.env.RANK === '0') writeFileSync(out, JSON.stringify(r));
      return 0;
    }
    const flags = Object.entries(o).flatMap(([k, x]) => [
      `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      String(x),
    ]);
    const r = await benchDdp(o, (file) => [process.argv[1], 'bench', 'ddp', ...flags, '--worker-out', file]);
    output(!!v.json, r, () => {
      for (const x of r.runs as Array<Record<string, number>>)
        console.log(
          `1 process ${x.one_tokens_per_s} tokens/s; 2 processes ${x.two_tokens_per_s} tokens/s ` +
            `(all-reduce ${x.two_allreduce_ms} of ${x.two_step_ms} ms/step) -> efficiency ${x.scaling_efficiency}`,
        );
      console.log(`scaling efficiency ${JSON.stringify(r.scaling_efficiency)}; ${r.note}`);
    });
    return 0;
  },
});

export const benchTspoCmd = defineCommand({
  name: 'bench tspo',
  summary: 'a TSPO training step (G subsets, frozen answerer, ratio loss, AdamW); --vs-pytorch adds PyTorch',
  usage:
    'pacer bench tspo [--steps 20] [--frames 256] [--dim 128] [--generations 8] [--k 16] [--vs-pytorch] ' +
    '[--vs-answerer N] [--json]',
  description: `The temporal agent (8 heads, window 12) on one T-frame video of random D-dim features with a
32-frame needle: scores without gradients, G Gumbel-top-k subsets of k frames, the needle_oracle's
rewards, group advantages, scores with gradients, the ratio loss backward, clipping and AdamW — the
step trainer: tspo runs — and the agent's topk selection on the same video (select_s). Medians over
the measured steps (the first warms up). With --vs-pytorch the same step on the same inputs and
initial weights runs in plain PyTorch (bench/pytorch_tspo.py); speedup_vs_pytorch is PyTorch's step
seconds over pacer's (> 1: pacer is faster). With --vs-answerer N the selection's cost is set against
the answerer's: the vlm answerer (vlm-base's architecture, its cached --smoke build) answering from the
k chosen frames of a T-frame 56×56 video, N runs after a warm-up (median, min, max); select_over_answer =
select_s / the median (target < 0.05), select_over_answer_cpu the same in CPU seconds. ${BEST}`,
  options: {
    steps: { type: 'string', arg: 'N', help: 'measured steps', default: '20' },
    frames: { type: 'string', arg: 'T', help: 'frames of the video', default: '256' },
    dim: { type: 'string', arg: 'D', help: 'feature width (a multiple of 8)', default: '128' },
    generations: { type: 'string', arg: 'G', help: 'frame subsets per step', default: '8' },
    k: { type: 'string', arg: 'K', help: 'frames per subset', default: '16' },
    'vs-answerer': { type: 'string', arg: 'N', help: 'also time the vlm answerer on the k frames, N runs (>= 5)' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    ...common,
  },
  async run(v) {
    const dim = int(v.dim, 'dim', 128);
    const answererRuns = v['vs-answerer'] === undefined ? 0 : int(v['vs-answerer'], 'vs-answerer', 5, 5);
    if (dim % 8 !== 0) throw new UsageError('--dim must be a multiple of 8 (8 heads)');
    const frames = int(v.frames, 'frames', 256);
    const k = int(v.k, 'k', 16);
    if (frames < 132 || k > frames)
      throw new UsageError('--frames must be >= 132 (the needle is frames 100-131) and >= --k');
    const r = await benchTspo({
      steps: int(v.steps, 'steps', 20),
      frames,
      dim,
      generations: int(v.generations, 'generations', 8, 2),
      k,
      threads: threadsOpt(v.threads),
      seed: int(v.seed, 'seed', 0, 0),
      vsPytorch: !!v['vs-pytorch'],
      answererRuns,
    });
    output(!!v.json, r, () => {
      const p = r.pacer as any;
      console.log(`pacer  : step ${p.step_s} s, topk selection ${p.select_s} s`);
      if (r.answerer) {
        const { answer_s: a, frames_shown: k } = r.answerer as any;
        console.log(
          `answerer on ${k} frames: ${a.median} s (${a.min}-${a.max}, ${a.runs} runs); ` +
            `selection / answer ${r.select_over_answer} (CPU time ${r.select_over_answer_cpu})`,
        );
      }
      if (r.pytorch) {
        const t = r.pytorch as any;
        console.log(
          `PyTorch: step ${t.step_s} s, topk selection ${t.select_s} s (best: ${t.best.config}, ${t.best.step_s} s)`,
        );
        console.log(`speed-up vs PyTorch ${r.speedup_vs_pytorch}x; best vs best ${r.speedup_best_vs_best}x`);
      }
      if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
    });
    return 0;
  },
});

export const benchVideoCmd = defineCommand({
  name: 'bench video',
  summary: 'decode frames/s vs ffmpeg alone, world generation frames/s, peak RSS on a 10-minute video',
  usage: 'pacer bench video [--rounds 3] [--seconds 60] [--size 320x240] [--long-seconds 600] [--json]',
  description: `Decode: pacer's streaming decoder (iterFrames) against ffmpeg alone writing the same rgb24 frames to
/dev/null, on a testsrc2 H.264 video made in a temp dir; ratio = pacer frames/s over ffmpeg's (target >=
0.9), per round, alternating; cpu_ratio = ffmpeg's CPU seconds over pacer's (Node and its ffmpeg and
ffprobe children), which other load on the machine does not skew. Worlds: frames/s rendering each world
(56x56, --items items), and end to end through video make (grounding, MP4 and .npz). RSS: peak resident
memory of a Node process that imports pacer/video (loading libtorch) and streams every frame of a
--long-seconds testsrc2 video at --long-size (target < 300 MB). Timings vary on a shared machine: read
the spread over rounds.`,
  options: {
    rounds: { type: 'string', arg: 'N', help: 'decode rounds (alternating ffmpeg and pacer)', default: '3' },
    seconds: { type: 'string', arg: 'S', help: 'length of the throughput video', default: '60' },
    size: { type: 'string', arg: 'WxH', help: 'size of the throughput video', default: '320x240' },
    'long-seconds': { type: 'string', arg: 'S', help: 'length of the RSS video', default: '600' },
    'long-size': { type: 'string', arg: 'WxH', help: 'size of the RSS video', default: '160x120' },
    items: { type: 'string', arg: 'N', help: 'items per world for generation throughput', default: '40' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  async run(v) {
    const wxh = (x: unknown, name: string, d: string) => {
      const s = String(x ?? d);
      if (!/^\d+x\d+$/.test(s)) throw new UsageError(`--${name} must be WxH, got '${s}'`);
      return s;
    };
    const r = await benchVideo({
      rounds: int(v.rounds, 'rounds', 3),
      seconds: int(v.seconds, 'seconds', 60),
      size: wxh(v.size, 'size', '320x240'),
      longSeconds: int(v['long-seconds'], 'long-seconds', 600),
      longSize: wxh(v['long-size'], 'long-size', '160x120'),
      items: int(v.items, 'items', 40),
    });
    output(!!v.json, r, () => {
      for (const x of r.decode.runs)
        console.log(
          `decode: ffmpeg alone ${x.ffmpeg_fps} frames/s, pacer ${x.pacer_fps} frames/s -> ${x.ratio}x; ` +
            `CPU ${x.ffmpeg_cpu_s} s vs ${x.pacer_cpu_s} s -> ${x.cpu_ratio}x`,
        );
      console.log(
        `decode ratio median ${r.decode.ratio_median} (min ${r.decode.ratio_min}, max ${r.decode.ratio_max}); ` +
          r.decode.video,
      );
      console.log(`render frames/s: ${JSON.stringify(r.worlds.render_frames_per_s)}`);
      console.log(
        `video make grounding: mp4 ${r.worlds.make_grounding_mp4_frames_per_s} frames/s, ` +
          `npz ${r.worlds.make_grounding_npz_frames_per_s} frames/s`,
      );
      console.log(
        `peak RSS ${r.rss.peak_rss_mb} MB (${r.rss.rss_after_import_mb} MB after import) ` +
          `streaming ${r.rss.frames} frames; ${r.rss.video}`,
      );
    });
    return 0;
  },
});

export const benchVlmCmd = defineCommand({
  name: 'bench vlm',
  summary: 'Qwen2.5-VL training step and video-prompt generation; --vs-pytorch compares with PyTorch',
  usage: 'pacer bench vlm [--threads N] [--repeats N] [--rounds 2] [--frames 16] [--vs-pytorch] [--json]',
  description: `A random Qwen2.5-VL-architecture model (vision: 4 blocks of 128, window attention; text: 4 layers of
256) on videos of --frames frames (128x128, resized to 112x112 by the processor: 4 windows per frame,
16 video tokens per frame pair). Times a training step (forward + backward of the completion
cross-entropy, vision tower included) at batch --train-batch, greedy generation of --new-tokens tokens
with a video prompt at each of --gen-batches (distinct videos; vision encoding and prefill included),
and where the time goes: processor, vision tower and language model for one video. With --vs-pytorch
the same checkpoint and frames run in bench/pytorch_qwen2_vl.py; ratio_vs_pytorch and
ratio_best_vs_best are pacer's speed over PyTorch's (> 1: pacer is faster). ${BEST}`,
  options: {
    frames: { type: 'string', arg: 'N', help: 'frames per video', default: '16' },
    'train-batch': { type: 'string', arg: 'N', help: 'videos per training step', default: '4' },
    'gen-batches': { type: 'string', arg: 'LIST', help: 'generation batch sizes', default: '1,8' },
    'new-tokens': { type: 'string', arg: 'N', help: 'generated tokens', default: '16' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads', default: 'all cores' },
    repeats: { type: 'string', arg: 'N', help: 'timed repeats (median)', default: '3' },
    rounds: {
      type: 'string',
      arg: 'N',
      help: 'alternate pacer and PyTorch N times; each keeps its best (the load of a shared machine moves)',
      default: '2',
    },
    ...common,
  },
  run(v) {
    const r = benchVlm({
      rounds: int(v.rounds, 'rounds', 2),
      frames: int(v.frames, 'frames', 16),
      trainBatch: int(v['train-batch'], 'train-batch', 4),
      genBatches: intList(v['gen-batches'], 'gen-batches', '1,8'),
      newTokens: int(v['new-tokens'], 'new-tokens', 16),
      threads: threadsOpt(v.threads),
      repeats: int(v.repeats, 'repeats', 3),
      seed: int(v.seed, 'seed', 0, 0),
      vsPytorch: !!v['vs-pytorch'],
    });
    output(!!v.json, r, () => {
      const t = r.train_step as any;
      const vs = (x: any, unit: string) =>
        x.ratio_best_vs_best !== undefined ? `; best vs best ${x.ratio_best_vs_best}x (${unit})` : '';
      console.log(`train step (batch ${v['train-batch'] ?? 4}): ${t.pacer_ms} ms${vs(t, 'time')}`);
      for (const [b, g] of Object.entries(r.generate as Record<string, any>))
        console.log(`generate batch ${b}: ${g.tokens_per_s} tokens/s${vs(g, 'tokens/s')}`);
      const lm = `language model ${r.language_model_ms} ms`;
      console.log(`one video: processor ${r.processor_ms} ms, vision tower ${r.vision_tower_ms} ms, ${lm}`);
      if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
    });
    return 0;
  },
});

export const benchPpoCmd = defineCommand({
  name: 'bench ppo',
  summary: 'one PPO update (CleanRL shapes) in pacer; --vs-pytorch compares with CleanRL in PyTorch',
  usage: 'pacer bench ppo [--envs CartPole-v1,Pendulum-v1] [--threads 1,2] [--runs 3] [--vs-pytorch] [--json]',
  description: `The update of CleanRL's ppo.py on CartPole (4 envs x 128 steps, 4 epochs x 4 minibatches) and of
ppo_continuous_action.py on Pendulum (2048 steps, 10 epochs x 32 minibatches): pacer's time/update_s (median
of a training run after two warm-up iterations) at each --threads, and with --vs-pytorch the same update as
CleanRL writes it (bench/pytorch_ppo.py) on a random rollout of the same shapes. ratio_best_vs_best is
PyTorch's fastest update time over pacer's fastest (above 1: pacer is faster). ${BEST}`,
  options: {
    envs: { type: 'string', arg: 'LIST', help: 'environments', default: Object.keys(PPO_CASES).join(',') },
    threads: { type: 'string', arg: 'LIST', help: 'pacer thread counts', default: '1,<cores>' },
    runs: { type: 'string', arg: 'N', help: 'runs per configuration', default: '3' },
    'vs-pytorch': common['vs-pytorch'],
    json: common.json,
  },
  async run(v) {
    const cores = availableParallelism();
    const envs = String(v.envs ?? Object.keys(PPO_CASES).join(',')).split(',');
    for (const e of envs)
      if (!(e in PPO_CASES))
        throw new UsageError(`--envs: no PPO case for '${e}' (${Object.keys(PPO_CASES).join(', ')})`);
    const r = await benchPpo({
      envs: envs as Array<keyof typeof PPO_CASES>,
      threads: intList(v.threads, 'threads', cores > 1 ? `1,${cores}` : '1'),
      runs: int(v.runs, 'runs', 3),
      vsPytorch: !!v['vs-pytorch'],
    });
    output(!!v.json, r, () => {
      for (const [id, x] of Object.entries(r.results as Record<string, any>)) {
        for (const [k, runs] of Object.entries(x.pacer as Record<string, any[]>))
          console.log(
            `${id} pacer ${k}: update ${runs.map((q) => q.update_ms).join(' / ')} ms; rollout ` +
              `${runs.map((q) => q.rollout_ms).join(' / ')} ms (${x.env_steps_per_update} env steps)`,
          );
        for (const p of x.pytorch ?? []) console.log(`${id} pytorch ${p.config}: update ${p.update_ms.join(' / ')} ms`);
        if (x.best_pytorch)
          console.log(
            `${id}: best pacer ${x.best_pacer.update_ms} ms (${x.best_pacer.config}), best pytorch ` +
              `${x.best_pytorch.update_ms} ms (${x.best_pytorch.config}), ratio_best_vs_best ${x.ratio_best_vs_best}x`,
          );
        if (x.pytorch_error) console.log(`${id} PyTorch: ${x.pytorch_error}`);
      }
    });
    return 0;
  },
});

export const benchEnvsCmd = defineCommand({
  name: 'bench envs',
  summary: 'environment steps/s (16 copies) against plain JavaScript loops of the same dynamics',
  usage: 'pacer bench envs [--envs LIST] [--num-envs 16] [--steps 20000] [--runs 3] [--json]',
  description: `pacer's vector environments (autoreset, seeding, the arrays Gymnasium's API returns every step)
against a plain loop of the same equations (no allocation, no validation), alternating, --runs times each:
env-steps per second of wall time and per CPU second (less skewed by other load on a shared machine).
ratio_best_vs_best and cpu_ratio_best_vs_best are pacer's best run over the loop's (1 = as fast as the
loop). LunarLander-v3 (planck) is timed alone.`,
  options: {
    envs: { type: 'string', arg: 'LIST', help: 'environments', default: 'all' },
    'num-envs': { type: 'string', arg: 'N', help: 'copies per vector', default: '16' },
    steps: { type: 'string', arg: 'N', help: 'vector steps per run', default: '20000' },
    runs: { type: 'string', arg: 'N', help: 'runs each', default: '3' },
    json: common.json,
  },
  run(v) {
    const envs = v.envs === undefined || v.envs === 'all' ? ENV_IDS : String(v.envs).split(',');
    for (const e of envs)
      if (!(ENV_IDS as readonly string[]).includes(e)) throw new UsageError(`--envs: unknown environment '${e}'`);
    const r = benchEnvs({
      envs: envs as EnvId[],
      numEnvs: int(v['num-envs'], 'num-envs', 16),
      steps: int(v.steps, 'steps', 20000),
      runs: int(v.runs, 'runs', 3),
    });
    const m = (xs: number[]) =>
      xs.map((x) => (x >= 1e5 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`)).join(' / ');
    output(!!v.json, r, () => {
      for (const [id, x] of Object.entries(r.results as Record<string, any>)) {
        const loop = id in PLAIN_LOOPS;
        console.log(
          `${id.padEnd(25)} pacer ${m(x.pacer_steps_per_s)} steps/s (${m(x.pacer_steps_per_cpu_s)} per CPU s)` +
            (loop
              ? `; plain loop ${m(x.plain_steps_per_s)} (${m(x.plain_steps_per_cpu_s)}); best vs best ` +
                `${x.ratio_best_vs_best} (CPU ${x.cpu_ratio_best_vs_best})`
              : ` (${x.plain})`),
        );
      }
    });
    return 0;
  },
});
