// Typed trainer configs: every key a trainer accepts is read by a run of that trainer (a Proxy records
// the reads), keys a trainer does not read — or that cannot act — are refused with the trainer and the
// closest valid key, `pacer train --help-config` documents each key, and the keys users expect in
// online training work there: LoRA (a PEFT adapter is saved), gradient accumulation (dapo over the
// accumulated batch), eval_dataset; precompute_ref_log_probs: false gives the precomputed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P, FIXTURES } from './helpers.js';
import { resolveConfig, train, TRAINER_SPECS, TRAINERS, isOnline } from '../dist/trainers/index.js';
import { createModelServer } from '../dist/server/openai.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { REWARDS } from '../dist/rewards/index.js';
import { makeDataset } from '../dist/video/worlds/make.js';
import { HistogramEncoder } from '../dist/video/histogram-encoder.js';
import { makeAgent } from './agent-helpers.js';

// a reward with spread on the fixture model's random completions: the parity of the first token id
REWARDS.first_token_odd = () => (input) => input.completionIds.map((ids) => (ids.length ? ids[0] % 2 : 0));

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(FIXTURES, 'models', 'llama');
const VL_MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
const quiet = { progress: false, log: () => {} };
const jsonl = (file, rows) => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const metrics = (dir) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

function data(d) {
  const sums = Array.from({ length: 8 }, (_, i) => [1 + (i % 4), 2 + (i % 3)]);
  jsonl(
    join(d, 'pref.jsonl'),
    sums.map(([a, b]) => ({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}` })),
  );
  jsonl(
    join(d, 'sft.jsonl'),
    sums.map(([a, b]) => ({ prompt: `${a}+${b}=`, completion: `${a + b}` })),
  );
  jsonl(
    join(d, 'kto.jsonl'),
    sums.map(([a, b], i) => ({ prompt: `${a}+${b}=`, completion: `${a + b + (i % 2)}`, label: i % 2 === 0 })),
  );
  jsonl(
    join(d, 'prompts.jsonl'),
    sums.map(([a, b], i) => ({ prompt: `${a}+${b}=`, answer: `${a + b}`, difficulty: i % 3, arm: `a${i % 2}` })),
  );
}

const DATA = { sft: 'sft', ift: 'sft', reward: 'pref', dpo: 'pref', kto: 'kto', orpo: 'pref', cpo: 'pref' };

/** A small needle world and a colour-histogram frame encoder (fresh projections) for trainer: tspo. */
async function tspoData(d) {
  const knobs = { 'distractor-clips': '2', 'clip-frames': '4' };
  await makeDataset({ world: 'needle', n: 2, seed: 1, out: join(d, 'needle'), framesOnly: true, width: 16, knobs });
  const enc = new HistogramEncoder(2, 16, 8, 0);
  enc.save(join(d, 'enc'));
  enc.dispose();
}

function tspoConfig(d) {
  const file = join(d, 'needle', 'data.jsonl');
  return {
    trainer: 'tspo',
    train_dataset: file,
    eval_dataset: file,
    max_line_bytes: 1 << 20,
    output_dir: join(d, 'tspo-full'),
    overwrite_output_dir: true,
    learning_rate: 1e-3,
    per_device_train_batch_size: 2,
    gradient_accumulation_steps: 2,
    max_steps: 2,
    logging_steps: 1,
    save_steps: 1,
    save_total_limit: 1,
    eval_strategy: 'steps',
    eval_steps: 2,
    seed: 3,
    lr_scheduler_type: 'cosine',
    warmup_steps: 0,
    warmup_ratio: 0.1,
    weight_decay: 0.01,
    adam_beta1: 0.9,
    adam_beta2: 0.99,
    adam_epsilon: 1e-7,
    max_grad_norm: 1,
    resume_from_checkpoint: false,
    threads: 1,
    report: false,
    frame_encoder: join(d, 'enc'),
    feature_cache_dir: join(d, 'features'),
    num_generations: 2,
    num_frames: 3,
    agent_heads: 2,
    agent_window: 4,
    tau_start: 0.1,
    tau_end: 0.05,
    temporal_reward_weight: 0.5,
    answerer: 'event_oracle',
    answerer_min_frames: 1,
    eval_select: 'bin-max',
  };
}

/** The vision keys (trainers that take images and videos); test/vlm-train.test.js trains with them on video. */
const VISION = { video_fps: 1, video_max_frames: 16, video_max_pixels: 12544, lora_vision_tower: false };
/** Keys that act only in full fine-tuning (a third run, without LoRA). */
const FULL_FT = { freeze_vision_tower: false, freeze_merger: false };
/**
 * A TSPO frame agent (test/agent-helpers.js), set in that run too (without the masking curriculum, which
 * does not combine with it); test/frame-agent.test.js trains with it on video.
 */
const AGENT = (d) => ({ frame_agent: join(d, 'fa', 'agent'), frame_agent_k: 2, frame_agent_mode: 'bin-max' });

/** A config that turns on every feature of the trainer, so that every key has its chance to be read. */
function fullConfig(trainer, d, server) {
  if (trainer === 'tspo') return tspoConfig(d);
  const file = (n) => join(d, `${n}.jsonl`);
  const base = {
    trainer,
    model_name_or_path: MODEL,
    output_dir: join(d, `${trainer}-full`),
    train_dataset: file(isOnline(trainer) ? 'prompts' : DATA[trainer]),
    eval_dataset: file(isOnline(trainer) ? 'prompts' : DATA[trainer]),
    eval_strategy: 'steps',
    eval_steps: 2,
    per_device_eval_batch_size: 4,
    per_device_train_batch_size: 4,
    gradient_accumulation_steps: 2,
    max_steps: 2,
    logging_steps: 1,
    save_steps: 1,
    save_total_limit: 1,
    learning_rate: 1e-4,
    lr_scheduler_type: 'cosine',
    warmup_steps: 0,
    warmup_ratio: 0.1,
    stages: null,
    weight_decay: 0.01,
    adam_beta1: 0.9,
    adam_beta2: 0.99,
    adam_epsilon: 1e-7,
    max_grad_norm: 1,
    seed: 3,
    threads: 1,
    report: false,
    dtype: 'float32',
    bf16: false,
    resume_from_checkpoint: false,
    overwrite_output_dir: true,
    max_line_bytes: 1 << 20,
    use_peft: true,
    lora_r: 4,
    lora_alpha: 8,
    lora_dropout: 0,
    lora_target_modules: ['q_proj', 'v_proj'],
  };
  if (!isOnline(trainer)) return { ...base, max_length: 32, max_prompt_length: 16, shuffle: true, curriculum: null };
  return {
    ...base,
    per_device_train_batch_size: 4,
    num_generations: 2,
    max_completion_length: 3,
    max_prompt_length: 16,
    temperature: 0.9,
    top_p: 0.95,
    top_k: 50,
    num_iterations: 2,
    mask_truncated_completions: false,
    dynamic_sampling: true,
    reward_funcs: ['accuracy', 'length:budget=2'],
    reward_weights: [1, 0.5],
    // per-task rewards on top of the shared ones (the prompts' arm column names the task)
    reward_routes: { a0: ['accuracy'], a1: { 'length:budget=2': 0.5 } },
    reward_task_column: 'arm',
    reward_timeout: 5,
    reward_on_error: 'zero',
    pass_threshold: 1,
    curriculum_sampler: 'sec',
    curriculum_options: { alpha: 0.5, tau: 0.3 },
    augmentation: 'difficulty_aware',
    augmentation_options: { window: 8 },
    rollout_server_url: server.url,
    rollout_server_model: 'policy',
    rollout_server_token_env: 'PACER_TEST_ROLLOUT_TOKEN',
    rollout_server_timeout: 60,
    rollout_sync_weights: true,
    difficulty_column: 'difficulty',
    category_column: 'arm',
    log_completions: true,
  };
}

/** Keys each trainer sets only in its own way (beyond fullConfig). */
const EXTRA = {
  sft: { completion_only_loss: true, packing: false },
  ift: {
    completion_only_loss: true,
    ift_lambda: 0.3,
    ift_gamma: 0.9,
    ift_lambda_schedule: 'linear',
    ift_min_lambda: 0.1,
    ift_lambda_noise: 0.5,
  },
  reward: { center_rewards_coefficient: 0.01 },
  dpo: {
    beta: 0.2,
    loss_type: ['sigmoid', 'ipo'],
    loss_weights: [1, 0.5],
    label_smoothing: 0,
    rpo_alpha: 0.1,
    f_divergence_type: 'alpha_divergence',
    f_alpha_divergence_coef: 0.5,
    use_weighting: true,
    reference_free: false,
    madpo_temperature: 1,
    ref_model_name_or_path: MODEL,
    precompute_ref_log_probs: false,
  },
  kto: {
    beta: 0.2,
    desirable_weight: 1.5,
    undesirable_weight: 0.5,
    ref_model_name_or_path: MODEL,
    precompute_ref_log_probs: true,
  },
  orpo: { beta: 0.2 },
  cpo: { beta: 0.2, loss_type: 'simpo', label_smoothing: 0.1, cpo_alpha: 0.5, simpo_gamma: 0.3 },
  grpo: {
    beta: 0.04,
    ref_model_name_or_path: MODEL,
    loss_type: 'dapo',
    scale_rewards: 'batch',
    epsilon: 0.2,
    epsilon_high: 0.28,
    importance_sampling_level: 'sequence',
    mask_curriculum: true,
    mask_hard_column: 'hard',
    mask_segment_column: 'segment',
    mask_start: 0.5,
    mask_until: 0.8,
    mask_shape: 'cosine',
    mask_order: 'random',
  },
  rloo: {
    beta: 0.04,
    ref_model_name_or_path: MODEL,
    epsilon: 0.2,
    epsilon_high: 0.3,
    importance_sampling_level: 'token',
  },
  reg_grpo: { beta: 0.1, ref_model_name_or_path: MODEL },
  raft: { raft_top_k: 1 },
  online_dpo: { beta: 0.1, ref_model_name_or_path: MODEL },
  ppo: {
    num_generations: 2,
    dynamic_sampling: false,
    ref_model_name_or_path: MODEL,
    value_model_path: MODEL,
    kl_coef: 0.05,
    kl_estimator: 'k3',
    cliprange: 0.2,
    cliprange_value: 0.3,
    vf_coef: 0.2,
    gamma: 0.99,
    lam: 0.9,
    num_ppo_epochs: 2,
    whiten_rewards: true,
    missing_eos_penalty: 0.5,
  },
  tspo: {},
};
/** Keys of fullConfig a trainer does not take (PPO passes num_ppo_epochs times, not num_iterations). */
const DROP = { ppo: ['num_iterations'] };

/** ppo_env (no language model): every key set, on a tiny CartPole budget. */
const FULL_ENV = (d) => ({
  trainer: 'ppo_env',
  env_id: 'Pendulum-v1',
  output_dir: join(d, 'ppo_env-full'),
  overwrite_output_dir: true,
  resume_from_checkpoint: false,
  seed: 3,
  total_timesteps: 256,
  learning_rate: 1e-3,
  num_envs: 2,
  num_steps: 64,
  anneal_lr: false,
  gamma: 0.98,
  gae_lambda: 0.9,
  num_minibatches: 2,
  update_epochs: 2,
  norm_adv: true,
  clip_coef: 0.25,
  clip_vloss: false,
  ent_coef: 0.001,
  vf_coef: 0.4,
  max_grad_norm: 0.6,
  target_kl: 0.5,
  hidden_sizes: [16, 16],
  init_log_std: -0.5,
  norm_obs: true,
  norm_reward: true,
  clip_obs: 5,
  clip_reward: 5,
  bootstrap_truncated: false,
  threads: 1,
  save_every_iterations: 1,
  eval_episodes: 2,
  capture_video: true,
  report: true,
});

/** Run a config with its values behind a Proxy; return the keys the run read. */
async function readsOf(raw, d) {
  const cfg = resolveConfig(raw, 'test', d);
  const read = new Set();
  const proxy = new Proxy(cfg, {
    get(t, k, r) {
      if (typeof k === 'string') read.add(k);
      return Reflect.get(t, k, r);
    },
  });
  await train(proxy, quiet);
  return read;
}

test('every key a trainer accepts is read when that trainer runs', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  data(d);
  await tspoData(d);
  makeAgent(join(d, 'fa'));
  const served = fromPretrained(MODEL).model;
  const tokenizer = Tokenizer.fromPretrained(MODEL);
  // weight reloads need a token or a reload root; the run writes its policy under the temp folder
  const srv = createModelServer({ model: served, tokenizer, modelName: 'policy', reloadRoot: d });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const server = { url: `http://127.0.0.1:${srv.address().port}` };
  try {
    for (const trainer of TRAINERS.filter((t) => t !== 'ppo_env')) {
      const vision = 'video_fps' in TRAINER_SPECS[trainer];
      const full = { ...fullConfig(trainer, d, server), ...EXTRA[trainer], ...(vision ? VISION : {}) };
      for (const k of DROP[trainer] ?? []) delete full[k];
      const read = await readsOf(full, d);
      if (vision) {
        const { lora_r, lora_alpha, lora_dropout, lora_target_modules, lora_vision_tower, ...rest } = full;
        const noMask = Object.fromEntries(Object.entries(rest).filter(([k]) => !/^mask_(?!truncated)/.test(k)));
        for (const k of await readsOf({ ...noMask, use_peft: false, ...FULL_FT, ...AGENT(d) }, d)) read.add(k);
      }
      // max_steps: -1 runs num_train_epochs instead (a separate run, since one excludes the other)
      // (in the same output_dir, which overwrite_output_dir lets a fresh run reuse)
      const epochs = { ...full, max_steps: -1, num_train_epochs: 0.25 };
      for (const k of await readsOf(epochs, d)) read.add(k);
      // tspo: the vlm answerer's key (answerer_min_frames acts only with the oracles)
      const { answerer_min_frames: _m, ...vlmRun } = full;
      if (trainer === 'tspo')
        for (const k of await readsOf({ ...vlmRun, answerer: 'vlm', answerer_model: VL_MODEL }, d)) read.add(k);
      const unread = Object.keys(TRAINER_SPECS[trainer]).filter((k) => !read.has(k));
      assert.deepEqual(unread, [], `${trainer} accepts keys it never reads: ${unread.join(', ')}`);
      const set = { ...full, ...(vision ? { ...FULL_FT, ...AGENT(d) } : {}) };
      if (trainer === 'tspo') set.answerer_model = VL_MODEL;
      const unset = Object.keys(TRAINER_SPECS[trainer]).filter((k) => !(k in set) && k !== 'num_train_epochs');
      assert.deepEqual(unset, [], `${trainer}: the test does not set ${unset.join(', ')}`);
    }
  } finally {
    srv.close();
    served.dispose();
  }
});

test('every key of ppo_env is read when it runs; keys that cannot act are refused', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  const full = FULL_ENV(d);
  const read = await readsOf(full, d);
  const unread = Object.keys(TRAINER_SPECS.ppo_env).filter((k) => !read.has(k));
  assert.deepEqual(unread, [], `ppo_env accepts keys it never reads: ${unread.join(', ')}`);
  const unset = Object.keys(TRAINER_SPECS.ppo_env).filter((k) => !(k in full));
  assert.deepEqual(unset, [], `ppo_env: the test does not set ${unset.join(', ')}`);
  for (const f of ['metrics.jsonl', 'checkpoint-2/trainer_state.json', 'videos/rollout.mp4', 'report.html'])
    assert.ok(existsSync(join(full.output_dir, f)), f);
  const bad = (raw, re) => assert.throws(() => resolveConfig(raw, 'c.yaml', d), re);
  const base = { trainer: 'ppo_env', output_dir: join(d, 'x') };
  bad(
    { ...base, env_id: 'CartPole-v1', init_log_std: 0 },
    /'init_log_std' has no effect unless a continuous-action env_id/,
  );
  bad({ ...base, env_id: 'CartPole-v2' }, /'env_id' must be one of CartPole-v1, .*got 'CartPole-v2'/);
  bad(
    { ...base, env_id: 'CartPole-v1', num_envs: 3, num_steps: 5, num_minibatches: 4 },
    /c\.yaml: PPO batch numEnvs·numSteps = 15 does not split into numMinibatches = 4/,
  );
  bad(
    { ...base, env_id: 'CartPole-v1', model_name_or_path: MODEL },
    /'model_name_or_path' does not apply to trainer 'ppo_env'/,
  );
});

test('keys a trainer does not read, or that cannot act, are refused naming the trainer and the closest key', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  const base = { model_name_or_path: MODEL, train_dataset: 'x.jsonl', output_dir: 'o' };
  const grpo = { ...base, trainer: 'grpo', reward_funcs: ['accuracy'] };
  const bad = (raw, re) => assert.throws(() => resolveConfig(raw, 'c.yaml', d), re);
  bad(
    { ...grpo, max_length: 64 },
    /c\.yaml: 'max_length' does not apply to trainer 'grpo' \(it is read by sft, ift, reward, dpo, kto, orpo, cpo\) \(did you mean 'max_prompt_length'\?\)/,
  );
  bad({ ...grpo, shuffle: false }, /'shuffle' does not apply to trainer 'grpo'/);
  bad({ ...grpo, precompute_ref_log_probs: true }, /'precompute_ref_log_probs' does not apply to trainer 'grpo'/);
  bad({ ...grpo, lora_r: 8 }, /'lora_r' has no effect unless use_peft: true/);
  bad({ ...grpo, eval_steps: 5 }, /'eval_steps' has no effect unless eval_strategy: steps/);
  bad({ ...grpo, max_steps: 10, num_train_epochs: 2 }, /'num_train_epochs' has no effect unless max_steps: -1/);
  bad({ ...grpo, warmup_steps: 5, warmup_ratio: 0.1 }, /'warmup_ratio' has no effect unless warmup_steps: 0/);
  bad({ ...grpo, rollout_server_model: 'x' }, /'rollout_server_model' has no effect unless rollout_server_url/);
  bad({ ...grpo, ref_model_name_or_path: MODEL }, /'ref_model_name_or_path' has no effect unless beta > 0/);
  bad({ ...base, trainer: 'raft', reward_funcs: ['accuracy'], beta: 0.1 }, /'beta' does not apply to trainer 'raft'/);
  bad(
    { ...base, trainer: 'rloo', reward_funcs: ['accuracy'], scale_rewards: 'group' },
    /'scale_rewards' does not apply/,
  );
  bad({ ...base, trainer: 'cpo', simpo_gamma: 0.3 }, /'simpo_gamma' has no effect unless loss_type: simpo/);
  bad(
    { ...base, trainer: 'dpo', f_alpha_divergence_coef: 0.5 },
    /has no effect unless f_divergence_type: alpha_divergence/,
  );
  bad({ ...base, trainer: 'sft', max_length: 0 }, /'max_length' must be >= 1, got 0/);
  bad({ ...base, trainer: 'sft', adam_beta1: 5 }, /'adam_beta1' must be >= 0 and < 1, got 5/);
  bad(
    { ...grpo, augmentation: 'difficulty_aware', augmentation_options: { windw: 3 } },
    /did you mean 'augmentation_options.window'/,
  );
  bad(
    { ...grpo, reward_funcs: ['overlong:max_length=8:cahce=2'] },
    /'overlong:cahce' is not a key of reward 'overlong' \(did you mean 'overlong:cache'\?\)/,
  );
  bad(
    { ...base, trainer: 'dpo', stages: [{ lerning_rate: 1 }] },
    /stage 1\): 'lerning_rate' is not a key of trainer 'dpo'/,
  );
});

