// The `pacer` command line. Each subcommand parses its own options (node:util parseArgs, strict)
// and explains itself with --help.
import { parseArgs } from 'node:util';
import { benchEngine } from './bench-engine.js';
import { runDemo, DEMO_DEFAULTS, DEMO_QUICK } from './demo.js';
import { runTextDemo } from './demo-text.js';
import { benchGenerate } from './bench-generate.js';
import { benchDpo } from './bench-dpo.js';
import { benchGrpo } from './bench-grpo.js';
import { cmdLogprobs, cmdGenerate } from './models.js';
import { loadConfig, trainWithStages } from '../trainers/index.js';
import { rewardsFromSpec } from '../rewards/index.js';
import { createRewardServer } from '../server/rewards.js';
import { createModelServer } from '../server/openai.js';
import { fromPretrained } from '../models/pretrained.js';
import { Tokenizer } from '../tokenizers/index.js';
import { setThreads } from '../engine/index.js';
import { DTYPES, type DType } from '../engine/index.js';

const MAIN_HELP = `pacer — post-training from rewards and preferences (libtorch engine)

usage: pacer <command> [options]

commands:
  demo                 train a tiny GPT on the bundled text and sample from it (what 'npm start' runs)
  train CONFIG.yaml    train with sft | reward | dpo | kto | orpo | cpo (TRL config names)
  serve model          serve a local HF model as OpenAI-compatible /v1/completions and /v1/chat/completions
  serve rewards        a reward server speaking OpenRLHF's /get_reward protocol (bearer token)
  logprobs             score completions with a local HF model: JSONL {prompt, completion} in, {logprob, tokens} out
  generate             sample from a local HF model (KV cache; greedy, temperature, top-k/p, min-p)
  bench engine         time a GPT-2-style training step; --vs-pytorch compares with PyTorch eager
  bench dpo            one DPO epoch through pacer train; --vs-pytorch compares with a plain PyTorch loop
  bench grpo           a GRPO step split into generation / scoring / training; --vs-pytorch adds a PyTorch step
  bench generate       decoding tokens/s at batch 1 and 16; --vs-pytorch compares with a PyTorch loop
  help [command]       this text, or a command's options

Run 'pacer <command> --help' for a command's options.`;

const BENCH_ENGINE_HELP = `pacer bench engine — GPT-2-architecture training step (fp32, CPU, AdamW lr 1e-4 wd 0.1)

usage: pacer bench engine [options]

  --vocab N        vocabulary size                 (default 512)
  --d-model N      embedding width                 (default 256)
  --layers N       transformer blocks              (default 4)
  --heads N        attention heads                 (default 4)
  --seq N          sequence length                 (default 128)
  --batch N        sequences per step              (default 8)
  --steps N        timed steps after 2 warm-up     (default 10)
  --threads LIST   thread counts, e.g. 1,2         (default: 1,<cores>)
  --seed N         random seed                     (default 0)
  --rounds N       alternate pacer/PyTorch N times and take medians (default 1)
  --vs-pytorch     also run the same model in PyTorch eager (needs python3-torch) and report the ratio
  --json           one JSON line per thread count (otherwise a readable summary)

Reports tokens/s, step time (median), parameters, threads, the BLAS in use, and MFU against the
best sgemm measured in the same command.`;

const DEMO_HELP = `pacer demo — the whole loop on arithmetic: SFT from scratch, GRPO with and without a
curriculum, DPO on the model's own samples, held-out evaluation, report (npm start runs this)

usage: pacer demo [--out runs/demo] [--seed 0] [--threads N] [--curriculum sec] [--sft-steps 1500]
                  [--grpo-steps 200] [--quick] [--no-progress]
       pacer demo text [--steps 600] [--out runs/demo-gpt]   (a tiny GPT learns the bundled text)

A tiny Llama learns column arithmetic ("27+05=032") at five levels from a teacher who forgets
carries and borrows 60% of the time; GRPO (exact-answer reward) runs twice from it on the same
prompts — uniform sampling and a curriculum over the levels — and DPO trains on pairs of its own
right and wrong answers. About 3-4 minutes on 2 cores. Writes OUT/summary.json (accuracy.sft,
accuracy.grpo, accuracy.dpo, steps_to_target.curriculum, steps_to_target.uniform, per-level
accuracy, curves), OUT/report.html, and each run's folder (model, metrics.jsonl) under OUT.

  --curriculum S  sec (default), dump, vcrl, balanced, staged, adarft or uniform
  --quick         a tiny configuration that runs in seconds (for smoke tests; numbers mean nothing)`;

