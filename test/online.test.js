// Online RL trainers end to end on a tiny model: every method runs and logs TRL's metrics,
// curriculum state is logged, dynamic sampling works, resume is exact, bad settings are rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, train, trainWithStages } from '../dist/trainers/index.js';
import { modelFromConfig, savePretrained } from '../dist/models/pretrained.js';
import { makeProblems, writeTinyArithmeticModel } from '../dist/tasks/arithmetic.js';
import { REWARDS, rewardsFromSpec } from '../dist/rewards/index.js';
import { createRewardServer } from '../dist/server/rewards.js';
import { createModelServer } from '../dist/server/openai.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

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
  writeFileSync(
    join(d, 'p.jsonl'),
    probs.map((p) => JSON.stringify({ prompt: p.prompt, answer: p.answer, difficulty: p.level })).join('\n') + '\n',
  );
  return { d, m };
}
const cfg = (d, m, { tag, ...extra }) =>
  resolveConfig(
    {
      model_name_or_path: m,
      train_dataset: join(d, 'p.jsonl'),
      output_dir: join(d, extra.trainer + (tag ?? '')),
      per_device_train_batch_size: 8,
      num_generations: 4,
      max_completion_length: 4,
      max_steps: 3,
      logging_steps: 1,
      save_steps: 100,
      threads: 1,
      learning_rate: 1e-3,
      reward_funcs: ['accuracy', 'length:budget=2'],
      reward_weights: [1, 0.5],
      ...extra,
    },
    'test',
    d,
  );
const metrics = (dir) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

for (const [trainer, extra, keys] of [
  [
    'grpo',
    { loss_type: 'dapo', epsilon_high: 0.28, beta: 0.04, curriculum_sampler: 'sec' },
    ['loss', 'kl', 'clip_ratio/region_mean', 'entropy', 'curriculum/p/1'],
  ],
  [
    'grpo',
    {
      tag: '-seq',
      loss_type: 'dr_grpo',
      importance_sampling_level: 'sequence',
      num_iterations: 2,
      scale_rewards: 'batch',
      curriculum_sampler: 'adarft',
    },
    ['loss', 'curriculum/target_difficulty'],
  ],
  ['rloo', { curriculum_sampler: 'balanced' }, ['loss', 'curriculum/eligible_fraction']],
  ['reg_grpo', { curriculum_sampler: 'dump' }, ['loss', 'kl']],
  ['raft', { raft_top_k: 2, curriculum_sampler: 'vcrl' }, ['loss', 'num_tokens', 'curriculum/bank_size']],
  [
    'online_dpo',
    {
      reward_funcs: ['first_token_odd'],
      reward_weights: null,
      max_completion_length: 2,
      model_name_or_path: FIXTURE_LLAMA,
    },
    ['rewards/margins', 'rewards/first_token_odd/mean'],
  ],
]) {
  test(`${trainer}${extra.tag ?? ''} runs and logs its metrics`, async () => {
    const { d, m } = setup();
    const c = cfg(d, m, { trainer, ...extra });
    const r = await train(c, quiet);
    assert.equal(r.globalStep, 3);
    const ms = metrics(c.output_dir);
    const base = trainer === 'online_dpo' ? [] : ['rewards/accuracy/mean', 'rewards/length/mean'];
    for (const k of [
      'reward',
      'reward_std',
      'frac_reward_zero_std',
      'entropy',
      'completions/mean_length',
      'timing/generation_s',
      'timing/scoring_s',
      'timing/training_s',
      ...base,
      ...keys,
    ])
      assert.ok(
        ms.some((x) => k in x),
        `${trainer}: missing ${k}`,
      );
    assert.ok(existsSync(join(c.output_dir, 'model.safetensors')) && existsSync(join(c.output_dir, 'report.html')));
    assert.ok(
      ms.every((x) => x['timing/generation_s'] > 0 && x['timing/training_s'] > 0 && x['timing/scoring_s'] >= 0),
    );
  });
}