test('pacer train --help-config documents every key of a trainer', () => {
  const r = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', '--help-config', 'grpo'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  for (const k of Object.keys(TRAINER_SPECS.grpo)) assert.match(r.stdout, new RegExp(`^  ${k}: `, 'm'), k);
  assert.match(r.stdout, /loss_type: grpo \| bnpo \| dr_grpo \| dapo \(default "dapo"/);
  assert.match(r.stdout, /lora_r: int \(default 16; >= 1; only with use_peft: true\)/);
  const env = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', '--help-config', 'ppo_env'], {
    encoding: 'utf8',
  });
  assert.equal(env.status, 0, env.stderr);
  for (const k of Object.keys(TRAINER_SPECS.ppo_env)) assert.match(env.stdout, new RegExp(`^  ${k}: `, 'm'), k);
  const bad = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', '--help-config', 'ppo2'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown trainer 'ppo2'/);
});

function onlineCfg(d, extra) {
  return resolveConfig(
    {
      trainer: 'grpo',
      model_name_or_path: MODEL,
      train_dataset: join(d, 'prompts.jsonl'),
      output_dir: join(d, 'o'),
      reward_funcs: ['first_token_odd'],
      num_generations: 2,
      max_completion_length: 3,
      max_steps: 2,
      logging_steps: 1,
      save_steps: 100,
      threads: 1,
      learning_rate: 1e-3,
      report: false,
      ...extra,
    },
    'test',
    d,
  );
}