const LOGPROBS_HELP = `pacer logprobs — sum of log p(completion tokens | prompt) per line

usage: pacer logprobs --model DIR --data FILE.jsonl [--batch-size 8] [--dtype float32] [--threads N]

  --model DIR        a local Hugging Face folder (config.json, model.safetensors, tokenizer.json)
  --data FILE        JSON lines {"prompt": "...", "completion": "..."}, or conversational lines
                     whose prompt and completion are lists of {"role", "content"} messages
  --batch-size N     lines per forward pass (results do not depend on it)
  --dtype D          float32 (default), bfloat16 or float16

Writes one line per input, in order: {"logprob": <sum>, "tokens": <completion token count>}.
Prompt and completion are tokenized separately (the prompt with the tokenizer's own special
tokens, e.g. BOS) and concatenated; conversational lines go through the chat template.`;

const GENERATE_HELP = `pacer generate — continue prompts with a local Hugging Face model

usage: pacer generate --model DIR --prompt TEXT [--prompt TEXT ...] [options]

  --max-new-tokens N   (default 64)        --temperature T   (sampling; omit for greedy)
  --top-k K   --top-p P   --min-p P         --seed N          (default 0)
  --stop STR           stop string (repeatable)
  --chat               wrap each prompt as a user message with the chat template
  --dtype D            float32 | bfloat16 | float16         --json  one JSON line per prompt
                       (with tokens and per-token log-probs)`;

const BENCH_GENERATE_HELP = `pacer bench generate — greedy decoding throughput with a KV cache

usage: pacer bench generate [--batches 1,16] [--prompt-len 32] [--new-tokens 64] [--hidden 256]
                            [--layers 4] [--heads 8] [--kv-heads 4] [--vocab 4096] [--threads N]
                            [--repeats 3] [--seed 0] [--vs-pytorch] [--json]

A random Llama-architecture model; tokens/s per batch size (median of --repeats). With
--vs-pytorch the same checkpoint runs in a PyTorch reference loop (bench/pytorch_generate.py) in
the same command, and the generated tokens are compared.`;

const TRAIN_HELP = `pacer train — training from a YAML config with TRL's argument names

usage: pacer train CONFIG.yaml [--set key=value ...] [--no-progress]

The config names a trainer and its data, e.g.

  trainer: dpo                          # sft | reward | dpo | kto | orpo | cpo
  model_name_or_path: path/to/hf-model  # a local Hugging Face folder
  train_dataset: data/train.jsonl       # .jsonl or .parquet in a TRL format
  eval_dataset: data/eval.jsonl         # optional
  output_dir: runs/dpo
  learning_rate: 5.0e-6                 # 0 = evaluation-only pass
  beta: 0.1
  loss_type: sigmoid                    # or a list, with loss_weights
  per_device_train_batch_size: 8
  gradient_accumulation_steps: 1
  max_steps: 200                        # or num_train_epochs
  logging_steps: 10
  save_steps: 50
  resume_from_checkpoint: true          # continue from the newest checkpoint in output_dir
  use_peft: false                       # LoRA: lora_r, lora_alpha, lora_dropout, lora_target_modules
  curriculum: {type: curry, by: difficulty, pacing: root}
  stages: [{train_dataset: easy.jsonl}, {train_dataset: hard.jsonl}]

Online RL (trainer: grpo | rloo | reg_grpo | raft | online_dpo) on prompt-only data:

  trainer: grpo
  train_dataset: prompts.jsonl          # {"prompt": ..., "answer": ..., "level": ...}
  reward_funcs: [accuracy, "overlong:max_length=64:cache=16"]   # or remote:url=http://…/get_reward
  num_generations: 8                    # per_device_train_batch_size = prompts x num_generations
  loss_type: dapo                       # grpo | bnpo | dr_grpo | dapo; beta, epsilon, epsilon_high
  curriculum_sampler: sec               # uniform | staged | sec | dump | adarft | balanced | vcrl
  difficulty_column: level
  augmentation: difficulty_aware        # optional (DeepVideo-R1): hints for hard, noise for easy
  rollout_server_url: http://host:8001  # optional: OpenAI-compatible rollouts with weight sync

Writes output_dir/metrics.jsonl (TRL metric names), checkpoint-N/ folders, the trained model in HF
layout (or a PEFT adapter), train_results.json and report.html. Unknown or contradictory keys are
rejected before training starts. --set overrides a key (values parsed as YAML).`;

