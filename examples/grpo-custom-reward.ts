// GRPO with a reward of your own, registered by name with typed options and used in the config next to a
// built-in one; LoRA adapters come out in PEFT's layout, and the merged model generates. Guide:
// docs/grpo-custom-reward.md.   node grpo-custom-reward.js [WORKDIR]   (PACER_SMOKE=1: a few steps)
import { join } from 'node:path';
import { fromPretrained, generate } from 'pacer/models';
import { opt, registerReward } from 'pacer/rewards';
import { Tokenizer } from 'pacer/tokenizers';
import { train } from 'pacer/trainers';
import { SMOKE, sums, tinyModel, workDir, writeJsonl } from './tiny.ts';

const dir = workDir('grpo');
// GRPO starts from a model that already answers in the task's format — your SFT model. Here: the tiny
// random model after a short SFT on the same kind of sums (docs/sft-dpo.md).
const sft = await train(
  {
    trainer: 'sft',
    model_name_or_path: tinyModel(join(dir, 'base')),
    train_dataset: writeJsonl(
      join(dir, 'sft.jsonl'),
      sums(256, 1).map((x) => ({ prompt: x.prompt, completion: x.answer })),
    ),
    output_dir: join(dir, 'sft'),
    overwrite_output_dir: true,
    max_steps: SMOKE ? 1 : 300,
    per_device_train_batch_size: 16,
    learning_rate: 3e-3,
    report: false,
  },
  { progress: !SMOKE },
);
// prompt-only rows; the other columns (answer, difficulty) reach the rewards as input.columns
const prompts = writeJsonl(join(dir, 'prompts.jsonl'), sums(128));

// "closeness:scale=0.5" in reward_funcs: partial credit scale / (1 + |guess − answer|) for a numeric answer,
// reading the dataset's 'answer' column; `scale` is a number ≥ 0 (default 1), and a typo in it is a
// ConfigError when the config loads.
registerReward(
  'closeness',
  { scale: opt.num(1, 'credit for an exact answer', { min: 0 }) },
  (o) => (input) =>
    input.completions.map((c, i) => {
      const guess = Number(c.trim());
      const answer = Number(input.columns.answer[i]);
      return /^-?\d+$/.test(c.trim()) ? o.scale / (1 + Math.abs(guess - answer)) : 0;
    }),
);

const run = await train(
  {
    trainer: 'grpo',
    model_name_or_path: sft.outputDir,
    train_dataset: prompts,
    output_dir: join(dir, 'grpo'),
    overwrite_output_dir: true,
    reward_funcs: ['accuracy', 'closeness:scale=0.5'], // accuracy compares with the 'answer' column
    reward_weights: [1, 1],
    num_generations: 8,
    per_device_train_batch_size: 64, // 8 prompts x 8 completions
    max_completion_length: 4,
    use_peft: true,
    lora_r: 8,
    max_steps: SMOKE ? 2 : 100,
    learning_rate: 2e-3,
    logging_steps: SMOKE ? 1 : 10,
    report: !SMOKE,
  },
  { progress: !SMOKE },
);

// the merged model (base + adapters) in Hugging Face layout: load it and sample
const merged = join(run.outputDir, 'merged');
const { model } = fromPretrained(merged);
const tok = Tokenizer.fromPretrained(merged);
const [out] = generate(
  model,
  [tok.encode('12+7=', { addSpecialTokens: true })],
  { maxNewTokens: 4, doSample: false },
  tok,
);
console.log(
  JSON.stringify({
    steps: run.globalStep,
    reward: run.finalMetrics.reward,
    closeness: run.finalMetrics['rewards/closeness/mean'],
    adapter: join(run.outputDir, 'adapter_model.safetensors'),
    sample: out.text,
  }),
);