test('online LoRA: GRPO with use_peft trains adapters only and saves a PEFT adapter and a merged model', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  data(d);
  // seed 0: some group's completions differ in reward (each completion has its own sampling seed, so
  // which seeds give the fixture a learning signal is a matter of the draw; 42 gives none)
  const c = onlineCfg(d, {
    seed: 0,
    use_peft: true,
    lora_r: 4,
    lora_alpha: 8,
    per_device_train_batch_size: 4,
    output_dir: join(d, 'lora'),
  });
  await train(c, quiet);
  for (const f of [
    'adapter_config.json',
    'adapter_model.safetensors',
    'merged/model.safetensors',
    'merged/tokenizer.json',
  ])
    assert.ok(existsSync(join(c.output_dir, f)), f);
  assert.ok(!existsSync(join(c.output_dir, 'model.safetensors')), 'the base weights are not rewritten');
  const ac = JSON.parse(readFileSync(join(c.output_dir, 'adapter_config.json'), 'utf8'));
  assert.equal(ac.r, 4);
  assert.equal(ac.peft_type, 'LORA');
  P.scope(() => {
    const ad = P.loadSafetensors(join(c.output_dir, 'adapter_model.safetensors'));
    const Bs = [...ad].filter(([k]) => k.endsWith('lora_B.weight'));
    assert.ok(Bs.length > 0 && Bs.some(([, t]) => t.abs().max().item() > 0), 'the adapters trained (lora_B left 0)');
    // the merged model differs from the base exactly where adapters sit (the projections by default)
    const base = P.loadSafetensors(join(MODEL, 'model.safetensors'));
    const merged = P.loadSafetensors(join(c.output_dir, 'merged', 'model.safetensors'));
    const moved = (n) => merged.get(n).float().sub(base.get(n).float()).abs().max().item() > 0;
    assert.ok(moved('model.layers.0.self_attn.q_proj.weight') && moved('model.layers.0.mlp.down_proj.weight'));
    assert.ok(!moved('model.embed_tokens.weight') && !moved('model.norm.weight') && !moved('lm_head.weight'));
  });
});