function dtypeOpt(v: string | undefined): DType {
  const d = (v ?? 'float32') as DType;
  if (!DTYPES.includes(d)) throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}, got '${v}'`);
  return d;
}

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

function int(v: string | undefined, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export class UsageError extends Error {}

async function cmdBenchEngine(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      vocab: { type: 'string' },
      'd-model': { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      seq: { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      rounds: { type: 'string' },
      'vs-pytorch': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BENCH_ENGINE_HELP);
    return 0;
  }
  const cores = (await import('node:os')).availableParallelism();
  const threadList = (values.threads ?? (cores > 1 ? `1,${cores}` : '1'))
    .split(',')
    .map((t) => int(t.trim(), 'threads', 1));
  const base = {
    vocab: int(values.vocab, 'vocab', 512),
    dModel: int(values['d-model'], 'd-model', 256),
    layers: int(values.layers, 'layers', 4),
    heads: int(values.heads, 'heads', 4),
    seq: int(values.seq, 'seq', 128),
    batch: int(values.batch, 'batch', 8),
    steps: int(values.steps, 'steps', 10),
    seed: int(values.seed, 'seed', 0, 0),
    rounds: int(values.rounds, 'rounds', 1),
    vsPytorch: !!values['vs-pytorch'],
    progress: !values.json || process.stderr.isTTY === true,
  };
  if (base.dModel % base.heads !== 0)
    throw new UsageError(`--d-model (${base.dModel}) must be divisible by --heads (${base.heads})`);
  for (const threads of threadList) {
    const r = benchEngine({ ...base, threads });
    if (values.json) console.log(JSON.stringify(r));
    else {
      console.log(
        `threads ${r.threads} (BLAS ${r.blas_threads}): ${r.tokens_per_s} tokens/s, ${r.step_ms} ms/step, ${r.params} params, MFU ${(Number(r.mfu) * 100).toFixed(1)}% of ${r.sgemm_best_gflops} GFLOP/s sgemm`,
      );
      if (r.pytorch) {
        const p = r.pytorch as any;
        console.log(
          `  PyTorch ${p.torch}: ${p.tokens_per_s} tokens/s, ${p.step_ms} ms/step -> pacer/PyTorch ${r.ratio_vs_pytorch}x`,
        );
      }
      if (r.pytorch_error) console.log(`  PyTorch: ${r.pytorch_error}`);
      console.log(`  BLAS: ${r.blas}`);
    }
  }
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const text = argv[0] === 'text';
  const { values } = parseArgs({
    args: text ? argv.slice(1) : argv,
    options: {
      steps: { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      curriculum: { type: 'string' },
      'sft-steps': { type: 'string' },
      'grpo-steps': { type: 'string' },
      quick: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const cores = (await import('node:os')).availableParallelism();
  const threads = int(values.threads, 'threads', cores),
    seed = int(values.seed, 'seed', 0, 0);
  if (text) {
    await runTextDemo({ steps: int(values.steps, 'steps', 600), threads, seed, out: values.out ?? 'runs/demo-gpt' });
    return 0;
  }
  if (values.steps !== undefined)
    throw new UsageError(
      '--steps belongs to `pacer demo text`; the arithmetic demo takes --sft-steps and --grpo-steps',
    );
  const curricula = ['sec', 'dump', 'vcrl', 'balanced', 'staged', 'adarft', 'uniform'];
  if (values.curriculum !== undefined && !curricula.includes(values.curriculum))
    throw new UsageError(`--curriculum must be one of ${curricula.join(', ')}`);
  const base = values.quick ? { ...DEMO_DEFAULTS, ...DEMO_QUICK } : DEMO_DEFAULTS;
  await runDemo({
    ...base,
    out: values.out ?? 'runs/demo',
    seed,
    threads,
    progress: !values['no-progress'],
    curriculum: values.curriculum ?? base.curriculum,
    sftSteps: int(values['sft-steps'], 'sft-steps', base.sftSteps),
    grpoSteps: int(values['grpo-steps'], 'grpo-steps', base.grpoSteps),
  });
  return 0;
}

async function cmdLogprobsCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      'batch-size': { type: 'string' },
      dtype: { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(LOGPROBS_HELP);
    return 0;
  }
  if (!values.model || !values.data) throw new UsageError('logprobs needs --model DIR and --data FILE.jsonl');
  const cores = (await import('node:os')).availableParallelism();
  cmdLogprobs({
    model: values.model,
    data: values.data,
    batchSize: int(values['batch-size'], 'batch-size', 8),
    dtype: dtypeOpt(values.dtype),
    threads: int(values.threads, 'threads', cores),
  });
  return 0;
}

async function cmdGenerateCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      prompt: { type: 'string', multiple: true },
      chat: { type: 'boolean' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      'min-p': { type: 'string' },
      seed: { type: 'string' },
      stop: { type: 'string', multiple: true },
      dtype: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(GENERATE_HELP);
    return 0;
  }
  if (!values.model || !values.prompt?.length)
    throw new UsageError('generate needs --model DIR and at least one --prompt TEXT');
  const cores = (await import('node:os')).availableParallelism();
  cmdGenerate({
    model: values.model,
    prompts: values.prompt,
    chat: !!values.chat,
    maxNewTokens: int(values['max-new-tokens'], 'max-new-tokens', 64, 0),
    temperature: num(values.temperature, 'temperature'),
    topK: values['top-k'] === undefined ? undefined : int(values['top-k'], 'top-k', 0, 0),
    topP: num(values['top-p'], 'top-p'),
    minP: num(values['min-p'], 'min-p'),
    seed: int(values.seed, 'seed', 0, 0),
    stop: values.stop ?? [],
    dtype: dtypeOpt(values.dtype),
    threads: int(values.threads, 'threads', cores),
    json: !!values.json,
  });
  return 0;
}

const BENCH_DPO_HELP = `pacer bench dpo — wall time of one DPO epoch (pacer train) on a random Llama model

