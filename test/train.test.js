// pacer train: every offline trainer end to end on a tiny checkpoint; metrics, checkpoints and
// exact resume (also after SIGKILL); bad input rejected before training; curricula and stages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P, FIXTURES } from './helpers.js';
import { resolveConfig, train, trainWithStages, loadConfig } from '../dist/trainers/index.js';
import { loadDataset, shuffledIndices, extractPrompt } from '../dist/data/datasets.js';
import { orderItems, pacingFraction } from '../dist/curriculum/offline.js';
import { fromPretrained } from '../dist/models/pretrained.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(FIXTURES, 'models', 'llama');
const tmp = () => mkdtempSync(join(tmpdir(), 'pacer-train-'));
const quiet = { progress: false, log: () => {} };

function writeJsonl(file, rows) {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}
function arithmetic(n, seed = 0) {
  const rows = [];
  let s = seed + 1;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const a = 1 + Math.floor(r() * 9),
      b = 1 + Math.floor(r() * 9);
    rows.push({ a, b });
  }
  return rows;
}
const pref = (d) =>
  writeJsonl(
    join(d, 'pref.jsonl'),
    arithmetic(12).map(({ a, b }, i) => ({
      prompt: `${a}+${b}=`,
      chosen: `${a + b}`,
      rejected: `${a + b + 1}`,
      difficulty: a + b,
      margin: (i % 3) * 0.5,
    })),
  );
