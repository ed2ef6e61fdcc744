// Online RL trainers end to end on a tiny model: every method runs and logs TRL's metrics,
// curriculum state is logged, dynamic sampling works, resume is exact, bad settings are rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, trainOnline, trainWithStages } from '../dist/trainers/index.js';
import { modelFromConfig, savePretrained } from '../dist/models/pretrained.js';
import { makeProblems, writeTinyArithmeticModel } from '../dist/tasks/arithmetic.js';
import { REWARDS } from '../dist/rewards/index.js';

// A custom reward registered by name (how users add their own): the parity of the first token id.
REWARDS.first_token_odd = () => (input) => input.completionIds.map((ids) => (ids.length ? ids[0] % 2 : 0));

const quiet = { progress: false, log: () => {} };
// sampled completions need diverse first tokens: the fixture Llama's weights are small enough for that
const FIXTURE_LLAMA = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'llama');
function setup() {
  const d = mkdtempSync(join(tmpdir(), 'pacer-online-'));
  const m = join(d, 'model');
  const config = writeTinyArithmeticModel(m, { hidden: 32, layers: 1, heads: 2 });
  savePretrained({ model: modelFromConfig(config), config, modelType: 'llama' }, m);
  const probs = makeProblems(24, [1, 2, 3], 5);
  writeFileSync(join(d, 'p.jsonl'), probs.map((p) => JSON.stringify({ prompt: p.prompt, answer: p.answer, difficulty: p.level })).join('\n') + '\n');
  return { d, m };
}
const cfg = (d, m, { tag, ...extra }) => resolveConfig({
  model_name_or_path: m, train_dataset: join(d, 'p.jsonl'), output_dir: join(d, extra.trainer + (tag ?? '')), per_device_train_batch_size: 8, num_generations: 4,
  max_completion_length: 4, max_steps: 3, logging_steps: 1, save_steps: 100, threads: 1, learning_rate: 1e-3, reward_funcs: ['accuracy', 'length:budget=2'], reward_weights: [1, 0.5], ...extra,
}, 'test', d);
const metrics = (dir) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

for (const [trainer, extra, keys] of [
  ['grpo', { loss_type: 'dapo', epsilon_high: 0.28, beta: 0.04, curriculum_sampler: 'sec' }, ['loss', 'kl', 'clip_ratio/region_mean', 'entropy', 'curriculum/p/1']],
  ['grpo', { tag: '-seq', loss_type: 'dr_grpo', importance_sampling_level: 'sequence', num_iterations: 2, scale_rewards: 'batch', curriculum_sampler: 'adarft' }, ['loss', 'curriculum/target_difficulty']],
  ['rloo', { curriculum_sampler: 'balanced' }, ['loss', 'curriculum/eligible_fraction']],
  ['reg_grpo', { curriculum_sampler: 'dump' }, ['loss', 'kl']],
  ['raft', { raft_top_k: 2, curriculum_sampler: 'vcrl' }, ['loss', 'num_tokens', 'curriculum/bank_size']],
  ['online_dpo', { reward_funcs: ['first_token_odd'], reward_weights: null, max_completion_length: 2, model_name_or_path: FIXTURE_LLAMA }, ['rewards/margins', 'rewards/first_token_odd/mean']],
]) {
  test(`${trainer}${extra.tag ?? ''} runs and logs its metrics`, async () => {
    const { d, m } = setup();
    const c = cfg(d, m, { trainer, ...extra });
    const r = await trainOnline(c, quiet);
    assert.equal(r.globalStep, 3);
    const ms = metrics(c.output_dir);
    const base = trainer === 'online_dpo' ? [] : ['rewards/accuracy/mean', 'rewards/length/mean'];
    for (const k of ['reward', 'reward_std', 'frac_reward_zero_std', 'completions/mean_length', 'timing/generation_s', 'timing/scoring_s', 'timing/training_s', ...base, ...keys])
      assert.ok(ms.some((x) => k in x), `${trainer}: missing ${k}`);
    assert.ok(existsSync(join(c.output_dir, 'model.safetensors')) && existsSync(join(c.output_dir, 'report.html')));
    assert.ok(ms.every((x) => x['timing/generation_s'] > 0 && x['timing/training_s'] > 0 && x['timing/scoring_s'] >= 0));
  });
}

test('online resume is exact; dynamic sampling; settings are validated', async () => {
  const { d, m } = setup();
  const c = cfg(d, m, { trainer: 'grpo', max_steps: 4, save_steps: 2, curriculum_sampler: 'sec', dynamic_sampling: true, beta: 0.04 });
  // everything but the wall-clock timings must match exactly
  const noTiming = () => metrics(c.output_dir).map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('timing/'))));
  await trainOnline(c, quiet);
  const full = noTiming();
  await trainWithStages({ ...c, resume_from_checkpoint: true }, quiet);
  assert.deepEqual(noTiming(), full);
  const bad = (o, re) => assert.throws(() => cfg(d, m, { trainer: 'grpo', ...o }), re);
  bad({ reward_funcs: [] }, /'reward_funcs' must name at least one reward/);
  bad({ num_generations: 3 }, /must be a multiple of num_generations/);
  bad({ loss_type: 'ppo' }, /unknown loss_type 'ppo' for grpo/);
  bad({ scale_rewards: 'max' }, /'scale_rewards' must be group, batch or none/);
  await assert.rejects(trainOnline(cfg(d, m, { trainer: 'grpo', reward_funcs: ['acuracy'], reward_weights: null }), quiet), /unknown reward 'acuracy'/);
  await assert.rejects(trainOnline(cfg(d, m, { trainer: 'grpo', curriculum_sampler: 'spiral' }), quiet), /unknown curriculum sampler 'spiral'/);
});

test('an evaluate callback runs every eval_steps and at the end, logged as eval_*', async () => {
  const { d, m } = setup();
  const calls = [];
  const c = cfg(d, m, { trainer: 'grpo', max_steps: 4, eval_steps: 2, logging_steps: 3 });
  await trainOnline(c, { ...quiet, evaluate: (model, step) => { calls.push(step); assert.equal(model.training, false); return { accuracy: step / 10 }; } });
  assert.deepEqual(calls, [2, 4]);
  const ms = metrics(c.output_dir);
  assert.deepEqual(ms.filter((x) => 'eval_accuracy' in x).map((x) => [x.step, x.eval_accuracy]), [[2, 0.2], [4, 0.4]]);
  assert.deepEqual(ms.map((x) => x.step), [2, 3, 4]);
});
