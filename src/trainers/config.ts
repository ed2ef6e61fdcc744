// One typed config per trainer, from one spec (as TRL's SFTConfig, DPOConfig, GRPOConfig … dataclasses
// with `metadata={"help": …}`): every key has its type, default, one-line doc, range and the
// trainers that read it. A trainer accepts exactly the keys it reads; any other key is an error
// naming the key, the trainer and the closest valid key. Keys that act only under a condition
// (lora_r needs use_peft) are refused when the condition is off. Nested options (curriculum_options,
// reward options, augmentation_options, curriculum, stages) are validated when the config loads.
// `pacer train --help-config TRAINER` prints the documented keys.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import { ConfigError } from '../util/errors.js';
import { closest, k, specHelp, validateOptions, when, withDefaults } from '../util/spec.js';
import type { KeySpec, Spec, ValuesOf } from '../util/spec.js';
import {
  DPO_LOSS_TYPES,
  F_DIVERGENCES,
  CPO_LOSS_TYPES,
  GRPO_LOSS_TYPES,
  validateDPOOptions,
} from '../objectives/index.js';
import { SAMPLERS, samplerNames, samplerOptions, type SamplerName } from '../curriculum/online.js';
import { parseCurriculum } from '../curriculum/offline.js';
import { augmentOptions } from '../curriculum/augment.js';
import { loadTaxonomy, parseRewardSpec, REWARDS, rewardOptions } from '../rewards/index.js';
import { resolveDatasetPath } from '../data/schemes.js';
import { ENV_IDS, makeEnv, type EnvId } from '../envs/index.js';
import { resolvePPOOptions, type PPOControlOptions } from './ppo-control.js';
import { answererNames } from '../video/answerers.js';
import { SELECT_MODES } from '../video/sampler-agent.js';
import '../video/vlm-answerer.js'; // registers the vlm answerer

export { ConfigError };

export const TRAINERS = [
  'sft',
  'ift',
  'reward',
  'dpo',
  'kto',
  'orpo',
  'cpo',
  'grpo',
  'rloo',
  'reg_grpo',
  'raft',
  'online_dpo',
  'ppo',
  'ppo_env',
  'tspo',
] as const;
export type TrainerName = (typeof TRAINERS)[number];
export const ONLINE_TRAINERS: readonly TrainerName[] = ['grpo', 'rloo', 'reg_grpo', 'raft', 'online_dpo', 'ppo'];
/** Trainers of control policies on environments (no language model). */
export const ENV_TRAINERS: readonly TrainerName[] = ['ppo_env'];
export const isEnvTrainer = (t: string) => (ENV_TRAINERS as readonly string[]).includes(t);
export const isOnline = (t: string) => (ONLINE_TRAINERS as readonly string[]).includes(t);

type C = Record<string, unknown>;
const isList = (v: unknown, item: 'number' | 'string') => Array.isArray(v) && v.every((x) => typeof x === item);
const listOrOne = (item: 'number' | 'string') => (v: unknown) =>
  typeof v === item || isList(v, item) ? null : `must be a ${item} or a list of ${item}s, got ${JSON.stringify(v)}`;

// ---- keys every trainer reads (TRL's TrainingArguments names)
const RUN = {
  model_name_or_path: k.path('the model to train: a local Hugging Face folder'),
  train_dataset: k.path('training data: .jsonl or .parquet in a TRL format, or studio:PROJECT_DIR'),
  eval_dataset: k.pathOrNull(null, 'evaluation data in the same format (evaluated every eval_steps and at the end)'),
  max_line_bytes: k.int(16 * 2 ** 20, 'longest dataset line in bytes; a longer line is an error naming file and line', {
    min: 1,
  }),
  output_dir: k.path('where metrics, checkpoints, the model and the report are written'),
  overwrite_output_dir: k.bool(
    false,
    'start a fresh run in an output_dir that holds another run (its checkpoints and metrics are removed)',
  ),
  learning_rate: k.num(1e-6, 'initial AdamW learning rate (0 runs an evaluation-only pass)', { min: 0 }),
  per_device_train_batch_size: k.int(8, 'examples per micro-batch (online: completions, prompts x num_generations)', {
    min: 1,
  }),
  per_device_eval_batch_size: when(
    k.int(8, 'examples per evaluation batch (also reference log-prob batches)', { min: 1 }),
    (c) => c.eval_dataset !== null || c.trainer === 'dpo' || c.trainer === 'kto',
    'eval_dataset (or a reference model)',
  ),
  gradient_accumulation_steps: k.int(1, 'micro-batches accumulated into one optimizer step', { min: 1 }),
  max_steps: {
    ...k.int(-1, 'optimizer steps to run; -1 runs num_train_epochs', { min: -1 }),
    check: (v: number) => (v === 0 ? 'must be a positive integer or -1 (use num_train_epochs)' : null),
  },
  num_train_epochs: when(
    k.num(3, 'passes over the training data when max_steps is -1', { gt: 0 }),
    (c) => c.max_steps === -1,
    'max_steps: -1',
  ),
  logging_steps: k.int(10, 'log metrics every N steps (and the last)', { min: 1 }),
  save_steps: k.int(500, 'write a checkpoint every N steps', { min: 1 }),
  save_total_limit: k.intOrNull(null, 'keep only the newest N checkpoints', { min: 1 }),
  eval_strategy: k.choice(['no', 'steps'], 'no', "'steps': evaluate every eval_steps"),
  eval_steps: when(
    k.intOrNull(null, 'evaluate every N steps (default: logging_steps)', { min: 1 }),
    (c) => c.eval_strategy === 'steps',
    'eval_strategy: steps',
  ),
  seed: k.int(42, 'random seed (weights init of new heads, data order, sampling)', { min: 0 }),
  lr_scheduler_type: k.choice(['constant', 'constant_with_warmup', 'linear', 'cosine'], 'linear', 'schedule'),
  warmup_ratio: when(
    k.num(0, 'warm-up as a fraction of the steps', { min: 0, lt: 1 }),
    (c) => c.warmup_steps === 0,
    'warmup_steps: 0 (warmup_steps overrides it)',
  ),
  warmup_steps: k.int(0, 'linear warm-up steps', { min: 0 }),
  weight_decay: k.num(0, 'AdamW weight decay (not on biases and norms)', { min: 0 }),
  adam_beta1: k.num(0.9, 'AdamW beta1', { min: 0, lt: 1 }),
  adam_beta2: k.num(0.999, 'AdamW beta2', { min: 0, lt: 1 }),
  adam_epsilon: k.num(1e-8, 'AdamW epsilon', { gt: 0 }),
  max_grad_norm: k.num(1, 'clip the global gradient norm to this (0: no clipping)', { min: 0 }),
  resume_from_checkpoint: k.any<boolean | string | null>(
    'any',
    null,
    'true: continue from the newest checkpoint in output_dir; or a checkpoint folder',
    (v) => (v === null || typeof v === 'boolean' || typeof v === 'string' ? null : 'must be true, false or a path'),
  ),
  dtype: k.choice(['float32', 'bfloat16', 'float16'], 'float32', 'weights dtype after loading'),
  bf16: k.bool(
    false,
    'mixed precision: training steps and evaluation under bfloat16 autocast; weights (the master copy) keep dtype',
  ),
  threads: k.intOrNull(null, 'CPU threads (default: all cores, shared out among the workers on a node)', { min: 1 }),
  report: k.bool(true, 'write report.html'),
  stages: k.any<Array<Record<string, unknown>> | null>(
    'list',
    null,
    'a list of overrides; stage k trains from stage k-1 into output_dir/stage-k (TEMPLE r16 -> r2)',
    (v) =>
      v === null ||
      (Array.isArray(v) && v.length > 0 && v.every((s) => s && typeof s === 'object' && !Array.isArray(s)))
        ? null
        : 'must be a non-empty list of mappings of overrides',
  ),
};

