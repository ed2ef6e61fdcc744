#!/usr/bin/env node
// Does Intuitive Fine-Tuning beat SFT where errors compound? (issue 12, item 6)
//   node bench/efficacy_ift.mjs [--seeds 0,1,2] [--tasks runsum,lake] [--steps 1500] [--json] [--out DIR]
// Tasks (src/tasks/sequences.ts): running sums mod 10 (train 6–12 digits; test in distribution at
// 6–12 and at 1.5× length, 13–18 digits) and text FrozenLake (train 4×4 and 5×5 maps; test the same
// sizes, scored by executing the path). Arms from the same random tiny Llama and the same data:
//   sft   SFT for --steps steps
//   ift   IFT (λ 0.2, γ 0.95) for --steps steps
//   dpo   SFT, then DPO (β 0.1, rpo_alpha 1) on its own failures — chosen the reference answer,
//         rejected its greedy answer on training prompts it gets wrong — for --dpo-steps more steps
// Greedy decoding; exact match (running sum) or solved (lake). Compute per arm: optimizer steps,
// forward passes per step (IFT makes two), wall seconds. Mean ± std over seeds.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modelFromConfig, savePretrained, fromPretrained } from '../dist/models/pretrained.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { resolveConfig, train } from '../dist/trainers/index.js';
import { writeTinyArithmeticModel, complete } from '../dist/tasks/arithmetic.js';
import * as S from '../dist/tasks/sequences.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2' },
    tasks: { type: 'string', default: 'runsum,lake' },
    steps: { type: 'string', default: '1500' },
    'dpo-steps': { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string', default: 'runs/efficacy-ift' },
    'runsum-lengths': { type: 'string', default: '4,8' },
    arms: { type: 'string', default: 'sft,ift,dpo' },
    json: { type: 'boolean' },
  },
});
const seeds = values.seeds.split(',').map(Number);
const steps = Number(values.steps);
const dpoSteps = Number(values['dpo-steps']);
const threads = Number(values.threads);
const say = (s) => process.stderr.write(`${s}\n`);
const [TRAIN_LO, TRAIN_HI] = values['runsum-lengths'].split(',').map(Number);
const ARMS = values.arms.split(',');

const TASKS = {
  runsum: {
    gen: (lo, hi) => (r) => S.runningSum(lo + Math.floor(r() * (hi - lo + 1)), r),
    train: [TRAIN_LO, TRAIN_HI],
    tests: { in_distribution: [TRAIN_LO, TRAIN_HI], long_1_5x: [TRAIN_HI + 1, Math.round(TRAIN_HI * 1.5)] },
    ok: S.runningSumCorrect,
    maxNew: 20,
  },
  lake: {
    gen: (lo, hi) => (r) => S.frozenLake(lo + Math.floor(r() * (hi - lo + 1)), 0.2, r),
    train: [4, 5],
    tests: { in_distribution: [4, 5] },
    ok: S.frozenLakeSolved,
    maxNew: 16,
  },
};

function data(task, seed, dir) {
  const t = TASKS[task];
  const tests = {};
  const exclude = new Set();
  for (const [k, [lo, hi]] of Object.entries(t.tests)) {
    tests[k] = S.makeSeqProblems(500, t.gen(lo, hi), 1000 + seed * 10 + Object.keys(tests).length, exclude);
    for (const p of tests[k]) exclude.add(p.prompt);
  }
  const trainSet = S.makeSeqProblems(20000, t.gen(...t.train), seed, exclude);
  const file = join(dir, 'train.jsonl');
  writeFileSync(
    file,
    trainSet.map((p) => JSON.stringify({ prompt: p.prompt, completion: p.target })).join('\n') + '\n',
  );
  return { trainSet, tests, file };
}

function score(task, dir, tests) {
  const { model } = fromPretrained(dir);
  const tok = Tokenizer.fromPretrained(dir);
  const out = {};
  for (const [k, probs] of Object.entries(tests)) {
    const ans = complete(model, tok, probs, { batchSize: 250, maxNewTokens: TASKS[task].maxNew });
    out[k] = probs.filter((p, i) => TASKS[task].ok(p, ans[i][0])).length / probs.length;
  }
  model.dispose();
  return out;
}

async function run(raw) {
  const t0 = performance.now();
  const r = await train(
    resolveConfig({ ...raw, threads, overwrite_output_dir: true, report: false, save_steps: 1e9 }, 'efficacy'),
    {
      progress: false,
      log: () => {},
    },
  );
  return { seconds: (performance.now() - t0) / 1000, steps: r.globalStep };
}

