// Training configuration: YAML with TRL's argument names. Every key is checked before training
// starts: unknown keys (with a suggestion), wrong types, and contradictory settings are errors
// that name the key and the file.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DPO_LOSS_TYPES, F_DIVERGENCES, CPO_LOSS_TYPES, validateDPOConfig } from '../objectives/index.js';

export class ConfigError extends Error {}

export const TRAINERS = [
  'sft',
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
] as const;
export const ONLINE_TRAINERS = ['grpo', 'rloo', 'reg_grpo', 'raft', 'online_dpo'];
const ON = ['grpo', 'rloo', 'reg_grpo', 'raft', 'online_dpo'] as TrainerName[];
export type TrainerName = (typeof TRAINERS)[number];

type Kind =
  | 'string'
  | 'number'
  | 'int'
  | 'bool'
  | 'string|null'
  | 'number|null'
  | 'int|null'
  | 'path'
  | 'path|null'
  | 'any';
interface KeySpec {
  kind: Kind;
  default?: unknown;
  only?: TrainerName[];
}

const COMMON: Record<string, KeySpec> = {
  trainer: { kind: 'string' },
  model_name_or_path: { kind: 'path' },
  train_dataset: { kind: 'path' },
  eval_dataset: { kind: 'path|null', default: null },
  output_dir: { kind: 'path' },
  learning_rate: { kind: 'number' },
  per_device_train_batch_size: { kind: 'int', default: 8 },
  per_device_eval_batch_size: { kind: 'int', default: 8 },
  gradient_accumulation_steps: { kind: 'int', default: 1 },
  max_steps: { kind: 'int', default: -1 },
  num_train_epochs: { kind: 'number', default: 3 },
  logging_steps: { kind: 'int', default: 10 },
  save_steps: { kind: 'int', default: 500 },
  save_total_limit: { kind: 'int|null', default: null },
  eval_steps: { kind: 'int|null', default: null },
  eval_strategy: { kind: 'string', default: 'no' },
  seed: { kind: 'int', default: 42 },
  lr_scheduler_type: { kind: 'string', default: 'linear' },
  warmup_ratio: { kind: 'number', default: 0 },
  warmup_steps: { kind: 'int', default: 0 },
  weight_decay: { kind: 'number', default: 0 },
  adam_beta1: { kind: 'number', default: 0.9 },
  adam_beta2: { kind: 'number', default: 0.999 },
  adam_epsilon: { kind: 'number', default: 1e-8 },
  max_grad_norm: { kind: 'number', default: 1.0 },
  max_length: { kind: 'int|null', default: 1024 },
  max_prompt_length: { kind: 'int|null', default: 512 },
  resume_from_checkpoint: { kind: 'any', default: null },
  dtype: { kind: 'string', default: 'float32' },
  shuffle: { kind: 'bool', default: true },
  threads: { kind: 'int|null', default: null },
  report: { kind: 'bool', default: true },
  // LoRA, as TRL's ModelConfig
  use_peft: { kind: 'bool', default: false },
  lora_r: { kind: 'int', default: 16 },
  lora_alpha: { kind: 'number', default: 32 },
  lora_dropout: { kind: 'number', default: 0.05 },
  lora_target_modules: { kind: 'any', default: null },
  // offline curricula (src/curriculum/offline.ts)
  curriculum: { kind: 'any', default: null },
  stages: { kind: 'any', default: null },
  // method-specific
  ref_model_name_or_path: { kind: 'path|null', default: null, only: ['dpo', 'kto', ...ON] },
  beta: { kind: 'number', default: 0.1, only: ['dpo', 'kto', 'orpo', 'cpo', ...ON] },
  loss_type: { kind: 'any', default: null, only: ['dpo', 'cpo', 'grpo'] },
  loss_weights: { kind: 'any', default: null, only: ['dpo'] },
  label_smoothing: { kind: 'number', default: 0, only: ['dpo', 'cpo'] },
  rpo_alpha: { kind: 'number|null', default: null, only: ['dpo'] },
  f_divergence_type: { kind: 'string', default: 'reverse_kl', only: ['dpo'] },
  f_alpha_divergence_coef: { kind: 'number', default: 1.0, only: ['dpo'] },
  use_weighting: { kind: 'bool', default: false, only: ['dpo'] },
  reference_free: { kind: 'bool', default: false, only: ['dpo'] },
  madpo_temperature: { kind: 'number|null', default: null, only: ['dpo'] },
  precompute_ref_log_probs: { kind: 'bool', default: true, only: ['dpo', 'kto'] },
  desirable_weight: { kind: 'number', default: 1.0, only: ['kto'] },
  undesirable_weight: { kind: 'number', default: 1.0, only: ['kto'] },
  cpo_alpha: { kind: 'number', default: 1.0, only: ['cpo'] },
  simpo_gamma: { kind: 'number', default: 0.5, only: ['cpo'] },
  center_rewards_coefficient: { kind: 'number|null', default: null, only: ['reward'] },
  completion_only_loss: { kind: 'bool', default: true, only: ['sft'] },
  packing: { kind: 'bool', default: false, only: ['sft'] },
  // online RL (TRL GRPOConfig names where they exist)
  num_generations: { kind: 'int', default: 8, only: ON },
  max_completion_length: { kind: 'int', default: 32, only: ON },
  temperature: { kind: 'number', default: 1.0, only: ON },
  top_p: { kind: 'number', default: 1.0, only: ON },
  top_k: { kind: 'int|null', default: null, only: ON },
  epsilon: { kind: 'number', default: 0.2, only: ON },
  epsilon_high: { kind: 'number|null', default: null, only: ON },
  scale_rewards: { kind: 'string', default: 'group', only: ON },
  num_iterations: { kind: 'int', default: 1, only: ON },
  mask_truncated_completions: { kind: 'bool', default: false, only: ON },
  importance_sampling_level: { kind: 'string', default: 'token', only: ON },
  dynamic_sampling: { kind: 'bool', default: false, only: ON },
  reward_funcs: { kind: 'any', default: null, only: ON },
  reward_weights: { kind: 'any', default: null, only: ON },
  reward_timeout: { kind: 'number', default: 10, only: ON },
  reward_on_error: { kind: 'string', default: 'zero', only: ON },
  pass_threshold: { kind: 'number', default: 1.0, only: ON },
  raft_top_k: { kind: 'int', default: 1, only: ['raft'] },
  curriculum_sampler: { kind: 'string', default: 'uniform', only: ON },
  curriculum_options: { kind: 'any', default: null, only: ON },
  augmentation: { kind: 'string|null', default: null, only: ON },
  rollout_server_url: { kind: 'string|null', default: null, only: ON },
  rollout_server_model: { kind: 'string', default: 'default', only: ON },
  rollout_server_token_env: { kind: 'string', default: 'PACER_ROLLOUT_TOKEN', only: ON },
  rollout_server_timeout: { kind: 'number', default: 300, only: ON },
  rollout_sync_weights: { kind: 'bool', default: true, only: ON },
  augmentation_options: { kind: 'any', default: null, only: ON },
  difficulty_column: { kind: 'string', default: 'difficulty', only: ON },
  category_column: { kind: 'string|null', default: null, only: ON },
};