test('online resume is exact; dynamic sampling; settings are validated', async () => {
  const { d, m } = setup();
  const c = cfg(d, m, {
    trainer: 'grpo',
    max_steps: 4,
    save_steps: 2,
    curriculum_sampler: 'sec',
    dynamic_sampling: true,
    beta: 0.04,
  });
  // everything but the wall-clock timings must match exactly
  const noTiming = () =>
    metrics(c.output_dir).map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('timing/'))));
  await train(c, quiet);
  const full = noTiming();
  await trainWithStages({ ...c, resume_from_checkpoint: true }, quiet);
  assert.deepEqual(noTiming(), full);
  const bad = (o, re) => assert.throws(() => cfg(d, m, { trainer: 'grpo', ...o }), re);
  bad({ reward_funcs: [] }, /'reward_funcs' must name at least one reward/);
  bad({ num_generations: 3 }, /must be a multiple of num_generations/);
  bad({ loss_type: 'ppo' }, /'loss_type' must be one of grpo, bnpo, dr_grpo, dapo, got 'ppo'/);
  bad({ scale_rewards: 'max' }, /'scale_rewards' must be one of group, batch, none, got 'max'/);
  // reward names and options, and the sampler, are checked when the config loads
  bad({ reward_funcs: ['acuracy'], reward_weights: null }, /unknown reward 'acuracy' \(did you mean 'accuracy'\?\)/);
  bad({ reward_funcs: ['length:budgt=3'], reward_weights: null }, /'length:budgt' is not a key of reward 'length'/);
  bad({ curriculum_sampler: 'spiral' }, /'curriculum_sampler' must be one of uniform, staged/);
  bad(
    { curriculum_sampler: 'sec', curriculum_options: { tua: 0.1 } },
    /'curriculum_options.tua' is not a key of curriculum sampler 'sec' \(did you mean 'curriculum_options.tau'\?\)/,
  );
});

test('difficulty-aware augmentation hints hard prompts and perturbs easy ones; its state resumes exactly', async () => {
  const { d, m } = setup();
  // a pool of 3 prompts visited repeatedly, so that items are seen again
  writeFileSync(
    join(d, 'p3.jsonl'),
    makeProblems(3, [2], 1)
      .map((p) => JSON.stringify({ prompt: p.prompt, answer: p.answer }))
      .join('\n') + '\n',
  );
  const c = cfg(d, m, {
    trainer: 'grpo',
    train_dataset: join(d, 'p3.jsonl'),
    max_steps: 6,
    save_steps: 3,
    reward_funcs: ['first_token_odd'],
    reward_weights: null,
    augmentation: 'difficulty_aware',
    augmentation_options: { window: 16, hint_fraction: 0.5, hint_template: '{hint}', mask_max: 0.5, mask_char: '0' },
  });
  const seen = [];
  await train(c, {
    ...quiet,
    perturb: (p, strength, rand) => {
      seen.push(strength);
      return p.replace(/\d/g, (x) => (rand() < 0.5 ? '0' : x));
    },
  });
  const ms = metrics(c.output_dir);
  for (const k of ['augment/hinted_frac', 'augment/perturbed_frac', 'augment/window_reward_mean'])
    assert.ok(
      ms.every((x) => k in x),
      k,
    );
  assert.ok(
    ms.some((x) => x['augment/hinted_frac'] > 0 || x['augment/perturbed_frac'] > 0),
    'items seen again are augmented',
  );
  assert.ok(
    seen.every((s) => s > 0),
    'perturbation strength is |ΔR| > 0',
  );
  const trainerState = JSON.parse(readFileSync(join(c.output_dir, 'checkpoint-3', 'trainer_state.json'), 'utf8'));
  assert.ok(trainerState.augment && trainerState.augment.window.length > 0, 'the augmenter state is checkpointed');
  const noTiming = () =>
    metrics(c.output_dir).map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('timing/'))));
  const full = noTiming();
  const perturb = (p, _strength, rand) => p.replace(/\d/g, (x) => (rand() < 0.5 ? '0' : x));
  await train({ ...c, resume_from_checkpoint: true }, { ...quiet, perturb });
  assert.deepEqual(noTiming(), full);
  assert.throws(
    () => cfg(d, m, { trainer: 'grpo', augmentation: 'mixup' }),
    /'augmentation' must be one of difficulty_aware, got 'mixup'/,
  );
});