const cfgFor = (d, extra) =>
  resolveConfig(
    {
      model_name_or_path: MODEL,
      output_dir: join(d, 'out'),
      per_device_train_batch_size: 4,
      max_steps: 4,
      logging_steps: 1,
      save_steps: 100,
      threads: 1,
      learning_rate: 1e-3,
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

test('dpo: TRL metrics, eval metrics, report, loadable model, several loss types', async () => {
  const d = tmp();
  const cfg = cfgFor(d, {
    trainer: 'dpo',
    train_dataset: pref(d),
    eval_dataset: join(d, 'pref.jsonl'),
    loss_type: ['sigmoid', 'hinge'],
    loss_weights: [1, 0.5],
    rpo_alpha: 0.1,
    use_weighting: true,
  });
  const r = await train(cfg, quiet);
  assert.equal(r.globalStep, 4);
  const m = metrics(cfg.output_dir);
  assert.deepEqual(
    m.filter((x) => !('eval_loss' in x)).map((x) => x.step),
    [1, 2, 3, 4],
  );
  for (const k of [
    'loss',
    'rewards/chosen',
    'rewards/rejected',
    'rewards/margins',
    'rewards/accuracies',
    'logps/chosen',
    'logps/rejected',
    'learning_rate',
    'grad_norm',
    'nll_loss',
    'policy_weights',
  ])
    assert.ok(k in m[0], `missing ${k}`);
  // the first step's metrics describe the initial policy: its rewards are exactly zero
  assert.equal(m[0]['rewards/chosen'], 0);
  assert.equal(m[0]['rewards/margins'], 0);
  assert.ok('eval_loss' in m[m.length - 1] && 'eval_rewards/accuracies' in m[m.length - 1]);
  const html = readFileSync(join(cfg.output_dir, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /Chosen vs rejected log-probs/);
  const reloaded = fromPretrained(cfg.output_dir);
  assert.ok(reloaded.model.numParameters() > 0);
  assert.ok(existsSync(join(cfg.output_dir, 'tokenizer.json')));
});

for (const [trainer, extra, keys] of [
  ['sft', {}, ['loss', 'num_tokens']],
  ['reward', { center_rewards_coefficient: 0.01 }, ['loss', 'rewards/accuracies', 'rewards/margins']],
  ['orpo', { beta: 0.2 }, ['loss', 'nll_loss', 'log_odds_ratio', 'log_odds_chosen', 'rewards/margins']],
  ['cpo', { loss_type: 'simpo', cpo_alpha: 0, beta: 2 }, ['loss', 'rewards/chosen', 'logps/rejected']],
  ['kto', {}, ['loss', 'kl', 'rewards/chosen', 'rewards/rejected']],
]) {
  test(`${trainer} trains and logs its metrics`, async () => {
    const d = tmp();
    let data;
    if (trainer === 'sft')
      data = writeJsonl(
        join(d, 'sft.jsonl'),
        arithmetic(8).map(({ a, b }) => ({ prompt: `${a}+${b}=`, completion: `${a + b}` })),
      );
    else if (trainer === 'kto')
      data = writeJsonl(
        join(d, 'kto.jsonl'),
        arithmetic(8).map(({ a, b }, i) => ({
          prompt: `${a}+${b}=`,
          completion: `${a + b + (i % 2)}`,
          label: i % 2 === 0,
        })),
      );
    else data = pref(d);
    const cfg = cfgFor(d, { trainer, train_dataset: data, ...extra });
    const r = await train(cfg, quiet);
    const m = metrics(cfg.output_dir);
    for (const k of keys) assert.ok(k in m[0], `${trainer}: missing ${k}`);
    assert.ok(m.every((x) => Number.isFinite(x.loss)));
    assert.equal(r.globalStep, 4);
    if (trainer === 'reward') assert.ok(existsSync(join(cfg.output_dir, 'score.safetensors')));
  });
}

test('sft: completion-only loss masks the prompt; conversational and language-modeling data work', async () => {
  const d = tmp();
  const conv = writeJsonl(
    join(d, 'conv.jsonl'),
    arithmetic(6).map(({ a, b }) => ({
      messages: [
        { role: 'user', content: `${a}+${b}` },
        { role: 'assistant', content: `${a + b}` },
      ],
    })),
  );
  await train(cfgFor(d, { trainer: 'sft', train_dataset: conv, max_steps: 2 }), quiet);
  const lm = writeJsonl(join(d, 'lm.jsonl'), [
    { text: 'The river runs down from the hills.' },
    { text: 'One and one make two.' },
  ]);
  await train(cfgFor(d, { trainer: 'sft', train_dataset: lm, max_steps: 2, output_dir: join(d, 'lm') }), quiet);
  const pc = writeJsonl(join(d, 'pc.jsonl'), [{ prompt: 'The river runs', completion: ' down' }]);
  const only = metrics(
    (await train(cfgFor(d, { trainer: 'sft', train_dataset: pc, max_steps: 1, output_dir: join(d, 'a') }), quiet))
      .outputDir,
  )[0].num_tokens;
  const all = metrics(
    (
      await train(
        cfgFor(d, {
          trainer: 'sft',
          train_dataset: pc,
          max_steps: 1,
          completion_only_loss: false,
          output_dir: join(d, 'b'),
        }),
        quiet,
      )
    ).outputDir,
  )[0].num_tokens;
  assert.ok(only < all, `${only} completion tokens vs ${all} in all`);
});

test('learning_rate 0 is an evaluation-only pass: weights unchanged', async () => {
  const d = tmp();
  const cfg = cfgFor(d, { trainer: 'dpo', train_dataset: pref(d), learning_rate: 0, max_steps: 2 });
  await train(cfg, quiet);
  const a = P.loadSafetensors(join(MODEL, 'model.safetensors'));
  const b = P.loadSafetensors(join(cfg.output_dir, 'model.safetensors'));
  for (const [k, t] of a) assert.ok(t.eq(b.get(k)).all().item(), k);
});

test('resume_from_checkpoint continues bit-identically (metrics and weights)', async () => {
  const d = tmp();
  const cfg = cfgFor(d, {
    trainer: 'dpo',
    train_dataset: pref(d),
    max_steps: 6,
    save_steps: 2,
    gradient_accumulation_steps: 2,
    per_device_train_batch_size: 2,
    lr_scheduler_type: 'cosine',
    warmup_steps: 1,
    weight_decay: 0.1,
  });
  await train(cfg, quiet);
  const full = readFileSync(join(cfg.output_dir, 'metrics.jsonl'), 'utf8');
  const w = readFileSync(join(cfg.output_dir, 'model.safetensors'));
  assert.deepEqual(
    readdirSync(cfg.output_dir)
      .filter((n) => n.startsWith('checkpoint-'))
      .sort(),
    ['checkpoint-2', 'checkpoint-4'],
  );
  await train({ ...cfg, resume_from_checkpoint: true }, quiet);
  assert.equal(readFileSync(join(cfg.output_dir, 'metrics.jsonl'), 'utf8'), full);
  assert.ok(readFileSync(join(cfg.output_dir, 'model.safetensors')).equals(w));
  await train({ ...cfg, resume_from_checkpoint: join(cfg.output_dir, 'checkpoint-2') }, quiet);
  assert.equal(readFileSync(join(cfg.output_dir, 'metrics.jsonl'), 'utf8'), full);
});

test('a run killed with SIGKILL leaves only complete checkpoints and resumes to the same result', async () => {
  const d = tmp();
  pref(d);
  const yaml = join(d, 'c.yaml');
  writeFileSync(
    yaml,
    `trainer: dpo\nmodel_name_or_path: ${MODEL}\ntrain_dataset: pref.jsonl\noutput_dir: out\nper_device_train_batch_size: 2\nmax_steps: 40\nsave_steps: 1\nlogging_steps: 1\nthreads: 1\nlearning_rate: 0.001\n`,
  );
  const ref = tmp();
  cpSync(d, ref, { recursive: true });
  const run = (cwd, extra = []) =>
    spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', 'c.yaml', '--no-progress', ...extra], {
      cwd,
      encoding: 'utf8',
    });
  assert.equal(run(ref).status, 0);
  const child = spawn(process.execPath, [join(root, 'bin/pacer.js'), 'train', 'c.yaml', '--no-progress'], {
    cwd: d,
    stdio: 'ignore',
  });
  await new Promise((res) => {
    const t = setInterval(() => {
      const n = existsSync(join(d, 'out'))
        ? readdirSync(join(d, 'out')).filter((x) => x.startsWith('checkpoint-')).length
        : 0;
      if (n >= 5) {
        clearInterval(t);
        child.kill('SIGKILL');
        res();
      }
    }, 5);
  });
  await new Promise((res) => child.on('exit', res));
  for (const c of readdirSync(join(d, 'out')).filter((x) => /^checkpoint-\d+$/.test(x))) {
    assert.ok(existsSync(join(d, 'out', c, 'trainer_state.json')), `${c} is incomplete`);
    P.scope(() => assert.ok(P.loadSafetensors(join(d, 'out', c, 'weights.safetensors')).size > 0));
  }
  const r = run(d, ['--set', 'resume_from_checkpoint=true']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    readFileSync(join(d, 'out', 'metrics.jsonl'), 'utf8'),
    readFileSync(join(ref, 'out', 'metrics.jsonl'), 'utf8'),
  );
});

test('LoRA training saves a PEFT adapter and a merged model; the base stays frozen', async () => {
  const d = tmp();
  const cfg = cfgFor(d, {
    trainer: 'dpo',
    train_dataset: pref(d),
    use_peft: true,
    lora_r: 4,
    lora_alpha: 8,
    lora_target_modules: ['q_proj', 'v_proj'],
    max_steps: 3,
  });
  await train(cfg, quiet);
  assert.ok(existsSync(join(cfg.output_dir, 'adapter_config.json')));
  assert.ok(existsSync(join(cfg.output_dir, 'adapter_model.safetensors')));
  const m = metrics(cfg.output_dir);
  assert.equal(m[0]['rewards/chosen'], 0, 'adapters start as the reference');
  const merged = fromPretrained(join(cfg.output_dir, 'merged'));
  const base = fromPretrained(MODEL);
  const mp = new Map(merged.model.namedParameters());
  for (const [n, p] of base.model.namedParameters()) {
    const same = p.eq(mp.get(n)).all().item();
    if (/self_attn\.(q|v)_proj\.weight$/.test(n)) assert.ok(!same, `${n} should include the adapter`);
    else assert.ok(same, `${n} changed`);
  }
});

test('bad input is rejected before training starts, naming the line or key', async () => {
  const d = tmp();
  const base = {
    trainer: 'dpo',
    model_name_or_path: MODEL,
    output_dir: join(d, 'o'),
    train_dataset: join(d, 'x.jsonl'),
  };
  const bad = async (rows, re, extra = {}) => {
    writeFileSync(join(d, 'x.jsonl'), rows);
    await assert.rejects(train(resolveConfig({ ...base, ...extra }, 'cfg', d), quiet), re);
    assert.equal(existsSync(join(d, 'o', 'metrics.jsonl')), false, 'nothing trained');
  };
  await bad(
    '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": \n',
    /x\.jsonl:2: not valid JSON/,
  );
  await bad('{"prompt": "a", "chosen": "b"}\n', /x\.jsonl:1: missing field 'rejected'/);
  await bad('{"prompt": "a", "chosen": "", "rejected": "c"}\n', /x\.jsonl:1: field 'chosen' is empty/);
  await bad(
    '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"text": "hello"}\n',
    /x\.jsonl:2: this line is language_modeling but .*x\.jsonl:1 is preference/,
  );
  await bad(
    `{"prompt": "${'word '.repeat(40)}", "chosen": "b", "rejected": "c"}\n`,
    /x\.jsonl:1: the prompt is \d+ tokens, not shorter than max_length 16/,
    { max_length: 16, max_prompt_length: null },
  );
  await bad('{"text": "hello world"}\n', /the dpo trainer needs preference data, this dataset is language_modeling/);
  await bad('', /the dataset is empty/);
  const c = (o) => () => resolveConfig({ ...base, ...o }, 'cfg.yaml', d);
  assert.throws(
    c({ lerning_rate: 1 }),
    /cfg\.yaml: 'lerning_rate' is not a key of trainer 'dpo' \(did you mean 'learning_rate'\?\)/,
  );
  assert.throws(c({ loss_type: 'sigmod' }), /unknown loss_type 'sigmod'/);
  assert.throws(
    c({ reference_free: true, ref_model_name_or_path: MODEL }),
    /'ref_model_name_or_path' has no effect unless reference_free: false/,
  );
  assert.throws(
    c({ max_length: 64, max_prompt_length: 64 }),
    /max_prompt_length \(64\) must be smaller than max_length \(64\)/,
  );
  assert.throws(c({ trainer: 'sft', beta: 0.1 }), /'beta' does not apply to trainer 'sft'/);
  assert.throws(c({ trainer: 'ppo3' }), /unknown trainer 'ppo3'/);
  assert.throws(c({ learning_rate: -1 }), /'learning_rate' must be >= 0/);
  assert.throws(c({ per_device_train_batch_size: 'four' }), /'per_device_train_batch_size' must be an integer/);
  assert.throws(c({ eval_strategy: 'steps' }), /needs an 'eval_dataset'/);
  assert.throws(
    c({ label_smoothing: 0.1, loss_type: 'hinge' }),
    /label_smoothing applies to the sigmoid and robust losses/,
  );
  writeFileSync(join(d, 'bad.yaml'), 'trainer: dpo\n  model: [\n');
  // 'trainer: dpo' then an indented key: YAML's rule breaks on line 1 (the mapping that cannot nest)
  assert.throws(() => loadConfig(join(d, 'bad.yaml')), {
    name: 'ConfigError',
    line: 1,
    message: /bad\.yaml:1: not valid YAML/,
  });
  const cli = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', join(d, 'bad.yaml')], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 2);
});

test('errors carry file, line and key or field as fields; train() takes a YAML path or a plain object', async () => {
  const d = tmp();
  const head = `trainer: dpo\nmodel_name_or_path: ${MODEL}\ntrain_dataset: x.jsonl\noutput_dir: o\n`;
  const cfg = join(d, 'cfg.yaml');
  writeFileSync(cfg, `${head}# a comment\nlerning_rate: 1\n`); // the typo is on line 6
  await assert.rejects(train(cfg, quiet), {
    name: 'ConfigError',
    file: cfg,
    line: 6,
    key: 'lerning_rate',
    message: new RegExp(`${cfg}:6: 'lerning_rate' is not a key`),
  });
  writeFileSync(cfg, head);
  // an override given in code is not in the file: no line
  await assert.rejects(train(cfg, { ...quiet, overrides: { max_stepz: 3 } }), (e) => e.key === 'max_stepz' && !e.line);
  writeFileSync(cfg, head.replace('dpo', 'grpo') + 'reward_funcs: [accuracy]\ncurriculum_options:\n  tua: 1\n');
  assert.throws(() => loadConfig(cfg), { line: 7, key: 'curriculum_options.tua' });
  writeFileSync(cfg, head.replace('dpo', 'grpo') + 'reward_funcs:\n  - accuracy\n  - "overlong:max_length=8:cach=2"\n');
  assert.throws(() => loadConfig(cfg), { line: 5, key: 'overlong:cach' }); // the reward_funcs key's line
  // data: the 3rd line lacks 'rejected' (line 2 is blank and is skipped, yet counted)
  writeFileSync(
    join(d, 'x.jsonl'),
    '{"prompt": "a", "chosen": "b", "rejected": "c"}\n\n{"prompt": "a", "chosen": "b"}\n',
  );
  writeFileSync(cfg, head);
  await assert.rejects(train(cfg, quiet), {
    name: 'DataError',
    file: join(d, 'x.jsonl'),
    line: 3,
    field: 'rejected',
  });
  // a plain object: relative paths resolve against the working directory; typos are ConfigErrors
  await assert.rejects(
    train({ trainer: 'sft', model_name_or_path: MODEL, train_dataset: 'x.jsonl', output_dir: 'o', lr: 1 }, quiet),
    { name: 'ConfigError', key: 'lr', message: /train\(config\): 'lr' is not a key of trainer 'sft'/ },
  );
  writeFileSync(join(d, 'x.jsonl'), '{"prompt": "1+1=", "completion": "2"}\n{"prompt": "2+2=", "completion": "4"}\n');
  writeFileSync(cfg, `${head.replace('dpo', 'sft')}max_steps: 1\nper_device_train_batch_size: 2\nreport: false\n`);
  const r = await train(cfg, { ...quiet, overrides: { max_steps: 2 } });
  assert.equal(r.globalStep, 2, '--set-style overrides win over the file');
  assert.equal(r.outputDir, join(d, 'o'), "the file's relative paths resolve against its folder");
});

test('datasets: Parquet, implicit prompts, seeded shuffles', async () => {
  const d = tmp();
  const { parquetWriteFile } = await import('hyparquet-writer');
  parquetWriteFile({
    filename: join(d, 'p.parquet'),
    columnData: [
      { name: 'prompt', data: ['1+1=', '2+2='] },
      { name: 'chosen', data: ['2', '4'] },
      { name: 'rejected', data: ['3', '5'] },
      { name: 'difficulty', data: [1, 2] },
    ],
  });
  const ex = await loadDataset(join(d, 'p.parquet'));
  assert.equal(ex.length, 2);
  assert.equal(ex[1].chosen, '4');
  assert.equal(ex[1].extra.difficulty, 2);
  assert.match(ex[0].where, /p\.parquet:row 1/);
  const r = await train(
    cfgFor(d, { trainer: 'dpo', train_dataset: join(d, 'p.parquet'), max_steps: 1, per_device_train_batch_size: 2 }),
    quiet,
  );
  assert.equal(r.globalStep, 1);
  assert.deepEqual(extractPrompt('The sky is blue', 'The sky is green'), {
    prompt: 'The sky is',
    chosen: ' blue',
    rejected: ' green',
  });
  const conv = extractPrompt(
    [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'a' },
    ],
    [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'b' },
    ],
  );
  assert.deepEqual(conv.prompt, [{ role: 'user', content: 'hi' }]);
  assert.deepEqual(shuffledIndices(10, 3), shuffledIndices(10, 3));
  assert.notDeepEqual(shuffledIndices(10, 3), shuffledIndices(10, 4));
  assert.deepEqual(
    [...shuffledIndices(10, 3)].sort((a, b) => a - b),
    [...Array(10).keys()],
  );
});