// ---- LoRA, as TRL's ModelConfig
const peftOn = (c: C) => c.use_peft === true;
const PEFT = {
  use_peft: k.bool(false, 'train LoRA adapters (PEFT layout) instead of all weights'),
  lora_r: when(k.int(16, 'LoRA rank', { min: 1 }), peftOn, 'use_peft: true'),
  lora_alpha: when(k.num(32, 'LoRA scaling numerator (scale = alpha / r)', { gt: 0 }), peftOn, 'use_peft: true'),
  lora_dropout: when(k.num(0.05, 'dropout on the LoRA input', { min: 0, lt: 1 }), peftOn, 'use_peft: true'),
  lora_target_modules: when(
    k.any<string[] | string | null>('any', null, "module names to adapt (default: the architecture's)", (v) =>
      v === null ? null : listOrOne('string')(v),
    ),
    peftOn,
    'use_peft: true',
  ),
};

// ---- images and videos (TRL's vision datasets on Qwen2-VL / Qwen2.5-VL; src/trainers/vision.ts)
const agentOn = (c: C) => c.frame_agent !== null && c.frame_agent !== undefined;
const VISION = {
  video_fps: k.num(2, "frames per second sampled from video files (frame folders: their rate); a part's fps wins", {
    gt: 0,
  }),
  video_max_frames: k.int(768, 'at most this many frames per video file (qwen-vl-utils FPS_MAX_FRAMES)', { min: 2 }),
  video_max_pixels: k.intOrNull(
    null,
    "pixels per video frame after resizing, at most (default: the model's video_preprocessor_config.json)",
    { min: 1 },
  ),
  freeze_vision_tower: when(
    k.bool(false, 'keep the vision tower (patch embedding and blocks) fixed'),
    (c) => c.use_peft !== true,
    'use_peft: false (with LoRA the base weights are fixed; see lora_vision_tower)',
  ),
  freeze_merger: when(
    k.bool(false, 'keep the vision merger (the projection into the language model) fixed'),
    (c) => c.use_peft !== true,
    'use_peft: false',
  ),
  lora_vision_tower: when(
    k.bool(false, 'LoRA on the vision blocks too (default targets: the language model only)'),
    peftOn,
    'use_peft: true',
  ),
  frame_agent: k.pathOrNull(
    null,
    "a trained TSPO agent (trainer: tspo's output_dir) picks each video file's frames from the row's question " +
      'instead of video_fps sampling (a frame folder is an error, as with pacer generate --frame-agent)',
  ),
  frame_agent_k: when(
    k.intOrNull(null, "frames the agent picks per video (default: the agent's num_frames)", { min: 1 }),
    agentOn,
    'frame_agent',
  ),
  frame_agent_mode: when(
    k.choiceOrNull(SELECT_MODES, null, "the agent's selection, topk or bin-max (default: the agent's)"),
    agentOn,
    'frame_agent',
  ),
};

// ---- offline data
const OFFLINE = {
  max_length: k.intOrNull(1024, 'tokens per sequence (prompt + completion); longer completions are cut', { min: 1 }),
  max_prompt_length: k.intOrNull(512, 'prompt tokens kept (from the end) before max_length applies', { min: 1 }),
  shuffle: when(k.bool(true, 'shuffle every epoch (seeded)'), (c) => c.curriculum === null, 'no curriculum'),
  curriculum: k.any<Record<string, unknown> | null>(
    'map',
    null,
    'Curry-DPO ordering and pacing: {type: curry, by: difficulty|reference_margin, pacing, start_fraction, full_at}',
  ),
};

const REFERENCE = {
  ref_model_name_or_path: k.pathOrNull(null, 'the reference model (default: the model itself before training)'),
  precompute_ref_log_probs: k.bool(true, 'compute reference log-probs once before training (false: every batch)'),
};
const noRefFree = (c: C) => c.reference_free !== true;

const DPO = {
  ...REFERENCE,
  ref_model_name_or_path: when(REFERENCE.ref_model_name_or_path, noRefFree, 'reference_free: false'),
  precompute_ref_log_probs: when(REFERENCE.precompute_ref_log_probs, noRefFree, 'reference_free: false'),
  beta: k.num(0.1, 'the DPO temperature beta', { gt: 0 }),
  loss_type: k.any<string[] | string>(
    'any',
    ['sigmoid'],
    `one or a list of: ${DPO_LOSS_TYPES.join(', ')}`,
    listOrOne('string'),
  ),
  loss_weights: k.any<number[] | null>('list', null, 'weights of the loss types (one per loss_type)', (v) =>
    v === null || isList(v, 'number') ? null : 'must be a list of numbers',
  ),
  label_smoothing: k.num(0, 'cDPO/robust label smoothing epsilon', { min: 0, lt: 0.5 }),
  rpo_alpha: k.numOrNull(null, 'weight of an NLL term on the chosen completions (RPO/IRPO)', { min: 0 }),
  f_divergence_type: k.choice(F_DIVERGENCES, 'reverse_kl', 'the f-divergence of f-DPO'),
  f_alpha_divergence_coef: when(
    k.num(1, 'alpha of the alpha-divergence', { gt: 0 }),
    (c) => c.f_divergence_type === 'alpha_divergence',
    'f_divergence_type: alpha_divergence',
  ),
  use_weighting: k.bool(false, 'WPO: weight pairs by their probability under the policy'),
  reference_free: k.bool(false, 'a uniform reference (no reference model)'),
  madpo_temperature: k.numOrNull(null, 'MADPO-style margin weights 2*sigmoid(-m/tau) with this tau', { gt: 0 }),
};

const KTO = {
  ...REFERENCE,
  beta: k.num(0.1, 'the KTO temperature beta', { gt: 0 }),
  desirable_weight: k.num(1, 'weight of desirable examples', { gt: 0 }),
  undesirable_weight: k.num(1, 'weight of undesirable examples', { gt: 0 }),
};