test('a remote reward server (OpenRLHF protocol) scores rollouts inside the training loop', async () => {
  const { d, m } = setup();
  const server = createRewardServer({ rewards: rewardsFromSpec('accuracy'), token: 'tok-123' });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/get_reward`;
  const saved = process.env.PACER_REWARD_TOKEN;
  try {
    process.env.PACER_REWARD_TOKEN = 'tok-123';
    // the remote reward agrees with the local one on the same completions
    const input = {
      prompts: ['1+1=', '2+2=', '3+3='],
      completions: ['2', '5', '06'],
      completionIds: [[], [], []],
      columns: { answer: ['2', '4', '6'] },
    };
    const [remote] = rewardsFromSpec(`remote:url=${url}:timeout=5`);
    const [local] = rewardsFromSpec('accuracy');
    assert.deepEqual(await remote.fn(input), await local.fn(input));
    const c = cfg(d, m, { trainer: 'grpo', max_steps: 2, reward_funcs: [`remote:url=${url}`], reward_weights: null });
    await train(c, quiet);
    assert.ok(metrics(c.output_dir).every((x) => typeof x['rewards/remote/mean'] === 'number'));
    // a wrong token is an error the trainer reports and handles (reward_on_error: zero), not a crash
    process.env.PACER_REWARD_TOKEN = 'wrong';
    const logs = [];
    await train(
      cfg(d, m, {
        trainer: 'grpo',
        tag: '-badtoken',
        max_steps: 1,
        reward_funcs: [`remote:url=${url}:retries=0`],
        reward_weights: null,
      }),
      { progress: false, log: (s) => logs.push(s) },
    );
    assert.ok(
      logs.some((l) => /401/.test(l)),
      logs.join('\n'),
    );
  } finally {
    if (saved === undefined) delete process.env.PACER_REWARD_TOKEN;
    else process.env.PACER_REWARD_TOKEN = saved;
    server.close();
  }
  assert.throws(() => rewardsFromSpec('remote'), /'remote:url' is required for reward 'remote'/);
});

test('rollouts from an OpenAI-compatible server stay on-policy with weight sync (update_weights_from_disk)', async () => {
  const { d, m } = setup();
  const served = fromPretrained(m).model;
  const server = createModelServer({
    model: served,
    tokenizer: Tokenizer.fromPretrained(m),
    modelName: 'policy',
    token: 'r-tok',
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const saved = process.env.PACER_ROLLOUT_TOKEN;
  process.env.PACER_ROLLOUT_TOKEN = 'r-tok';
  try {
    const run = async (tag, sync) => {
      const c = cfg(d, m, {
        trainer: 'grpo',
        tag,
        max_steps: 3,
        reward_funcs: ['first_token_odd'],
        reward_weights: null,
        rollout_server_url: url,
        rollout_server_model: 'policy',
        rollout_sync_weights: sync,
      });
      await train(c, quiet);
      return metrics(c.output_dir);
    };
    const synced = await run('-remote', true);
    // the server sampled with the policy's current weights: its log-probs equal the trainer's
    for (const x of synced)
      assert.ok(x['rollout/logprob_abs_diff'] < 1e-4, `step ${x.step}: ${x['rollout/logprob_abs_diff']}`);
    assert.ok(synced.every((x) => x['completions/mean_length'] > 0));
    // without sync the server keeps the last weights it loaded (the synced run's final step's), not this run's
    const stale = await run('-stale', false);
    assert.ok(
      stale.slice(1).some((x) => x['rollout/logprob_abs_diff'] > 1e-3),
      JSON.stringify(stale.map((x) => x['rollout/logprob_abs_diff'])),
    );
  } finally {
    if (saved === undefined) delete process.env.PACER_ROLLOUT_TOKEN;
    else process.env.PACER_ROLLOUT_TOKEN = saved;
    server.close();
    served.dispose();
  }
});

test('an evaluate callback runs every eval_steps and at the end, logged as eval_*', async () => {
  const { d, m } = setup();
  const calls = [];
  const c = cfg(d, m, { trainer: 'grpo', max_steps: 4, eval_strategy: 'steps', eval_steps: 2, logging_steps: 3 });
  await train(c, {
    ...quiet,
    evaluate: (model, step) => {
      calls.push(step);
      assert.equal(model.training, false);
      return { accuracy: step / 10 };
    },
  });
  assert.deepEqual(calls, [2, 4]);
  const ms = metrics(c.output_dir);
  assert.deepEqual(
    ms.filter((x) => 'eval_accuracy' in x).map((x) => [x.step, x.eval_accuracy]),
    [
      [2, 0.2],
      [4, 0.4],
    ],
  );
  // training records at logging steps and the last step; evaluations are their own records (TRL's log_history)
  assert.deepEqual(
    ms.map((x) => [x.step, 'loss' in x, 'eval_accuracy' in x]),
    [
      [2, false, true],
      [3, true, false],
      [4, true, false],
      [4, false, true],
    ],
  );
});

test('log_completions writes each step’s completions; a resume rewinds the file; the studio imports it', async () => {
  const { spawnSync } = await import('node:child_process');
  const { d, m } = setup();
  const c = cfg(d, m, { trainer: 'grpo', max_steps: 4, save_steps: 2, log_completions: true });
  await train(c, quiet);
  const read = () =>
    readFileSync(join(c.output_dir, 'completions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const first = read();
  assert.equal(first.length, 4 * 8, 'four steps of 2 prompts × 4 completions');
  assert.deepEqual([...new Set(first.map((r) => r.step))], [1, 2, 3, 4]);
  assert.deepEqual(Object.keys(first[0]).sort(), ['advantage', 'completion', 'prompt', 'reward', 'step', 'truncated']);
  const metrics1 = readFileSync(join(c.output_dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const step1 = first.filter((r) => r.step === 1);
  assert.ok(Math.abs(step1.reduce((a, r) => a + r.reward, 0) / 8 - metrics1[0].reward) < 1e-9, 'the logged rewards');
  await train({ ...c, resume_from_checkpoint: join(c.output_dir, 'checkpoint-2') }, quiet);
  const again = read();
  assert.deepEqual(again, first, 'steps 3 and 4 are logged once, as before (resume is exact)');
  const r = spawnSync(
    process.execPath,
    [
      'bin/pacer.js',
      'studio',
      'import',
      '--data',
      join(d, 'studio'),
      '--project',
      'run',
      '--run',
      c.output_dir,
      '--json',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    project: 'run',
    created: true,
    groups: 8,
    tasks: 8 * 6,
    folder: join(d, 'studio', 'projects', 'run'),
  });
});

test('tokens/generated counts every sampled completion token; tokens/trained the prompt and completion tokens trained on', async () => {
  const { d, m } = setup();
  // prompts of one length (all "a+b=" with one digit each), so each step trains 8 prompts of one token length
  const rows = Array.from({ length: 8 }, (_, i) => ({
    prompt: `${i}+${(i * 3) % 10}=`,
    answer: `${i + ((i * 3) % 10)}`,
  }));
  writeFileSync(join(d, 'same.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const c = cfg(d, m, { trainer: 'grpo', train_dataset: join(d, 'same.jsonl'), tag: '-tokens' });
  await train(c, quiet);
  const ms = metrics(c.output_dir).filter((x) => 'tokens/generated' in x);
  assert.equal(ms.length, 3);
  let generated = 0;
  const promptTokens = [];
  for (const [k, x] of ms.entries()) {
    // no dynamic sampling: the sampled tokens are the batch's 8 completions, mean_length each
    generated += Math.round(x['completions/mean_length'] * 8);
    assert.equal(x['tokens/generated'], generated, `step ${k + 1}`);
    promptTokens.push((x['tokens/trained'] - x['tokens/generated']) / ((k + 1) * 8));
  }
  // the rest of tokens/trained is (steps × 8) prompts of one length L, at least the 4 characters
  assert.ok(Number.isInteger(promptTokens[0]) && promptTokens[0] >= 4, String(promptTokens[0]));
  assert.deepEqual(promptTokens, [promptTokens[0], promptTokens[0], promptTokens[0]]);
  const results = JSON.parse(readFileSync(join(c.output_dir, 'train_results.json'), 'utf8'));
  assert.equal(results.generated_tokens, generated);
  assert.equal(results.trained_tokens, ms[2]['tokens/trained']);
});

test('frac_reward_zero_std is logged per value of the difficulty column', async () => {
  const { d, m } = setup();
  // hard rows get a constant reward (zero std in every hard group); easy rows alternate 0, 1 by batch
  // position, so each of their groups of 4 has spread
  REWARDS.by_stratum = () => (input) => input.columns.difficulty.map((k, i) => (k === 'hard' ? 1 : i % 2));
  const rows = Array.from({ length: 8 }, (_, i) => ({ prompt: `${i}+1=`, difficulty: i % 3 === 0 ? 'hard' : 'easy' }));
  writeFileSync(join(d, 'strata.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const c = cfg(d, m, {
    trainer: 'grpo',
    train_dataset: join(d, 'strata.jsonl'),
    reward_funcs: ['by_stratum'],
    reward_weights: null,
    tag: '-strata',
  });
  await train(c, quiet);
  const ms = metrics(c.output_dir).filter((x) => 'frac_reward_zero_std' in x);
  assert.equal(ms.length, 3);
  for (const x of ms) {
    const hard = 'frac_reward_zero_std/hard' in x;
    const easy = 'frac_reward_zero_std/easy' in x;
    assert.ok(hard || easy);
    if (hard) assert.equal(x['frac_reward_zero_std/hard'], 1);
    if (easy) assert.equal(x['frac_reward_zero_std/easy'], 0);
    // 2 groups per step: the overall fraction is the share of hard groups
    const expect = hard && easy ? 0.5 : hard ? 1 : 0;
    assert.equal(x.frac_reward_zero_std, expect);
  }
  delete REWARDS.by_stratum;
});

test('dynamic sampling: the sampler hears of the groups it dropped (zero advantage); dropped_groups is logged', async () => {
  const { d, m } = setup();
  const C = await import('../dist/curriculum/online.js');
  // a spy sampler: uniform draws, every update() recorded
  const heard = [];
  class Spy extends C.BaseSampler {
    name = 'spy';
    next(n) {
      return Array.from({ length: n }, () => this.rand.pick(this.items).index);
    }
    update(feedback) {
      heard.push(feedback);
    }
  }
  C.registerSampler('spy', { options: {}, make: (its, seed) => new Spy(its, seed) }, { replace: true });
  // hard rows get a constant reward (dropped until the last try), easy rows 0, 1 by batch position (kept)
  REWARDS.by_row = () => (input) => input.columns.difficulty.map((k, i) => (k === 'hard' ? 1 : i % 2));
  const rows = Array.from({ length: 8 }, (_, i) => ({ prompt: `${i}+1=`, difficulty: i < 4 ? 'hard' : 'easy' }));
  writeFileSync(join(d, 'rows.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const c = cfg(d, m, {
    trainer: 'grpo',
    train_dataset: join(d, 'rows.jsonl'),
    reward_funcs: ['by_row'],
    reward_weights: null,
    curriculum_sampler: 'spy',
    dynamic_sampling: true,
    tag: '-dropped',
  });
  await train(c, quiet);
  const ms = metrics(c.output_dir).filter((x) => 'tokens/generated' in x);
  assert.equal(ms.length, 3);
  assert.equal(heard.length, 3);
  for (const [k, fb] of heard.entries()) {
    // each step trains exactly 2 groups; every other group heard is one dynamic sampling dropped
    assert.equal(ms[k]['dynamic_sampling/dropped_groups'], fb.length - 2, `step ${k + 1}`);
    // only hard groups (all rewards equal) are dropped: at least fb.length − 2 of the heard are hard
    assert.ok(fb.filter((g) => g.index < 4).length >= fb.length - 2);
    // a hard group reports its rewards (all 1: pass rate 1, variance 0) and no advantage
    for (const g of fb.filter((x) => x.index < 4))
      assert.deepEqual([g.rewardMean, g.rewardVar, g.passRate, g.meanAbsAdvantage], [1, 0, 1, 0]);
    // an easy group's rewards are 0, 1, 0, 1
    for (const g of fb.filter((x) => x.index >= 4)) assert.deepEqual([g.rewardMean, g.rewardVar], [0.5, 0.25]);
  }
  // the uniform draws over 8 rows hit a hard row in some step: the spy heard of dropped groups
  assert.ok(heard.some((fb) => fb.length > 2));
  delete REWARDS.by_row;
});