usage: pacer bench dpo [--pairs 64] [--batch 8] [--hidden 256] [--layers 4] [--threads N] [--seed 0]
                       [--vs-pytorch] [--json]

With --vs-pytorch the same epoch runs as a straightforward PyTorch loop (bench/pytorch_dpo.py:
policy and reference forwards per pair, no caching) in the same command; wall_time_ratio is
pacer's time over PyTorch's (lower is better), and first_loss_agrees checks both start alike.`;

async function cmdBenchDpo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pairs: { type: 'string' },
      batch: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      'vs-pytorch': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BENCH_DPO_HELP);
    return 0;
  }
  const cores = (await import('node:os')).availableParallelism();
  const hidden = int(values.hidden, 'hidden', 256);
  if (hidden % 8 !== 0) throw new UsageError('--hidden must be a multiple of 8');
  const r = await benchDpo({
    pairs: int(values.pairs, 'pairs', 64),
    batch: int(values.batch, 'batch', 8),
    hidden,
    layers: int(values.layers, 'layers', 4),
    threads: int(values.threads, 'threads', cores),
    seed: int(values.seed, 'seed', 0, 0),
    vsPytorch: !!values['vs-pytorch'],
  });
  if (values.json) console.log(JSON.stringify(r));
  else {
    console.log(`pacer: ${r.seconds} s for ${r.pairs} pairs (${r.steps} steps, ${r.threads} threads)`);
    if (r.pytorch)
      console.log(
        `PyTorch: ${(r.pytorch as any).seconds} s -> wall-time ratio ${r.wall_time_ratio} (first losses agree: ${r.first_loss_agrees})`,
      );
    if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
  }
  return 0;
}

const BENCH_GRPO_HELP = `pacer bench grpo — time of a GRPO step through the online trainer, split as the trainer logs it