test('curricula: Curry ordering, pacing functions, staged training', async () => {
  const items = [3, 1, 2].map((v, i) => ({
    where: `f:${i + 1}`,
    extra: { difficulty: v },
    ref: { chosen: -v, rejected: -1 - 2 * v },
  }));
  assert.deepEqual(
    orderItems(items, { curriculum: { type: 'curry', by: 'difficulty' }, _source: 't' }).map((i) => i.extra.difficulty),
    [1, 2, 3],
  );
  // reference margin: chosen - rejected = 1 + v; larger margin = easier, first
  assert.deepEqual(
    orderItems(items, { curriculum: { type: 'curry', by: 'reference_margin' }, _source: 't' }).map(
      (i) => i.extra.difficulty,
    ),
    [3, 2, 1],
  );
  assert.throws(
    () => orderItems([{ where: 'f:1', extra: {} }], { curriculum: { type: 'curry', by: 'difficulty' }, _source: 't' }),
    /f:1: curriculum by difficulty needs a numeric 'difficulty' column/,
  );
  assert.equal(pacingFraction('linear', 0, 10, 0.2), 0.2);
  assert.ok(Math.abs(pacingFraction('linear', 5, 10, 0.2) - 0.6) < 1e-12);
  assert.ok(Math.abs(pacingFraction('root', 5, 10, 0.2) - Math.sqrt(0.04 + 0.96 * 0.5)) < 1e-12);
  assert.ok(Math.abs(pacingFraction('geometric', 10, 10, 0.25) - 1) < 1e-12);
  assert.equal(pacingFraction('step', 4, 10, 0.3), 0.3);
  assert.equal(pacingFraction('step', 6, 10, 0.3), 1);
  const d = tmp();
  const paced = await train(
    cfgFor(d, {
      trainer: 'dpo',
      train_dataset: pref(d),
      curriculum: { type: 'curry', by: 'difficulty', pacing: 'root', start_fraction: 0.3 },
      max_steps: 3,
    }),
    quiet,
  );
  assert.equal(paced.globalStep, 3);
  const easy = writeJsonl(
    join(d, 'easy.jsonl'),
    arithmetic(4).map(({ a, b }) => ({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 5}` })),
  );
  const stages = await trainWithStages(
    cfgFor(d, {
      trainer: 'dpo',
      train_dataset: pref(d),
      output_dir: join(d, 'staged'),
      max_steps: 2,
      stages: [{ train_dataset: easy }, { train_dataset: join(d, 'pref.jsonl'), learning_rate: 5e-4 }],
    }),
    quiet,
  );
  assert.equal(stages.length, 2);
  assert.ok(
    existsSync(join(d, 'staged', 'stage-1', 'model.safetensors')) &&
      existsSync(join(d, 'staged', 'stage-2', 'model.safetensors')),
  );
  // stage 2 starts from stage 1: its reference (= its start) gives zero rewards at its first step
  assert.equal(metrics(join(d, 'staged', 'stage-2'))[0]['rewards/chosen'], 0);
});

test('sft packing: the same loss as padded batches, fewer rows', async () => {
  const d = tmp();
  const data = writeJsonl(
    join(d, 'sft.jsonl'),
    arithmetic(6).map(({ a, b }) => ({ prompt: `${a}+${b}=`, completion: `${a + b}` })),
  );
  const common = {
    trainer: 'sft',
    train_dataset: data,
    max_steps: 1,
    per_device_train_batch_size: 6,
    shuffle: false,
    max_length: 64,
    max_prompt_length: 16,
  };
  const padded = metrics((await train(cfgFor(d, { ...common, output_dir: join(d, 'pad') }), quiet)).outputDir)[0];
  const packed = metrics(
    (await train(cfgFor(d, { ...common, packing: true, output_dir: join(d, 'pack') }), quiet)).outputDir,
  )[0];
  assert.equal(packed.num_tokens, padded.num_tokens);
  assert.ok(Math.abs(packed.loss - padded.loss) < 1e-5, `${packed.loss} vs ${padded.loss}`);
  assert.throws(() => cfgFor(d, { ...common, packing: true, max_length: null }), /packing needs a max_length/);
});

test('a trained reward model loads back and serves as reward_model:path=DIR', async () => {
  const d = tmp();
  const cfg = cfgFor(d, { trainer: 'reward', train_dataset: pref(d), max_steps: 3 });
  await train(cfg, quiet);
  const { rewardsFromSpec, runRewards } = await import('../dist/rewards/index.js');
  const { loadScalarHeadModel } = await import('../dist/models/heads.js');
  const { Tokenizer } = await import('../dist/tokenizers/index.js');
  const rep = await runRewards(rewardsFromSpec(`reward_model:path=${cfg.output_dir}`), {
    prompts: ['1+2=', '3+4='],
    completions: ['3', '9'],
    columns: {},
  });
  assert.equal(rep.errors.length, 0, rep.errors.join('; '));
  const rm = loadScalarHeadModel(cfg.output_dir);
  const tok = Tokenizer.fromPretrained(cfg.output_dir);
  const direct = P.scope(() =>
    P.noGrad(() =>
      rm
        .forward({
          ids: P.tensor([[...tok.encode('1+2=', { addSpecialTokens: true }), ...tok.encode('3')]], { dtype: 'int64' }),
        })
        .item(),
    ),
  );
  assert.ok(Math.abs(rep.rewards[0] - direct) < 1e-5, `${rep.rewards[0]} vs ${direct}`);
  assert.notEqual(rep.rewards[0], rep.rewards[1]);
  assert.throws(() => rewardsFromSpec('reward_model'), /'reward_model:path' is required/);
  assert.throws(() => loadScalarHeadModel(MODEL), /score\.safetensors not found/);
});

test('offline trainers log tokens/trained: every token of every sequence trained on (one epoch: the data set)', async () => {
  const { Tokenizer } = await import('../dist/tokenizers/index.js');
  const d = tmp();
  const texts = ['one two three', 'four five', 'six seven eight nine', 'ten', 'a b c d e', 'x y', 'the end', 'go'];
  writeJsonl(
    join(d, 'lm.jsonl'),
    texts.map((text) => ({ text })),
  );
  const tok = Tokenizer.fromPretrained(MODEL);
  // each text as SFT trains it: the tokenizer's ids with special tokens, then EOS when not already last
  const lens = texts.map((t) => {
    const ids = tok.encode(t, { addSpecialTokens: true });
    return ids.length + (ids[ids.length - 1] === tok.eosTokenId ? 0 : 1);
  });
  const c = resolveConfig(
    {
      trainer: 'sft',
      model_name_or_path: MODEL,
      train_dataset: join(d, 'lm.jsonl'),
      output_dir: join(d, 'out'),
      per_device_train_batch_size: 4,
      max_steps: 2,
      logging_steps: 1,
      save_steps: 100,
      threads: 1,
      report: false,
    },
    'test',
    d,
  );
  await train(c, quiet);
  const ms = readFileSync(join(d, 'out', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(JSON.parse);
  const total = lens.reduce((a, b) => a + b, 0);
  assert.equal(ms.at(-1)['tokens/trained'], total);
  assert.ok(ms[0]['tokens/trained'] > 0 && ms[0]['tokens/trained'] < total);
  assert.equal(JSON.parse(readFileSync(join(d, 'out', 'train_results.json'), 'utf8')).trained_tokens, total);
});
