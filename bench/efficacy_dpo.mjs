#!/usr/bin/env node
// Efficacy of DPO on the project's arithmetic task (not a timed test): for each seed, a tiny
// Llama is trained from scratch with SFT on 2-digit additions, then DPO on pairs built from its
// own samples (a correct answer chosen, an incorrect one rejected); held-out accuracy (greedy,
// exact answer) of the SFT start and of the DPO model is reported, and the mean over seeds.
//
//   node bench/efficacy_dpo.mjs [--seeds 0,1,2] [--sft-steps 2500] [--dpo-steps 150] [--dpo-lr 5e-5]
//                               [--beta 0.1] [--rpo-alpha 1] [--dpo-prompts 3000] [--raft-control] [--json]
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modelFromConfig, savePretrained, fromPretrained } from '../dist/models/pretrained.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { resolveConfig, train } from '../dist/trainers/index.js';
import { makeProblems, writeTinyArithmeticModel, accuracy, complete, isCorrect } from '../dist/tasks/arithmetic.js';
import { manualSeed, setThreads } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    'sft-steps': { type: 'string' },
    'dpo-steps': { type: 'string' },
    'dpo-lr': { type: 'string' },
    beta: { type: 'string' },
    'rpo-alpha': { type: 'string' },
    'dpo-prompts': { type: 'string' },
    'raft-control': { type: 'boolean' },
    json: { type: 'boolean' },
  },
});
const seeds = (values.seeds ?? '0,1,2').split(',').map(Number);
const sftSteps = Number(values['sft-steps'] ?? 2500);
const dpoSteps = Number(values['dpo-steps'] ?? 150);
const dpoLr = Number(values['dpo-lr'] ?? 5e-5);
const beta = Number(values.beta ?? 0.1);
const rpoAlpha = values['rpo-alpha'] === undefined ? 1 : Number(values['rpo-alpha']);
const nDpoPrompts = Number(values['dpo-prompts'] ?? 3000);
const threads = availableParallelism();
const log = (s) => {
  if (!values.json) console.error(s);
};
const jsonl = (file, rows) => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