usage: pacer bench grpo [--steps 5] [--prompts 8] [--generations 8] [--new-tokens 32] [--hidden 256]
                        [--layers 4] [--beta 0] [--threads N] [--seed 0] [--vs-pytorch] [--json]

A random Llama (the fixture byte-level tokenizer) is trained for steps + 1 GRPO steps (dapo loss,
accuracy reward on arithmetic prompts, temperature 1); the first step warms up. Each part is the
median over the measured steps: generation (sampling prompts x generations completions with the KV
cache), scoring (decoding + rewards), training (advantages, forward/backward, clipping, AdamW; a
reference forward too when --beta > 0). With --vs-pytorch the same step runs in a plain PyTorch
loop (bench/pytorch_grpo.py) in the same command; time_ratio_vs_pytorch is pacer's seconds over
PyTorch's per part (lower is better).`;

async function cmdBenchGrpo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: 'string' },
      prompts: { type: 'string' },
      generations: { type: 'string' },
      'new-tokens': { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      beta: { type: 'string' },
      threads: { type: 'string' },
      seed: { type: 'string' },
      'vs-pytorch': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BENCH_GRPO_HELP);
    return 0;
  }
  const cores = (await import('node:os')).availableParallelism();
  const hidden = int(values.hidden, 'hidden', 256);
  if (hidden % 8 !== 0) throw new UsageError('--hidden must be a multiple of 8');
  const beta = values.beta === undefined ? 0 : Number(values.beta);
  if (!(beta >= 0)) throw new UsageError(`--beta must be a number >= 0, got '${values.beta}'`);
  const r = await benchGrpo({
    steps: int(values.steps, 'steps', 5),
    prompts: int(values.prompts, 'prompts', 8),
    generations: int(values.generations, 'generations', 8),
    newTokens: int(values['new-tokens'], 'new-tokens', 32),
    hidden,
    layers: int(values.layers, 'layers', 4),
    beta,
    threads: int(values.threads, 'threads', cores),
    seed: int(values.seed, 'seed', 0, 0),
    vsPytorch: !!values['vs-pytorch'],
  });
  if (values.json) console.log(JSON.stringify(r));
  else {
    const show = (name: string, x: any) =>
      console.log(
        `${name}: step ${x.step_s} s = generation ${x.generation_s} + scoring ${x.scoring_s} + training ${x.training_s} (completions ${x.completion_mean_length} tokens)`,
      );
    show('pacer  ', r.pacer);
    if (r.pytorch) {
      show('PyTorch', r.pytorch);
      console.log(`time ratio pacer/PyTorch: ${JSON.stringify(r.time_ratio_vs_pytorch)}`);
    }
    if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
  }
  return 0;
}

async function cmdBenchGenerate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      batches: { type: 'string' },
      'prompt-len': { type: 'string' },
      'new-tokens': { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      vocab: { type: 'string' },
      threads: { type: 'string' },
      repeats: { type: 'string' },
      seed: { type: 'string' },
      'vs-pytorch': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BENCH_GENERATE_HELP);
    return 0;
  }
  const cores = (await import('node:os')).availableParallelism();
  const o = {
    batches: (values.batches ?? '1,16').split(',').map((b) => int(b.trim(), 'batches', 1)),
    promptLen: int(values['prompt-len'], 'prompt-len', 32),
    newTokens: int(values['new-tokens'], 'new-tokens', 64),
    hidden: int(values.hidden, 'hidden', 256),
    layers: int(values.layers, 'layers', 4),
    heads: int(values.heads, 'heads', 8),
    kvHeads: int(values['kv-heads'], 'kv-heads', 4),
    vocab: int(values.vocab, 'vocab', 4096),
    threads: int(values.threads, 'threads', cores),
    repeats: int(values.repeats, 'repeats', 3),
    seed: int(values.seed, 'seed', 0, 0),
    vsPytorch: !!values['vs-pytorch'],
  };
  if (o.hidden % o.heads !== 0 || o.heads % o.kvHeads !== 0)
    throw new UsageError('--hidden must be divisible by --heads, and --heads by --kv-heads');
  const r = benchGenerate(o);
  if (values.json) console.log(JSON.stringify(r));
  else {
    for (const [b, x] of Object.entries(r.results as Record<string, any>))
      console.log(
        `batch ${b}: ${x.tokens_per_s} tokens/s${x.pytorch_tokens_per_s ? `, PyTorch ${x.pytorch_tokens_per_s} -> ${x.ratio_vs_pytorch}x (same tokens: ${x.same_tokens_as_pytorch})` : ''}`,
      );
    if (r.pytorch_error) console.log(`PyTorch: ${r.pytorch_error}`);
  }
  return 0;
}