const CPO = {
  beta: k.num(0.1, 'the CPO/SimPO temperature beta', { gt: 0 }),
  loss_type: k.choice(CPO_LOSS_TYPES, 'sigmoid', 'the CPO loss (simpo: SimPO)'),
  label_smoothing: when(
    k.num(0, 'label smoothing epsilon', { min: 0, lt: 0.5 }),
    (c) => c.loss_type === 'sigmoid' || c.loss_type === 'simpo',
    'loss_type sigmoid or simpo',
  ),
  cpo_alpha: k.num(1, 'weight of the NLL term on chosen completions (0: pure SimPO)', { min: 0 }),
  simpo_gamma: when(
    k.num(0.5, 'SimPO target margin gamma', { min: 0 }),
    (c) => c.loss_type === 'simpo',
    'loss_type: simpo',
  ),
};

/** A built-in or registered (registerSampler) curriculum sampler, else what to write. */
function samplerNameCheck(v: unknown): string | null {
  const names = samplerNames();
  if (typeof v === 'string' && names.includes(v)) return null;
  const near = typeof v === 'string' ? closest(v, names) : null;
  const hint = near ? ` (did you mean '${near}'?)` : '';
  return `must be one of ${names.join(', ')} or a name given to registerSampler, got ${JSON.stringify(v)}${hint}`;
}

const show = (v: unknown) => JSON.stringify(v);

/** reward_routes' shape: a mapping of task names to a reward spec, a list of them, or {spec: weight}. */
function routesProblem(v: unknown): string | null {
  if (v === null) return null;
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length === 0)
    return 'must be a non-empty mapping of task names to rewards';
  for (const [task, r] of Object.entries(v)) {
    const ok =
      typeof r === 'string' ||
      isList(r, 'string') ||
      (r && typeof r === 'object' && !Array.isArray(r) && Object.values(r).every((w) => typeof w === 'number'));
    if (!ok || (Array.isArray(r) && r.length === 0))
      return `task '${task}' must map to a reward, a non-empty list of rewards or {reward: weight}, got ${show(r)}`;
  }
  return null;
}

/** A reward spec whose path options (e.g. a taxonomy) are resolved against the config's folder. */
function resolveRewardPaths(spec: string, baseDir: string): string {
  const { name, options } = parseRewardSpec(spec);
  const paths = Object.entries(REWARDS[name]?.options ?? {}).filter(([, s]) => s.type === 'path');
  if (!paths.some(([key]) => options[key] !== undefined && !isAbsolute(options[key]))) return spec;
  for (const [key] of paths) if (options[key] !== undefined) options[key] = resolve(baseDir, options[key]);
  return [name, ...Object.entries(options).map(([key, v]) => `${key}=${v}`)].join(':');
}

// ---- online RL (TRL GRPOConfig names)
const ONLINE = {
  max_prompt_length: k.intOrNull(512, 'prompts longer than this (tokens) are an error', { min: 1 }),
  num_generations: k.int(8, 'completions sampled per prompt (a group)', { min: 2 }),
  max_completion_length: k.int(32, 'maximum tokens per completion', { min: 1 }),
  temperature: k.num(1, 'sampling temperature (log-probs are computed at this temperature)', { gt: 0 }),
  top_p: k.num(1, 'nucleus sampling', { gt: 0, max: 1 }),
  top_k: k.intOrNull(null, 'sample from the K most likely tokens', { min: 1 }),
  num_iterations: k.int(1, 'optimisation passes over each batch of rollouts (mu in the GRPO paper)', { min: 1 }),
  mask_truncated_completions: k.bool(false, 'exclude completions cut at max_completion_length from the loss'),
  dynamic_sampling: k.bool(false, 'DAPO: resample groups whose rewards are all equal (a few tries)'),
  reward_funcs: k.any<string[] | string>(
    'any',
    [],
    'rewards by name with options, for every row (reward_funcs or reward_routes must name one)',
    listOrOne('string'),
  ),
  reward_routes: k.any<Record<string, string[] | string | Record<string, number>> | null>(
    'map',
    null,
    "per-task rewards {TASK: [reward, …] or {reward: weight}}: a row gets its task's (Cue-R1 multitask)",
    routesProblem,
  ),
  reward_task_column: when(
    k.str('task', "the column naming each row's task (every value must be a reward_routes key)"),
    (c) => c.reward_routes !== null,
    'reward_routes',
  ),
  reward_weights: k.any<number[] | null>('list', null, 'one weight per reward', (v) =>
    v === null || isList(v, 'number') ? null : 'must be a list of numbers',
  ),
  reward_timeout: k.num(10, 'seconds a reward may take per batch', { gt: 0 }),
  reward_on_error: k.choice(['skip', 'zero'], 'zero', 'a failing reward gives null (skip) or 0 (zero)'),
  pass_threshold: k.num(1, 'a completion passes (for curriculum pass rates) at this reward'),
  curriculum_sampler: {
    ...(k.str(
      'uniform',
      `which items each step practises: ${SAMPLERS.join(' | ')} | a registerSampler() name`,
    ) as KeySpec<SamplerName | (string & {})>),
    check: samplerNameCheck,
  },
  curriculum_options: k.any<Record<string, number> | null>('map', null, "the sampler's options (see curriculum)"),
  augmentation: k.choiceOrNull(['difficulty_aware'], null, 'DeepVideo-R1 difficulty-aware augmentation'),
  augmentation_options: when(
    k.any<Record<string, unknown> | null>('map', null, 'options of the augmentation'),
    (c) => c.augmentation !== null,
    'augmentation: difficulty_aware',
  ),
  rollout_server_url: k.strOrNull(null, 'an OpenAI-compatible server that samples the rollouts'),
  rollout_server_model: when(
    k.strOrNull(null, "model name sent to the rollout server (default: the server's own model)"),
    (c) => !!c.rollout_server_url,
    'rollout_server_url',
  ),
  rollout_server_token_env: when(
    k.str('PACER_ROLLOUT_TOKEN', 'environment variable holding its bearer token'),
    (c) => !!c.rollout_server_url,
    'rollout_server_url',
  ),
  rollout_server_timeout: when(
    k.num(300, 'seconds per request', { gt: 0 }),
    (c) => !!c.rollout_server_url,
    'rollout_server_url',
  ),
  rollout_sync_weights: when(
    k.bool(true, 'save the policy and POST /update_weights_from_disk before each step'),
    (c) => !!c.rollout_server_url,
    'rollout_server_url',
  ),
  difficulty_column: k.str(
    'difficulty',
    'dataset column with a numeric difficulty (for curricula); frac_reward_zero_std/<value> is logged per value',
  ),
  category_column: k.strOrNull(null, 'dataset column with arms for SEC/DUMP (default: the difficulty)'),
  log_completions: k.bool(
    false,
    "append each step's prompts, completions, rewards and advantages to output_dir/completions.jsonl " +
      '(pacer studio import --run reads it)',
  ),
};
// VideoTG-R1's masking curriculum on video rows (src/trainers/video-mask.ts)
const maskOn = (c: C) => c.mask_curriculum === true;
const MASK = {
  mask_curriculum: k.bool(
    false,
    'VideoTG-R1: on hard video rows blank a fraction m(t) of the frames outside the true span, m decaying to 0',
  ),
  mask_hard_column: when(k.str('hard', 'column marking hard rows (true: masked)'), maskOn, 'mask_curriculum'),
  mask_segment_column: when(
    k.str('segment', "column with a hard row's true span [start, end] in seconds (frames inside stay)"),
    maskOn,
    'mask_curriculum',
  ),
  mask_start: when(
    k.num(0.75, 'm(0): the fraction blanked at the start', { min: 0, max: 1 }),
    maskOn,
    'mask_curriculum',
  ),
  mask_until: when(
    k.num(0.7, 'm reaches 0 at this fraction of the training steps', { gt: 0, max: 1 }),
    maskOn,
    'mask_curriculum',
  ),
  mask_shape: when(
    k.choice(['linear', 'cosine', 'step'], 'linear', 'decay of m: 1 - x, (1 + cos(pi x)) / 2, or 1 until the end'),
    maskOn,
    'mask_curriculum',
  ),
  mask_order: when(
    k.choice(
      ['farthest', 'random'],
      'farthest',
      'which outside frames go first: farthest from the span, or seeded random',
    ),
    maskOn,
    'mask_curriculum',
  ),
};
const refOn = (c: C) => (c.beta as number) > 0 || c.trainer === 'online_dpo';
const ONLINE_REF = {
  ref_model_name_or_path: when(
    k.pathOrNull(null, 'the reference model (default: the model itself before training)'),
    refOn,
    'beta > 0',
  ),
};
const CLIP = {
  epsilon: k.num(0.2, 'lower clipping range of the ratio', { min: 0 }),
  epsilon_high: k.numOrNull(null, 'upper clipping range (DAPO clip-higher); default epsilon', { min: 0 }),
  importance_sampling_level: k.choice(['token', 'sequence'], 'token', 'ratio per token, or per sequence (GSPO)'),
};