async function seedRun(task, seed) {
  const dir = join(values.out, task, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const { trainSet, tests, file } = data(task, seed, dir);
  const base = join(dir, 'base');
  const config = writeTinyArithmeticModel(base, {
    hidden: 96,
    layers: 3,
    heads: 4,
    chars: S.TASK_CHARS,
    maxPositions: 64,
  });
  savePretrained({ model: modelFromConfig(config), config }, base);
  const common = {
    model_name_or_path: base,
    train_dataset: file,
    learning_rate: 3e-3,
    lr_scheduler_type: 'cosine',
    warmup_steps: 20,
    weight_decay: 0.01,
    per_device_train_batch_size: 64,
    max_steps: steps,
    logging_steps: 50,
    max_length: 64,
    seed,
  };
  const res = {};
  const sft = await run({ ...common, trainer: 'sft', output_dir: join(dir, 'sft') });
  res.sft = { ...score(task, join(dir, 'sft'), tests), steps: sft.steps, forwards_per_step: 1, seconds: sft.seconds };
  if (ARMS.includes('ift')) {
    const ift = await run({
      ...common,
      trainer: 'ift',
      output_dir: join(dir, 'ift'),
      ift_lambda: 0.2,
      ift_gamma: 0.95,
    });
    res.ift = { ...score(task, join(dir, 'ift'), tests), steps: ift.steps, forwards_per_step: 2, seconds: ift.seconds };
  }
  if (!ARMS.includes('dpo')) return res;
  // DPO from the SFT model on its own failures on training prompts
  const { model } = fromPretrained(join(dir, 'sft'));
  const tok = Tokenizer.fromPretrained(join(dir, 'sft'));
  const pool = trainSet.slice(0, 4000);
  const ans = complete(model, tok, pool, { batchSize: 250, maxNewTokens: TASKS[task].maxNew }).map((a) => a[0]);
  model.dispose();
  const pairs = pool.flatMap((p, i) =>
    !TASKS[task].ok(p, ans[i]) && ans[i].trim()
      ? [{ prompt: p.prompt, chosen: p.target, rejected: ans[i].trim() }]
      : [],
  );
  writeFileSync(join(dir, 'pairs.jsonl'), pairs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  let dpo = { seconds: 0, steps: 0 };
  if (pairs.length >= 16)
    dpo = await run({
      ...common,
      trainer: 'dpo',
      model_name_or_path: join(dir, 'sft'),
      train_dataset: join(dir, 'pairs.jsonl'),
      output_dir: join(dir, 'dpo'),
      learning_rate: 5e-5,
      lr_scheduler_type: 'linear',
      warmup_steps: 0,
      max_steps: dpoSteps,
      per_device_train_batch_size: 16,
      beta: 0.1,
      rpo_alpha: 1,
    });
  const dpoScores = pairs.length >= 16 ? score(task, join(dir, 'dpo'), tests) : score(task, join(dir, 'sft'), tests);
  res.dpo = {
    ...dpoScores,
    steps: sft.steps + dpo.steps,
    forwards_per_step: 1,
    seconds: sft.seconds + dpo.seconds,
    pairs: pairs.length,
  };
  rmSync(base, { recursive: true, force: true });
  return res;
}

const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: Math.round(m * 1e4) / 1e4, std: Math.round(sd * 1e4) / 1e4 };
};

const summary = { seeds, steps, dpo_steps: dpoSteps, tasks: {} };
for (const task of values.tasks.split(',')) {
  const perSeed = {};
  for (const seed of seeds) {
    say(`ift study: ${task} seed ${seed}`);
    perSeed[seed] = await seedRun(task, seed);
    say(`  ${JSON.stringify(perSeed[seed])}`);
  }
  const arms = {};
  for (const arm of ARMS) {
    arms[arm] = {};
    for (const k of [...Object.keys(TASKS[task].tests), 'seconds', 'steps'])
      arms[arm][k] = stats(seeds.map((s) => perSeed[s][arm][k]));
  }
  const long = TASKS[task].tests.long_1_5x ? 'long_1_5x' : 'in_distribution';
  const diff = ARMS.includes('ift') ? seeds.map((s) => perSeed[s].ift[long] - perSeed[s].sft[long]) : [];
  summary.tasks[task] = {
    arms,
    per_seed: perSeed,
    ift_minus_sft: diff.length ? { metric: long, ...stats(diff), per_seed: diff } : null,
  };
}
writeFileSync(join(values.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
if (values.json) console.log(JSON.stringify(summary));
else console.log(JSON.stringify(summary.tasks, (k, v) => (k === 'per_seed' ? undefined : v), 2));