const SERVE_REWARDS_HELP = `pacer serve rewards — verifiable rewards over HTTP (OpenRLHF remote reward protocol)

usage: pacer serve rewards --reward NAME[,NAME…] [--weights W,…] --port P --token T [--host 127.0.0.1]
                           [--concurrency 4] [--timeout-ms 10000] [--on-error skip|zero]
                           [--aggregation weighted_sum|normalized|log_tamed]

POST /get_reward {"query": [prompt+response…], "prompts": [...], "labels": [...]} with
"Authorization: Bearer T" answers {"rewards": [...], "scores": [...], "extra_logs": {...}}.
Labels reach the rewards as the 'answer' column. Rewards: accuracy, exact_match, multiple_choice,
think_answer, reasoning_pattern, length:budget=N, overlong:max_length=N:cache=M, iou, temporal_iou,
gaussian_point, partial_match, hierarchical. The token may also come from PACER_TOKEN.`;

const SERVE_MODEL_HELP = `pacer serve model — a local HF model behind the OpenAI API

usage: pacer serve model --model DIR [--port 8000] [--host 127.0.0.1] [--token T] [--dtype float32] [--threads N]

POST /v1/completions ({"prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "stop",
"seed", "logprobs": 1}) and POST /v1/chat/completions ({"messages", …, "logprobs": true}) answer in
OpenAI's format with per-token log-probs; GET /v1/models lists the model. temperature 0 is greedy.
With --token (or PACER_TOKEN) every request needs "Authorization: Bearer T".`;

async function listenUntilSignal(
  server: import('node:http').Server,
  port: number,
  host: string,
  info: Record<string, unknown>,
): Promise<void> {
  await new Promise<void>((r) => server.listen(port, host, r));
  const addr = server.address();
  console.log(JSON.stringify({ ...info, port: typeof addr === 'object' && addr ? addr.port : port, host }));
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  server.close();
}

async function cmdServe(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === 'model') {
    const { values } = parseArgs({
      args: rest,
      options: {
        model: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        dtype: { type: 'string' },
        threads: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(SERVE_MODEL_HELP);
      return 0;
    }
    if (!values.model) throw new UsageError('serve model needs --model DIR');
    const cores = (await import('node:os')).availableParallelism();
    setThreads(int(values.threads, 'threads', cores));
    const tokenizer = Tokenizer.fromPretrained(values.model);
    const { model } = fromPretrained(values.model, { dtype: dtypeOpt(values.dtype) });
    const server = createModelServer({
      model,
      tokenizer,
      modelName: values.model.replace(/\/$/, '').split('/').pop() ?? 'pacer',
      token: values.token ?? process.env.PACER_TOKEN,
    });
    const host = values.host ?? '127.0.0.1';
    await listenUntilSignal(server, int(values.port, 'port', 8000, 0), host, {
      serving: values.model,
      url: `http://${host}`,
    });
    return 0;
  }
  if (what !== 'rewards') throw new UsageError(`unknown server '${what ?? ''}' (available: model, rewards)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      reward: { type: 'string' },
      weights: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      concurrency: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'on-error': { type: 'string' },
      aggregation: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(SERVE_REWARDS_HELP);
    return 0;
  }
  if (!values.reward) throw new UsageError('serve rewards needs --reward NAME[,NAME…]');
  const token = values.token ?? process.env.PACER_TOKEN;
  if (!token)
    throw new UsageError(
      'serve rewards needs --token T (or PACER_TOKEN): requests must carry "Authorization: Bearer T"',
    );
  const onError = (values['on-error'] ?? 'skip') as 'skip' | 'zero';
  if (!['skip', 'zero'].includes(onError)) throw new UsageError(`--on-error must be skip or zero`);
  const aggregation = (values.aggregation ?? 'weighted_sum') as 'weighted_sum';
  if (!['weighted_sum', 'normalized', 'log_tamed'].includes(aggregation))
    throw new UsageError('--aggregation must be weighted_sum, normalized or log_tamed');
  let rewards: ReturnType<typeof rewardsFromSpec>;
  try {
    rewards = rewardsFromSpec(values.reward, values.weights ? values.weights.split(',').map(Number) : undefined);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
  }
  const port = int(values.port, 'port', 8000, 0);
  const host = values.host ?? '127.0.0.1';
  const server = createRewardServer({
    rewards,
    token,
    maxConcurrency: int(values.concurrency, 'concurrency', 4),
    timeoutMs: int(values['timeout-ms'], 'timeout-ms', 10000),
    onError,
    aggregation,
    log: (s) => console.error(s),
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  const addr = server.address();
  console.log(
    JSON.stringify({
      listening: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/get_reward`,
      rewards: rewards.map((r) => r.name),
    }),
  );
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  server.close();
  return 0;
}