// ---- PPO for language models (TRL PPOConfig names): the online group without num_iterations (PPO passes
// over a batch num_ppo_epochs times) and one completion per prompt by default
const { num_iterations: _numIterations, ...ONLINE_PPO } = ONLINE;
const PPO_LM = {
  ...ONLINE_PPO,
  num_generations: k.int(1, 'completions sampled per prompt (TRL PPO samples one)', { min: 1 }),
  temperature: { ...ONLINE.temperature, default: 0.7 },
  ref_model_name_or_path: when(
    k.pathOrNull(null, 'the reference model (default: the model itself before training)'),
    (c) => (c.kl_coef as number) > 0,
    'kl_coef > 0',
  ),
  value_model_path: k.pathOrNull(
    null,
    'the value model: a causal LM whose last hidden state feeds a fresh scalar head (default: model_name_or_path)',
  ),
  kl_coef: k.num(0.05, 'KL penalty coefficient in the per-token reward (0: no reference model)', { min: 0 }),
  kl_estimator: k.choice(['k1', 'k3'], 'k1', 'per-token KL estimator in the reward: k1 = log pi - log ref, or k3'),
  cliprange: k.num(0.2, 'clipping range of the policy ratio', { gt: 0 }),
  cliprange_value: k.num(0.2, 'clipping range of the value prediction around the rollout values', { gt: 0 }),
  vf_coef: k.num(0.1, 'weight of the value loss', { min: 0 }),
  gamma: k.num(1, 'discount factor of the per-token GAE', { min: 0, max: 1 }),
  lam: k.num(0.95, 'lambda of the per-token GAE', { min: 0, max: 1 }),
  num_ppo_epochs: k.int(4, 'optimisation passes (one optimizer step each) over each batch of rollouts', { min: 1 }),
  whiten_rewards: k.bool(false, 'whiten the per-token rewards (over the batch, mean kept) before GAE'),
  missing_eos_penalty: k.numOrNull(null, 'subtracted from the score of a completion cut before its EOS', { min: 0 }),
};

// ---- PPO on a pacer environment (CleanRL ppo.py / ppo_continuous_action.py names, snake_case); null
// defaults take CleanRL's value for the environment's action space
const continuousEnv = (c: C) => makeEnv(c.env_id as (typeof ENV_IDS)[number]).actionSpace.type === 'box';
const nullableBool = (v: unknown) => (v === null || typeof v === 'boolean' ? null : 'must be true, false or null');
const PPO_ENV = {
  env_id: { ...k.choice(ENV_IDS, 'CartPole-v1', 'the environment (Gymnasium id)'), required: true },
  output_dir: RUN.output_dir,
  overwrite_output_dir: RUN.overwrite_output_dir,
  resume_from_checkpoint: RUN.resume_from_checkpoint,
  seed: k.int(1, 'seed of the environments (seed + i), the policy init and the sampling', { min: 0 }),
  total_timesteps: k.intOrNull(null, 'environment steps in all (null: 500000 discrete, 1000000 continuous)', {
    min: 1,
  }),
  learning_rate: k.numOrNull(null, 'Adam learning rate (null: 2.5e-4 discrete, 3e-4 continuous)', { gt: 0 }),
  num_envs: k.intOrNull(null, 'parallel environment copies (null: 4 discrete, 1 continuous)', { min: 1, max: 4096 }),
  num_steps: k.intOrNull(null, 'steps per copy per rollout (null: 128 discrete, 2048 continuous)', { min: 1 }),
  anneal_lr: k.bool(true, 'anneal the learning rate linearly to 0'),
  gamma: k.num(0.99, 'discount factor', { min: 0, max: 1 }),
  gae_lambda: k.num(0.95, 'lambda of GAE', { min: 0, max: 1 }),
  num_minibatches: k.intOrNull(null, 'minibatches per epoch (null: 4 discrete, 32 continuous)', { min: 1 }),
  update_epochs: k.intOrNull(null, 'passes over each rollout (null: 4 discrete, 10 continuous)', { min: 1 }),
  norm_adv: k.bool(true, 'normalise advantages per minibatch'),
  clip_coef: k.num(0.2, 'surrogate clipping coefficient (also clips the value loss)', { gt: 0 }),
  clip_vloss: k.bool(true, 'clipped value loss'),
  ent_coef: k.numOrNull(null, 'entropy bonus (null: 0.01 discrete, 0 continuous)', { min: 0 }),
  vf_coef: k.num(0.5, 'value loss coefficient', { min: 0 }),
  max_grad_norm: k.num(0.5, 'global gradient norm clip', { gt: 0 }),
  target_kl: k.numOrNull(null, 'stop the epochs of an update once approx_kl exceeds this', { gt: 0 }),
  hidden_sizes: k.any<number[]>('list', [64, 64], 'hidden layer widths of the actor and critic MLPs', (v) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x > 0)
      ? null
      : 'must be a non-empty list of positive integers',
  ),
  init_log_std: when(
    k.num(0, 'initial log-std of the Gaussian policy', {}),
    continuousEnv,
    'a continuous-action env_id',
  ),
  norm_obs: k.any<boolean | null>(
    'any',
    null,
    'normalise observations (null: off discrete, on continuous)',
    nullableBool,
  ),
  norm_reward: k.any<boolean | null>('any', null, 'scale rewards by the return std (null: as norm_obs)', nullableBool),
  clip_obs: k.num(10, 'clip normalised observations to ±this', { gt: 0 }),
  clip_reward: k.num(10, 'clip normalised rewards to ±this', { gt: 0 }),
  bootstrap_truncated: k.bool(true, 'bootstrap time-limit truncations from the final observation (CleanRL: false)'),
  threads: RUN.threads,
  save_every_iterations: k.int(10, 'write checkpoint-N/ every N iterations and at the end (0: never)', { min: 0 }),
  eval_episodes: k.int(10, 'greedy evaluation episodes of the final policy (0: none)', { min: 0 }),
  capture_video: k.bool(true, 'render a greedy episode of the final policy to videos/rollout.mp4 (and the report)'),
  report: RUN.report,
};