const results = [];
for (const seed of seeds) {
  setThreads(threads);
  manualSeed(seed);
  const dir = mkdtempSync(join(tmpdir(), `pacer-efficacy-${seed}-`));
  // SFT starts are cached per (seed, steps) so that DPO settings can be compared on the same start.
  const cached = join(tmpdir(), 'pacer-efficacy-cache', `sft-seed${seed}-steps${sftSteps}-hfinit`);
  const base = join(dir, 'base');
  const config = writeTinyArithmeticModel(base, { hidden: 96, layers: 3, heads: 4 });
  savePretrained({ model: modelFromConfig(config), config, modelType: 'llama' }, base);
  const test = makeProblems(300, [2], 10_000 + seed);
  const exclude = new Set(test.map((p) => p.prompt));
  const sftData = makeProblems(3000, [1, 2], seed, exclude);
  const dpoPrompts = makeProblems(nDpoPrompts, [2], 20_000 + seed, exclude);
  jsonl(
    join(dir, 'sft.jsonl'),
    sftData.map((p) => ({ prompt: p.prompt, completion: p.answer })),
  );
  const common = {
    per_device_train_batch_size: 32,
    logging_steps: 20,
    save_steps: 100000,
    threads,
    seed,
    report: false,
    max_length: 32,
    max_prompt_length: 16,
  };
  if (!existsSync(join(cached, 'model.safetensors'))) {
    log(`seed ${seed}: SFT ${sftSteps} steps`);
    await train(
      resolveConfig(
        {
          trainer: 'sft',
          model_name_or_path: base,
          train_dataset: join(dir, 'sft.jsonl'),
          output_dir: cached,
          learning_rate: 3e-3,
          max_steps: sftSteps,
          lr_scheduler_type: 'cosine',
          warmup_steps: 20,
          weight_decay: 0.01,
          ...common,
        },
        'efficacy',
      ),
      { progress: !values.json, log },
    );
  }
  cpSync(cached, join(dir, 'sft'), { recursive: true });
  const tok = Tokenizer.fromPretrained(join(dir, 'sft'));
  const sft = fromPretrained(join(dir, 'sft')).model;
  const accSft = accuracy(sft, tok, test);
  // Pairs from the SFT model's own answers: its greedy answer and 4 samples at temperature 1; a
  // correct answer is chosen and an incorrect one rejected, preferring the greedy answer on
  // whichever side it falls (so the pairs target the model's own mode).
  const greedy = complete(sft, tok, dpoPrompts, {});
  const samples = complete(sft, tok, dpoPrompts, { samples: 4, temperature: 1.0, seed });
  const pairs = [];
  dpoPrompts.forEach((p, i) => {
    const g = greedy[i][0];
    const good = isCorrect(p, g) ? g : samples[i].find((s) => isCorrect(p, s));
    const bad = !isCorrect(p, g) ? g : samples[i].find((s) => !isCorrect(p, s));
    if (good !== undefined && bad !== undefined && bad.trim().length > 0)
      pairs.push({ prompt: p.prompt, chosen: good, rejected: bad });
  });
  sft.dispose();
  jsonl(join(dir, 'dpo.jsonl'), pairs);
  log(`seed ${seed}: SFT accuracy ${accSft.toFixed(3)}; DPO on ${pairs.length} self-sampled pairs, ${dpoSteps} steps`);
  await train(
    resolveConfig(
      {
        trainer: 'dpo',
        model_name_or_path: join(dir, 'sft'),
        train_dataset: join(dir, 'dpo.jsonl'),
        output_dir: join(dir, 'dpo'),
        learning_rate: dpoLr,
        beta,
        rpo_alpha: rpoAlpha,
        max_steps: dpoSteps,
        ...common,
        per_device_train_batch_size: 16,
      },
      'efficacy',
    ),
    { progress: !values.json, log },
  );
  const dpo = fromPretrained(join(dir, 'dpo')).model;
  const accDpo = accuracy(dpo, tok, test);
  dpo.dispose();
  log(`seed ${seed}: DPO accuracy ${accDpo.toFixed(3)}`);
  const row = { seed, pairs: pairs.length, accuracy_sft: accSft, accuracy_dpo: accDpo };
  if (values['raft-control']) {
    // Control: the same steps of plain SFT on the chosen answers only (RAFT), to separate the DPO
    // term's effect from the NLL term's.
    jsonl(
      join(dir, 'raft.jsonl'),
      pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen })),
    );
    await train(
      resolveConfig(
        {
          trainer: 'sft',
          model_name_or_path: join(dir, 'sft'),
          train_dataset: join(dir, 'raft.jsonl'),
          output_dir: join(dir, 'raft'),
          learning_rate: dpoLr,
          max_steps: dpoSteps,
          ...common,
          per_device_train_batch_size: 16,
        },
        'efficacy',
      ),
      { progress: !values.json, log },
    );
    const raft = fromPretrained(join(dir, 'raft')).model;
    row.accuracy_raft = accuracy(raft, tok, test);
    raft.dispose();
  }
  results.push(row);
}
const mean = (k) => results.reduce((a, r) => a + r[k], 0) / results.length;
const raftMean = results.every((r) => 'accuracy_raft' in r) ? { mean_accuracy_raft: mean('accuracy_raft') } : {};
const summary = {
  task: 'arithmetic 2-digit addition, held-out 300',
  seeds,
  sft_steps: sftSteps,
  dpo_steps: dpoSteps,
  dpo_learning_rate: dpoLr,
  beta,
  rpo_alpha: rpoAlpha,
  results,
  mean_accuracy_sft: mean('accuracy_sft'),
  mean_accuracy_dpo: mean('accuracy_dpo'),
  dpo_minus_sft: mean('accuracy_dpo') - mean('accuracy_sft'),
  ...raftMean,
};
console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