const LR_DEFAULT: Record<TrainerName, number> = {
  sft: 2e-5,
  reward: 1e-5,
  dpo: 1e-6,
  kto: 1e-6,
  orpo: 1e-6,
  cpo: 1e-6,
  grpo: 1e-6,
  rloo: 1e-6,
  reg_grpo: 1e-6,
  raft: 1e-5,
  online_dpo: 5e-7,
};

export interface TrainConfig {
  trainer: TrainerName;
  model_name_or_path: string;
  train_dataset: string;
  eval_dataset: string | null;
  output_dir: string;
  learning_rate: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  gradient_accumulation_steps: number;
  max_steps: number;
  num_train_epochs: number;
  logging_steps: number;
  save_steps: number;
  save_total_limit: number | null;
  eval_steps: number | null;
  eval_strategy: 'no' | 'steps';
  seed: number;
  lr_scheduler_type: 'constant' | 'constant_with_warmup' | 'linear' | 'cosine';
  warmup_ratio: number;
  warmup_steps: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  max_grad_norm: number;
  max_length: number | null;
  max_prompt_length: number | null;
  resume_from_checkpoint: null | boolean | string;
  dtype: 'float32' | 'bfloat16' | 'float16';
  shuffle: boolean;
  threads: number | null;
  report: boolean;
  use_peft: boolean;
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  lora_target_modules: string[] | string | null;
  curriculum: null | Record<string, unknown>;
  stages: null | Array<Record<string, unknown>>;
  ref_model_name_or_path: string | null;
  beta: number;
  loss_type: string[] | string | null;
  loss_weights: number[] | null;
  label_smoothing: number;
  rpo_alpha: number | null;
  f_divergence_type: string;
  f_alpha_divergence_coef: number;
  use_weighting: boolean;
  reference_free: boolean;
  madpo_temperature: number | null;
  precompute_ref_log_probs: boolean;
  desirable_weight: number;
  undesirable_weight: number;
  cpo_alpha: number;
  simpo_gamma: number;
  center_rewards_coefficient: number | null;
  completion_only_loss: boolean;
  packing: boolean;
  num_generations: number;
  max_completion_length: number;
  temperature: number;
  top_p: number;
  top_k: number | null;
  epsilon: number;
  epsilon_high: number | null;
  scale_rewards: 'group' | 'batch' | 'none';
  num_iterations: number;
  mask_truncated_completions: boolean;
  importance_sampling_level: 'token' | 'sequence';
  dynamic_sampling: boolean;
  reward_funcs: string[] | string | null;
  reward_weights: number[] | null;
  reward_timeout: number;
  reward_on_error: 'skip' | 'zero';
  pass_threshold: number;
  raft_top_k: number;
  curriculum_sampler: string;
  curriculum_options: Record<string, number> | null;
  /** DeepVideo-R1 difficulty-aware augmentation of prompts ('difficulty_aware'), or none. */
  augmentation: string | null;
  /** An OpenAI-compatible server that samples the rollouts (vLLM, SGLang, pacer serve model). */
  rollout_server_url: string | null;
  rollout_server_model: string;
  /** Environment variable holding the rollout server's bearer token. */
  rollout_server_token_env: string;
  rollout_server_timeout: number;
  /** Before each step, write the policy and POST /update_weights_from_disk (SGLang's API). */
  rollout_sync_weights: boolean;
  augmentation_options: Record<string, number | string> | null;
  difficulty_column: string;
  category_column: string | null;
  /** Where the config came from, for messages. */
  _source: string;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function checkKind(src: string, key: string, v: unknown, kind: Kind): void {
  const bad = (want: string) => {
    throw new ConfigError(`pacer: ${src}: '${key}' must be ${want}, got ${JSON.stringify(v)}`);
  };
  const nullable = kind.endsWith('|null');
  if (v === null && nullable) return;
  const base = kind.replace('|null', '');
  if (base === 'any') return;
  if ((base === 'string' || base === 'path') && typeof v !== 'string') bad('a string');
  if (base === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) bad('a number');
  if (base === 'int' && !Number.isInteger(v)) bad('an integer');
  if (base === 'bool' && typeof v !== 'boolean') bad('true or false');
}

/** Validate and complete a config object (paths resolved against baseDir). */
export function resolveConfig(raw: Record<string, unknown>, src = '<config>', baseDir = process.cwd()): TrainConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`pacer: ${src}: the config must be a mapping of keys to values`);
  const trainer = raw.trainer as TrainerName;
  if (trainer === undefined) throw new ConfigError(`pacer: ${src}: missing 'trainer' (one of ${TRAINERS.join(', ')})`);
  if (!TRAINERS.includes(trainer))
    throw new ConfigError(
      `pacer: ${src}: unknown trainer '${String(trainer)}' (expected one of ${TRAINERS.join(', ')})`,
    );
  const out: Record<string, unknown> = { _source: src };
  for (const [k, v] of Object.entries(raw)) {
    const spec = COMMON[k];
    if (!spec) {
      const near = Object.keys(COMMON)
        .map((c) => [c, editDistance(k, c)] as const)
        .sort((a, b) => a[1] - b[1])[0];
      throw new ConfigError(
        `pacer: ${src}: unknown key '${k}'${near && near[1] <= 3 ? ` (did you mean '${near[0]}'?)` : ''}`,
      );
    }
    if (spec.only && !spec.only.includes(trainer))
      throw new ConfigError(
        `pacer: ${src}: '${k}' does not apply to trainer '${trainer}' (it is for ${spec.only.join(', ')})`,
      );
    checkKind(src, k, v, spec.kind);
    out[k] = spec.kind.startsWith('path') && typeof v === 'string' && !isAbsolute(v) ? resolve(baseDir, v) : v;
  }
  for (const k of ['model_name_or_path', 'train_dataset', 'output_dir'])
    if (out[k] === undefined) throw new ConfigError(`pacer: ${src}: missing required key '${k}'`);
  for (const [k, spec] of Object.entries(COMMON)) {
    if (out[k] !== undefined) continue;
    if (spec.only && !spec.only.includes(trainer)) continue;
    if ('default' in spec) out[k] = spec.default;
  }
  if (out.learning_rate === undefined) out.learning_rate = LR_DEFAULT[trainer];
  if (ON.includes(trainer) && raw.beta === undefined)
    out.beta = trainer === 'reg_grpo' ? 0.1 : trainer === 'online_dpo' ? 0.1 : 0.0;
  if (trainer === 'grpo' && out.loss_type === null) out.loss_type = 'grpo';
  const c = out as unknown as TrainConfig;
  const fail = (m: string) => {
    throw new ConfigError(`pacer: ${src}: ${m}`);
  };
  if (c.learning_rate < 0)
    fail(`'learning_rate' must be >= 0 (0 runs an evaluation-only pass), got ${c.learning_rate}`);
  for (const k of [
    'per_device_train_batch_size',
    'per_device_eval_batch_size',
    'gradient_accumulation_steps',
    'logging_steps',
    'save_steps',
  ] as const)
    if (c[k] < 1) fail(`'${k}' must be >= 1, got ${c[k]}`);
  if (c.max_steps === 0 || c.max_steps < -1)
    fail(`'max_steps' must be a positive integer or -1 (use num_train_epochs), got ${c.max_steps}`);
  if (c.max_steps === -1 && !(c.num_train_epochs > 0)) fail(`'num_train_epochs' must be > 0 when max_steps is -1`);
  if (!['constant', 'constant_with_warmup', 'linear', 'cosine'].includes(c.lr_scheduler_type))
    fail(
      `unknown lr_scheduler_type '${c.lr_scheduler_type}' (expected constant, constant_with_warmup, linear or cosine)`,
    );
  if (!['no', 'steps'].includes(c.eval_strategy))
    fail(`'eval_strategy' must be 'no' or 'steps', got '${c.eval_strategy}'`);
  if (c.eval_strategy === 'steps' && !c.eval_dataset) fail(`eval_strategy 'steps' needs an 'eval_dataset'`);
  if (!['float32', 'bfloat16', 'float16'].includes(c.dtype))
    fail(`'dtype' must be float32, bfloat16 or float16, got '${c.dtype}'`);
  if (c.max_length !== null && c.max_prompt_length !== null && c.max_prompt_length >= c.max_length)
    fail(`max_prompt_length (${c.max_prompt_length}) must be smaller than max_length (${c.max_length})`);
  if (!(c.warmup_ratio >= 0 && c.warmup_ratio < 1)) fail(`'warmup_ratio' must be in [0, 1), got ${c.warmup_ratio}`);
  if (c.trainer === 'dpo') {
    const lt = c.loss_type === null ? ['sigmoid'] : Array.isArray(c.loss_type) ? c.loss_type : [c.loss_type];
    for (const t of lt)
      if (!(DPO_LOSS_TYPES as readonly string[]).includes(t))
        fail(`unknown loss_type '${t}' for dpo (expected one of ${DPO_LOSS_TYPES.join(', ')})`);
    if (!(F_DIVERGENCES as readonly string[]).includes(c.f_divergence_type))
      fail(`unknown f_divergence_type '${c.f_divergence_type}' (expected ${F_DIVERGENCES.join(', ')})`);
    if (c.reference_free && c.ref_model_name_or_path) fail(`reference_free: true contradicts ref_model_name_or_path`);
    if (
      c.loss_weights !== null &&
      (!Array.isArray(c.loss_weights) || c.loss_weights.some((w) => typeof w !== 'number'))
    )
      fail(`'loss_weights' must be a list of numbers`);
    try {
      validateDPOConfig({
        beta: c.beta,
        lossType: lt as never,
        lossWeights: c.loss_weights,
        labelSmoothing: c.label_smoothing,
        fDivergenceType: c.f_divergence_type as never,
        rpoAlpha: c.rpo_alpha,
      });
    } catch (e) {
      fail((e as Error).message);
    }
    c.loss_type = lt;
  }
  if (c.trainer === 'cpo') {
    const t = c.loss_type ?? 'sigmoid';
    if (typeof t !== 'string' || !(CPO_LOSS_TYPES as readonly string[]).includes(t))
      fail(`unknown loss_type '${String(t)}' for cpo (expected one of ${CPO_LOSS_TYPES.join(', ')})`);
    c.loss_type = t;
  }
  if (['dpo', 'kto', 'orpo', 'cpo', 'online_dpo'].includes(c.trainer) && !(c.beta > 0))
    fail(`'beta' must be > 0, got ${c.beta}`);
  if (ON.includes(c.trainer)) {
    if (!c.reward_funcs || (Array.isArray(c.reward_funcs) && c.reward_funcs.length === 0))
      fail(`'reward_funcs' must name at least one reward (e.g. [accuracy])`);
    if (c.num_generations < 2) fail(`'num_generations' must be >= 2 (groups need several completions)`);
    if (c.per_device_train_batch_size % c.num_generations !== 0)
      fail(
        `per_device_train_batch_size (${c.per_device_train_batch_size}) must be a multiple of num_generations (${c.num_generations})`,
      );
    if (!['group', 'batch', 'none'].includes(c.scale_rewards)) fail(`'scale_rewards' must be group, batch or none`);
    if (!['token', 'sequence'].includes(c.importance_sampling_level))
      fail(`'importance_sampling_level' must be token or sequence`);
    if (!['skip', 'zero'].includes(c.reward_on_error)) fail(`'reward_on_error' must be skip or zero`);
    if (c.trainer === 'grpo' && !['grpo', 'bnpo', 'dr_grpo', 'dapo'].includes(String(c.loss_type)))
      fail(`unknown loss_type '${String(c.loss_type)}' for grpo (expected grpo, bnpo, dr_grpo or dapo)`);
    if (c.beta < 0) fail(`'beta' must be >= 0`);
    if (c.num_iterations < 1) fail(`'num_iterations' must be >= 1`);
    if (c.augmentation !== null && c.augmentation !== 'difficulty_aware')
      fail(`'augmentation' must be difficulty_aware (or left out), got '${c.augmentation}'`);
  }
  if (c.use_peft && !(c.lora_r >= 1)) fail(`'lora_r' must be >= 1`);
  if (c.packing && !c.max_length) fail(`packing needs a max_length (the packed row length)`);
  return c;
}

/** Read a YAML (or JSON) config file; relative paths in it are relative to the file. */
export function loadConfig(file: string, overrides: Record<string, unknown> = {}): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `pacer: cannot read config ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`pacer: ${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return resolveConfig({ ...(raw as Record<string, unknown>), ...overrides }, file, dirname(resolve(file)));
}

/** The keys a trainer accepts, with their defaults (for `pacer train --help-config`). */
export function configHelp(trainer: TrainerName): string {
  const rows = Object.entries(COMMON).filter(([, s]) => !s.only || s.only.includes(trainer));
  return [
    `keys for trainer '${trainer}':`,
    ...rows.map(([k, s]) => `  ${k} (${s.kind})${'default' in s ? ` = ${JSON.stringify(s.default)}` : ''}`),
  ].join('\n');
}