// ---- TSPO: a frame-sampling agent trained by RL with a frozen answerer (no LM, no tokenizer)
const { model_name_or_path: _m, per_device_eval_batch_size: _e, dtype: _d, stages: _s, bf16: _b, ...RUN_NO_LM } = RUN;
const TSPO = {
  ...RUN_NO_LM,
  train_dataset: k.path('questions: a needle-world data.jsonl (pacer video make --world needle) or rows in its shape'),
  learning_rate: { ...RUN.learning_rate, default: 5e-4 },
  frame_encoder: k.path('the frozen frame/text encoder: a folder with encoder_config.json (its features are cached)'),
  feature_cache_dir: k.pathOrNull(null, 'keep the per-video frame features here as .safetensors (default: memory)'),
  per_device_train_batch_size: k.int(1, 'questions per micro-batch (each gives num_generations frame subsets)', {
    min: 1,
  }),
  num_generations: k.int(8, 'frame subsets drawn per question (Gumbel-top-k), a group G', { min: 2 }),
  num_frames: k.int(16, 'frames chosen per subset (k)', { min: 1 }),
  agent_heads: k.int(8, "attention heads of the agent (the encoder's width must divide by it)", { min: 1 }),
  agent_window: k.int(12, "the agent's local attention window (frames)", { min: 1 }),
  tau_start: k.num(0.025, 'score temperature at step 0 (annealed linearly)', { gt: 0 }),
  tau_end: k.num(0.01, 'score temperature at the last step', { gt: 0 }),
  temporal_reward_weight: k.num(1, 'weight of the fraction of chosen frames inside the needle in the reward', {
    min: 0,
  }),
  answerer: k.str(
    'needle_oracle',
    'the frozen answerer: needle_oracle | event_oracle | vlm (a Qwen2(.5)-VL model) | a registerAnswerer() name',
  ),
  answerer_model: when(
    k.pathOrNull(null, 'the video LLM the vlm answerer runs (a pacer Qwen2-VL / Qwen2.5-VL folder, e.g. vlm-base)'),
    (c) => c.answerer === 'vlm',
    'answerer: vlm',
  ),
  answerer_min_frames: when(
    k.int(2, 'frames inside the needle (event) the oracle answerer needs to answer right', { min: 1 }),
    (c) => c.answerer === 'needle_oracle' || c.answerer === 'event_oracle',
    'answerer: needle_oracle or event_oracle',
  ),
  eval_select: when(
    k.choice(['topk', 'bin-max'], 'topk', 'how the agent chooses frames when evaluating'),
    (c) => c.eval_dataset !== null,
    'eval_dataset',
  ),
};

const LR = (lr: number) => ({ learning_rate: { ...RUN.learning_rate, default: lr } });

export const TRAINER_SPECS = {
  sft: {
    ...RUN,
    ...LR(2e-5),
    ...PEFT,
    ...OFFLINE,
    ...VISION,
    completion_only_loss: k.bool(true, 'prompt-completion data: loss on completion tokens only'),
    packing: k.bool(false, 'pack sequences into rows of max_length (padding-free, segment-aware)'),
  },
  ift: {
    ...RUN,
    ...LR(2e-5),
    ...PEFT,
    ...OFFLINE,
    completion_only_loss: k.bool(true, 'prompt-completion data: loss on completion tokens only'),
    ift_lambda: k.num(0.2, "IFT's temporal residual weight: inputs (1-λ)·e(x) + λ·e(guess)", { min: 0, max: 1 }),
    ift_gamma: k.num(0.95, 'discount of the future losses that weight each token (0: plain SFT weights)', {
      min: 0,
      max: 1,
    }),
    ift_lambda_schedule: k.choice(
      ['constant', 'linear'],
      'constant',
      'λ constant, or a linear warm-up over warmup steps',
    ),
    ift_min_lambda: when(
      k.num(0, 'λ at the start of the linear warm-up', { min: 0, max: 1 }),
      (c) => c.ift_lambda_schedule === 'linear',
      'ift_lambda_schedule: linear',
    ),
    ift_lambda_noise: k.num(0, 'std of multiplicative N(0,1) noise on λ each step (0: none)', { min: 0 }),
  },
  reward: {
    ...RUN,
    ...LR(1e-5),
    ...PEFT,
    ...OFFLINE,
    center_rewards_coefficient: k.numOrNull(null, 'weight of the mean squared reward (centering)', { min: 0 }),
  },
  dpo: { ...RUN, ...PEFT, ...OFFLINE, ...VISION, ...DPO },
  kto: { ...RUN, ...PEFT, ...OFFLINE, ...VISION, ...KTO },
  orpo: { ...RUN, ...PEFT, ...OFFLINE, beta: k.num(0.1, 'the ORPO weight of the odds-ratio term', { gt: 0 }) },
  cpo: { ...RUN, ...PEFT, ...OFFLINE, ...CPO },
  grpo: {
    ...RUN,
    ...PEFT,
    ...ONLINE,
    ...VISION,
    ...MASK,
    ...ONLINE_REF,
    ...CLIP,
    beta: k.num(0, 'KL coefficient against the reference (0: no reference model)', { min: 0 }),
    loss_type: k.choice(GRPO_LOSS_TYPES, 'dapo', 'normalisation of the surrogate (TRL default dapo)'),
    scale_rewards: k.choice(['group', 'batch', 'none'], 'group', 'divide advantages by the group or batch std'),
  },
  rloo: {
    ...RUN,
    ...PEFT,
    ...ONLINE,
    ...VISION,
    ...ONLINE_REF,
    ...CLIP,
    beta: k.num(0, 'KL coefficient against the reference', { min: 0 }),
  },
  reg_grpo: {
    ...RUN,
    ...PEFT,
    ...ONLINE,
    ...VISION,
    ...ONLINE_REF,
    beta: k.num(0.1, 'KL coefficient (DeepVideo-R1 uses 0.1)', { min: 0 }),
  },
  raft: {
    ...RUN,
    ...LR(1e-5),
    ...PEFT,
    ...ONLINE,
    ...VISION,
    raft_top_k: k.int(1, 'completions kept per group for the SFT step', { min: 1 }),
  },
  online_dpo: {
    ...RUN,
    ...LR(5e-7),
    ...PEFT,
    ...ONLINE,
    ...VISION,
    ...ONLINE_REF,
    beta: k.num(0.1, 'the DPO temperature beta', { gt: 0 }),
  },
  ppo: { ...RUN, ...LR(3e-6), ...PEFT, ...PPO_LM },
  ppo_env: PPO_ENV,
  tspo: TSPO,
} satisfies Record<TrainerName, Spec>;