test('online gradient accumulation: dapo over 2 micro-batches equals one batch of both; eval_dataset is evaluated', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  data(d);
  const common = { loss_type: 'dapo', max_steps: 1, max_grad_norm: 0, seed: 0 }; // seed: see the LoRA test
  const one = onlineCfg(d, { ...common, per_device_train_batch_size: 8, output_dir: join(d, 'one') });
  const two = onlineCfg(d, {
    ...common,
    per_device_train_batch_size: 4,
    gradient_accumulation_steps: 2,
    output_dir: join(d, 'two'),
  });
  await train(one, quiet);
  await train(two, quiet);
  const [m1, m2] = [metrics(one.output_dir)[0], metrics(two.output_dir)[0]];
  assert.equal(m1.reward, m2.reward, 'the same prompts and completions');
  assert.ok(Math.abs(m1.loss - m2.loss) < 1e-6, `${m1.loss} vs ${m2.loss}`);
  P.scope(() => {
    const a = P.loadSafetensors(join(one.output_dir, 'model.safetensors'));
    const b = P.loadSafetensors(join(two.output_dir, 'model.safetensors'));
    for (const [k, t] of a) assert.ok(t.sub(b.get(k)).abs().max().item() < 1e-6, k);
    const start = P.loadSafetensors(join(MODEL, 'model.safetensors'));
    assert.ok(a.get('lm_head.weight').sub(start.get('lm_head.weight')).abs().max().item() > 1e-5, 'the step moved');
  });
  const ev = onlineCfg(d, {
    per_device_train_batch_size: 4,
    eval_dataset: join(d, 'prompts.jsonl'),
    eval_strategy: 'steps',
    eval_steps: 1,
    output_dir: join(d, 'eval'),
  });
  await train(ev, quiet);
  const evals = metrics(ev.output_dir).filter((x) => 'eval_reward' in x);
  assert.deepEqual(
    evals.map((x) => x.step),
    [1, 2],
  );
  for (const k of ['eval_rewards/first_token_odd/mean', 'eval_completions/mean_length'])
    assert.ok(
      evals.every((x) => Number.isFinite(x[k])),
      k,
    );
});

test('precompute_ref_log_probs: false computes the same reference values every batch', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-cfg-'));
  data(d);
  const run = async (pre, tag) => {
    const c = resolveConfig(
      {
        trainer: 'dpo',
        model_name_or_path: MODEL,
        train_dataset: join(d, 'pref.jsonl'),
        output_dir: join(d, tag),
        per_device_train_batch_size: 4,
        max_steps: 3,
        logging_steps: 1,
        threads: 1,
        learning_rate: 1e-3,
        report: false,
        precompute_ref_log_probs: pre,
      },
      'test',
      d,
    );
    await train(c, quiet);
    return metrics(c.output_dir);
  };
  const [a, b] = [await run(true, 'pre'), await run(false, 'live')];
  for (let i = 0; i < a.length; i++)
    for (const k of ['loss', 'rewards/chosen', 'rewards/margins']) assert.ok(Math.abs(a[i][k] - b[i][k]) < 1e-6, k);
  assert.notEqual(a[2]['rewards/chosen'], 0, 'the policy moved away from the reference');
});