async function cmdTrain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      set: { type: 'string', multiple: true },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('train needs exactly one CONFIG.yaml');
  const { parse } = await import('yaml');
  const overrides: Record<string, unknown> = {};
  for (const kv of values.set ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--set expects key=value, got '${kv}'`);
    overrides[kv.slice(0, i)] = parse(kv.slice(i + 1));
  }
  const cfg = loadConfig(positionals[0], overrides);
  const results = await trainWithStages(cfg, { progress: !values['no-progress'] });
  const last = results[results.length - 1];
  console.log(
    JSON.stringify({
      output_dir: last.outputDir,
      global_step: last.globalStep,
      final: last.finalMetrics,
      eval: last.evalMetrics,
    }),
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      const sub = rest.join(' ');
      const helps: Record<string, string> = {
        'serve model': SERVE_MODEL_HELP,
        'serve rewards': SERVE_REWARDS_HELP,
        train: TRAIN_HELP,
        'bench dpo': BENCH_DPO_HELP,
        'bench grpo': BENCH_GRPO_HELP,
        'bench engine': BENCH_ENGINE_HELP,
        'bench generate': BENCH_GENERATE_HELP,
        demo: DEMO_HELP,
        logprobs: LOGPROBS_HELP,
        generate: GENERATE_HELP,
      };
      console.log(helps[sub] ?? MAIN_HELP);
      return 0;
    }
    if (cmd === 'demo') return await cmdDemo(rest);
    if (cmd === 'logprobs') return await cmdLogprobsCli(rest);
    if (cmd === 'train') return await cmdTrain(rest);
    if (cmd === 'serve') return await cmdServe(rest);
    if (cmd === 'generate') return await cmdGenerateCli(rest);
    if (cmd === 'bench') {
      const [what, ...opts] = rest;
      if (what === 'engine') return await cmdBenchEngine(opts);
      if (what === 'generate') return await cmdBenchGenerate(opts);
      if (what === 'dpo') return await cmdBenchDpo(opts);
      if (what === 'grpo') return await cmdBenchGrpo(opts);
      throw new UsageError(`unknown benchmark '${what ?? ''}' (available: engine, generate, dpo, grpo)`);
    }
    throw new UsageError(`unknown command '${cmd}'`);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (
      e instanceof UsageError ||
      err.code?.startsWith('ERR_PARSE_ARGS') ||
      err.name === 'ConfigError' ||
      e?.constructor?.name === 'ConfigError'
    ) {
      console.error(`pacer: ${err.message}\nRun 'pacer --help' (or 'pacer ${cmd} --help') for usage.`);
      return 2;
    }
    console.error(err.message.startsWith('pacer') ? err.message : `pacer: ${err.message}`);
    if (process.env.PACER_DEBUG) console.error(err.stack);
    return 1;
  }
}