type Meta<T extends TrainerName> = {
  trainer: T;
  /** Where the config came from, for messages. */
  _source: string;
  /** The keys the config set itself (stages build on these, not on the defaults). */
  _given: string[];
  /** The folder relative paths resolve against. */
  _baseDir: string;
};
export type SFTConfig = ValuesOf<typeof TRAINER_SPECS.sft> & Meta<'sft'>;
export type IFTConfig = ValuesOf<typeof TRAINER_SPECS.ift> & Meta<'ift'>;
export type RewardConfig = ValuesOf<typeof TRAINER_SPECS.reward> & Meta<'reward'>;
export type DPOConfig = Omit<ValuesOf<typeof TRAINER_SPECS.dpo>, 'loss_type'> & Meta<'dpo'> & { loss_type: string[] };
export type KTOConfig = ValuesOf<typeof TRAINER_SPECS.kto> & Meta<'kto'>;
export type ORPOConfig = ValuesOf<typeof TRAINER_SPECS.orpo> & Meta<'orpo'>;
export type CPOConfig = ValuesOf<typeof TRAINER_SPECS.cpo> & Meta<'cpo'>;
type OnlineValues<S extends Spec> = Omit<ValuesOf<S>, 'reward_funcs' | 'reward_routes'> & {
  reward_funcs: string[];
  /** Each task's reward specs with their weights (normalised from the config's forms). */
  reward_routes: Record<string, Record<string, number>> | null;
};
export type GRPOConfig = OnlineValues<typeof TRAINER_SPECS.grpo> & Meta<'grpo'>;
export type RLOOConfig = OnlineValues<typeof TRAINER_SPECS.rloo> & Meta<'rloo'>;
export type RegGRPOConfig = OnlineValues<typeof TRAINER_SPECS.reg_grpo> & Meta<'reg_grpo'>;
export type RAFTConfig = OnlineValues<typeof TRAINER_SPECS.raft> & Meta<'raft'>;
export type OnlineDPOConfig = OnlineValues<typeof TRAINER_SPECS.online_dpo> & Meta<'online_dpo'>;
export type PPOConfig = OnlineValues<typeof TRAINER_SPECS.ppo> & Meta<'ppo'>;
/** Keys of ppo_env whose null default resolveConfig replaces by CleanRL's value for the action space. */
type PPOEnvFilled =
  | 'total_timesteps'
  | 'learning_rate'
  | 'num_envs'
  | 'num_steps'
  | 'num_minibatches'
  | 'update_epochs';
type PPOEnvValues = ValuesOf<typeof TRAINER_SPECS.ppo_env>;
export type PPOEnvConfig = Omit<PPOEnvValues, PPOEnvFilled | 'ent_coef' | 'norm_obs' | 'norm_reward'> & {
  [K in PPOEnvFilled | 'ent_coef']: number;
} & { norm_obs: boolean; norm_reward: boolean } & Meta<'ppo_env'>;

export type TSPOConfig = ValuesOf<typeof TRAINER_SPECS.tspo> & Meta<'tspo'>;

export type OfflineConfig = SFTConfig | IFTConfig | RewardConfig | DPOConfig | KTOConfig | ORPOConfig | CPOConfig;
export type OnlineConfig = GRPOConfig | RLOOConfig | RegGRPOConfig | RAFTConfig | OnlineDPOConfig | PPOConfig;
/** The configs of trainers of language models (the shared loop runs them). */
export type LMConfig = OfflineConfig | OnlineConfig;
export type TrainConfig = LMConfig | PPOEnvConfig | TSPOConfig;
type Specs = typeof TRAINER_SPECS;
type RequiredKeys = 'model_name_or_path' | 'train_dataset' | 'output_dir';
/**
 * A config as written (the YAML's keys as an object, for train() and resolveConfig): `trainer`, the
 * required keys, any other key of that trainer's spec (online trainers need reward_funcs or reward_routes).
 */
export type ConfigInput<T extends TrainerName = TrainerName> = T extends TrainerName
  ? { trainer: T } & Partial<ValuesOf<Specs[T]>> & Pick<ValuesOf<Specs[T]>, Extract<keyof Specs[T], RequiredKeys>>
  : never;
/** What every trainer's config has (the loop reads only these). */
export type BaseConfig = ValuesOf<typeof RUN> & ValuesOf<typeof PEFT> & Meta<TrainerName>;
/** What the loop reads of a trainer that trains its own module (TSPO's agent) rather than an LM. */
export type LoopConfig = ValuesOf<typeof RUN_NO_LM> & Meta<TrainerName> & { model_name_or_path?: string };

/** The trainers that read a key (for "it is read by …" messages). */
function readers(key: string): TrainerName[] {
  return TRAINERS.filter((t) => key in TRAINER_SPECS[t]);
}

/** Cross-key checks after the keys themselves are valid (TRL's __post_init__). */
function checkTrainer(cfg: TrainConfig, fail: (m: string, key?: string) => never): void {
  if (cfg.trainer === 'ppo_env') {
    checkPPOEnv(cfg, fail);
    return;
  }
  if (cfg.trainer === 'tspo') {
    checkTspo(cfg, fail);
    return;
  }
  const c = cfg as LMConfig;
  // (a default max_prompt_length above a smaller max_length is not a contradiction: prompts reaching
  // max_length are rejected per line anyway)
  const promptGiven = c._given.includes('max_prompt_length');
  if (
    'max_length' in c &&
    promptGiven &&
    c.max_length !== null &&
    c.max_prompt_length !== null &&
    c.max_prompt_length >= c.max_length
  )
    fail(
      `max_prompt_length (${c.max_prompt_length}) must be smaller than max_length (${c.max_length})`,
      'max_prompt_length',
    );
  if (c.eval_strategy === 'steps' && !c.eval_dataset && !isOnline(c.trainer))
    fail("eval_strategy 'steps' needs an 'eval_dataset'", 'eval_strategy');
  if (c.trainer === 'dpo') checkDpo(c, fail);
  if (c.trainer === 'sft' && c.packing && !c.max_length)
    fail('packing needs a max_length (the packed row length)', 'packing');
  if ('curriculum' in c && c.curriculum !== null) parseCurriculum(c.curriculum, c._source);
  if (c.trainer === 'dpo' && c.curriculum?.by === 'reference_margin' && c.reference_free)
    fail('curriculum by reference_margin needs reference log-probs (reference_free is true)', 'curriculum');
  if ((c.trainer === 'dpo' || c.trainer === 'kto') && c.precompute_ref_log_probs === false && 'curriculum' in c)
    if ((c.curriculum as Record<string, unknown> | null)?.by === 'reference_margin')
      fail('curriculum by reference_margin needs precompute_ref_log_probs: true', 'curriculum');
  if (isOnline(c.trainer)) checkOnline(c as OnlineConfig, fail);
  if ('frame_agent' in c && c.frame_agent) checkFrameAgent(c as LMConfig & { frame_agent: string }, fail);
}

/** frame_agent names an agent folder; the masking curriculum (evenly sampled frames) cannot follow its picks. */
function checkFrameAgent(c: LMConfig & { frame_agent: string }, fail: Fail): void {
  if (!existsSync(join(c.frame_agent, 'config.json')))
    fail(
      `frame_agent ${c.frame_agent} is not an agent folder (no config.json; trainer: tspo writes one ` +
        'in its output_dir)',
      'frame_agent',
    );
  if ('mask_curriculum' in c && c.mask_curriculum)
    fail(
      'mask_curriculum blanks frames by their even sampling times; it cannot be combined with frame_agent',
      'mask_curriculum',
    );
}

function checkTspo(c: TSPOConfig, fail: (m: string, key?: string) => never): void {
  if (c.eval_strategy === 'steps' && !c.eval_dataset)
    fail("eval_strategy 'steps' needs an 'eval_dataset'", 'eval_strategy');
  if (!answererNames().includes(c.answerer))
    fail(
      `unknown answerer '${c.answerer}' (known: ${answererNames().join(', ')}; registerAnswerer adds one)`,
      'answerer',
    );
  if (c.tau_end > c.tau_start) fail(`tau_end (${c.tau_end}) must not exceed tau_start (${c.tau_start})`, 'tau_end');
  if (c.answerer === 'vlm' && !c.answerer_model)
    fail('answerer vlm needs answerer_model (a Qwen2-VL / Qwen2.5-VL model folder)', 'answerer_model');
}

/**
 * PPO on an environment: null keys get CleanRL's value for the action space (so the config holds the values
 * the run uses), and the batch must split into minibatches.
 */
function checkPPOEnv(c: PPOEnvConfig, fail: (m: string, key?: string) => never): void {
  let r: PPOControlOptions;
  try {
    r = resolvePPOOptions(ppoEnvOptions(c));
  } catch (e) {
    fail((e as Error).message.replace(/^pacer: /, ''), 'num_minibatches');
  }
  Object.assign(c, {
    total_timesteps: r.totalTimesteps,
    learning_rate: r.learningRate,
    num_envs: r.numEnvs,
    num_steps: r.numSteps,
    num_minibatches: r.numMinibatches,
    update_epochs: r.updateEpochs,
    ent_coef: r.entCoef,
    norm_obs: r.normObs,
    norm_reward: r.normReward,
  });
}

/** ppo-control's options from a ppo_env config (null keys take CleanRL's defaults for the action space). */
export function ppoEnvOptions(c: PPOEnvConfig): Partial<PPOControlOptions> & { envId: EnvId } {
  const given: Record<string, unknown> = {
    envId: c.env_id,
    seed: c.seed,
    totalTimesteps: c.total_timesteps,
    learningRate: c.learning_rate,
    numEnvs: c.num_envs,
    numSteps: c.num_steps,
    annealLr: c.anneal_lr,
    gamma: c.gamma,
    gaeLambda: c.gae_lambda,
    numMinibatches: c.num_minibatches,
    updateEpochs: c.update_epochs,
    normAdv: c.norm_adv,
    clipCoef: c.clip_coef,
    clipVloss: c.clip_vloss,
    entCoef: c.ent_coef,
    vfCoef: c.vf_coef,
    maxGradNorm: c.max_grad_norm,
    targetKl: c.target_kl,
    hiddenSizes: c.hidden_sizes,
    initLogStd: continuousEnv(c) ? c.init_log_std : undefined,
    normObs: c.norm_obs,
    normReward: c.norm_reward ?? c.norm_obs,
    clipObs: c.clip_obs,
    clipReward: c.clip_reward,
    bootstrapTruncated: c.bootstrap_truncated,
    threads: c.threads,
  };
  const o = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== null && v !== undefined));
  return { ...o, targetKl: c.target_kl } as Partial<PPOControlOptions> & { envId: EnvId };
}

function checkDpo(c: DPOConfig, fail: (m: string, key?: string) => never): void {
  const lt = (Array.isArray(c.loss_type) ? c.loss_type : [c.loss_type]) as string[];
  for (const t of lt)
    if (!(DPO_LOSS_TYPES as readonly string[]).includes(t))
      fail(`unknown loss_type '${t}' for dpo (expected one of ${DPO_LOSS_TYPES.join(', ')})`, 'loss_type');
  if (c.reference_free && c.ref_model_name_or_path) fail('reference_free: true contradicts ref_model_name_or_path');
  try {
    validateDPOOptions({
      beta: c.beta,
      lossType: lt as never,
      lossWeights: c.loss_weights,
      labelSmoothing: c.label_smoothing,
      fDivergenceType: c.f_divergence_type,
      rpoAlpha: c.rpo_alpha,
    });
  } catch (e) {
    fail((e as Error).message);
  }
  c.loss_type = lt;
}

/** Split, check and resolve reward specs ("a,b" or a list); each is validated against its reward's options. */
function rewardSpecs(v: string[] | string, c: OnlineConfig, fail: Fail, key: string): string[] {
  const specs = (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter(Boolean);
  for (const spec of specs) {
    const { name, options } = parseRewardSpec(spec);
    rewardOptions(name, options, c._source);
  }
  const resolved = specs.map((s) => resolveRewardPaths(s, c._baseDir));
  // a taxonomy file is read now, so a bad one stops the run before the model loads
  for (const spec of resolved) {
    const { name, options } = parseRewardSpec(spec);
    if (name !== 'hierarchical_label') continue;
    try {
      loadTaxonomy(options.taxonomy);
    } catch (e) {
      fail(`'${key}': ${(e as Error).message.replace(/^pacer: /, '')}`, key);
    }
  }
  return resolved;
}

type Fail = (m: string, key?: string) => never;

function checkRewards(c: OnlineConfig, fail: (m: string, key?: string) => never): void {
  c.reward_funcs = rewardSpecs(c.reward_funcs as string[] | string, c, fail, 'reward_funcs');
  const routes = c.reward_routes as Record<string, string[] | string | Record<string, number>> | null;
  if (routes)
    c.reward_routes = Object.fromEntries(
      Object.entries(routes).map(([task, r]) => {
        const w = typeof r === 'object' && !Array.isArray(r) ? r : null;
        const specs = rewardSpecs(w ? Object.keys(w) : (r as string[] | string), c, fail, `reward_routes.${task}`);
        return [task, Object.fromEntries(specs.map((s, i) => [s, w ? Object.values(w)[i] : 1]))];
      }),
    );
  if (c.reward_funcs.length === 0 && !routes)
    fail(
      "'reward_funcs' must name at least one reward (e.g. [accuracy]), or 'reward_routes' each task's",
      'reward_funcs',
    );
}

function checkOnline(c: OnlineConfig, fail: (m: string, key?: string) => never): void {
  checkRewards(c, fail);
  if (c.reward_weights && c.reward_weights.length !== c.reward_funcs.length)
    fail(
      `'reward_weights' has ${c.reward_weights.length} entries for ${c.reward_funcs.length} rewards`,
      'reward_weights',
    );
  const G = c.num_generations;
  if (c.per_device_train_batch_size % G !== 0)
    fail(`per_device_train_batch_size (${c.per_device_train_batch_size}) must be a multiple of num_generations (${G})`);
  c.curriculum_options = samplerOptions(c.curriculum_sampler, c.curriculum_options, c._source);
  if (c.augmentation) c.augmentation_options = augmentOptions(c.augmentation_options, c._source);
  if (c.trainer === 'raft' && c.raft_top_k > G)
    fail(`raft_top_k (${c.raft_top_k}) must not exceed num_generations (${G})`);
}

/** Validate and complete a config object (paths resolved against baseDir). */
export function resolveConfig(raw: Record<string, unknown>, src = '<config>', baseDir = process.cwd()): TrainConfig {
  const fail = (m: string, key?: string): never => {
    throw new ConfigError(`pacer: ${src}: ${m}`, { file: src, key });
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('the config must be a mapping of keys to values');
  const { trainer, ...rest } = raw as Record<string, unknown>;
  if (trainer === undefined) fail(`missing 'trainer' (one of ${TRAINERS.join(', ')})`, 'trainer');
  if (!(TRAINERS as readonly string[]).includes(trainer as string))
    fail(`unknown trainer '${String(trainer)}' (expected one of ${TRAINERS.join(', ')})`, 'trainer');
  const t = trainer as TrainerName;
  const spec = TRAINER_SPECS[t] as Spec;
  const values = validateOptions(spec, rest, {
    context: { trainer: t },
    where: src,
    owner: `trainer '${t}'`,
    elsewhere: (key) => (readers(key).length ? `it is read by ${readers(key).join(', ')}` : null),
  });
  for (const [key, s] of Object.entries(spec))
    if (s.type === 'path' && typeof values[key] === 'string')
      values[key] = key.endsWith('_dataset')
        ? resolveDatasetPath(values[key] as string, baseDir)
        : isAbsolute(values[key] as string)
          ? values[key]
          : resolve(baseDir, values[key] as string);
  const c = {
    ...values,
    trainer: t,
    _source: src,
    _given: Object.keys(rest),
    _baseDir: baseDir,
  } as unknown as TrainConfig;
  checkTrainer(c, fail);
  if ('stages' in c && c.stages) for (const [i, st] of c.stages.entries()) stageConfig(c, st, i, c.model_name_or_path);
  return c;
}

/** The config of stage i: the keys the base config set, the stage's overrides, trained from `from`. */
export function stageConfig(base: LMConfig, st: Record<string, unknown>, i: number, from: string): TrainConfig {
  for (const bad of ['stages', 'model_name_or_path', 'output_dir', 'trainer'])
    if (bad in st) throw new ConfigError(`pacer: ${base._source}: stage ${i + 1} may not set '${bad}'`, { key: bad });
  const given = Object.fromEntries(base._given.filter((key) => key !== 'stages').map((key) => [key, (base as C)[key]]));
  const raw = {
    ...given,
    ...st,
    trainer: base.trainer,
    model_name_or_path: from,
    output_dir: join(base.output_dir, `stage-${i + 1}`),
  };
  return resolveConfig(raw, `${base._source} (stage ${i + 1})`, base._baseDir);
}

/** The 1-based line of each key in a YAML text (nested keys dotted: curriculum_options.tau). */
function keyLines(text: string): Map<string, number> {
  const lc = new LineCounter();
  const out = new Map<string, number>();
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) return;
    for (const it of node.items) {
      const key = isScalar(it.key) ? String(it.key.value) : String(it.key);
      if (isScalar(it.key) && it.key.range) out.set(prefix + key, lc.linePos(it.key.range[0]).line);
      walk(it.value, `${prefix}${key}.`);
    }
  };
  walk(parseDocument(text, { lineCounter: lc }).contents, '');
  return out;
}

/** A config error from a file, with the line of the key it names (a reward option: its reward_funcs). */
function withLine(e: unknown, file: string, text: string, overrides: Record<string, unknown>): unknown {
  if (!(e instanceof ConfigError) || e.file !== file || !e.key || e.line !== undefined) return e;
  const key = e.key.includes(':') ? 'reward_funcs' : e.key;
  if (key.split('.')[0] in overrides) return e;
  const lines = keyLines(text);
  const parts = key.split('.');
  let line: number | undefined;
  for (let n = parts.length; n > 0 && line === undefined; n--) line = lines.get(parts.slice(0, n).join('.'));
  if (line === undefined) return e;
  const message = e.message.replace(`pacer: ${file}: `, `pacer: ${file}:${line}: `);
  return new ConfigError(message, { file, line, key: e.key, field: e.field });
}

/** Read a YAML (or JSON) config file; relative paths in it are relative to the file. Errors carry the line. */
export function loadConfig(file: string, overrides: Record<string, unknown> = {}): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ConfigError(`pacer: cannot read config ${file}: ${why}`, { file });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const line = (e as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    const at = line === undefined ? file : `${file}:${line}`;
    throw new ConfigError(`pacer: ${at}: not valid YAML (${(e as Error).message.split('\n')[0]})`, { file, line });
  }
  try {
    return resolveConfig({ ...(raw as Record<string, unknown>), ...overrides }, file, dirname(resolve(file)));
  } catch (e) {
    throw withLine(e, file, text, overrides);
  }
}

/** The documented keys of a trainer, for `pacer train --help-config`. */
export function configHelp(trainer: TrainerName): string {
  return `keys of trainer '${trainer}' (type, default, doc):\n${specHelp(TRAINER_SPECS[trainer] as Spec)}`;
}

/** A trainer's default config values (for code that builds configs). */
export function configDefaults(trainer: TrainerName): Record<string, unknown> {
  return Object.fromEntries(Object.entries(TRAINER_SPECS[trainer] as Spec).map(([key, s]) => [key, s.default]));
}

export { withDefaults };
