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
const base = tinyModel(join(dir, 'base'));
// prompt-only rows; other columns (answer, difficulty) reach the rewards as input.columns
const prompts = writeJsonl(join(dir, 'prompts.jsonl'), sums(128));

// "digits:bonus=0.5" in reward_funcs: `bonus` is a number ≥ 0, default 1; a typo in it is a ConfigError
registerReward(
  'digits',
  { bonus: opt.num(1, 'reward for an answer made only of digits', { min: 0 }) },
  (o) => (input) => input.completions.map((c) => (/^\d+$/.test(c.trim()) ? o.bonus : 0)),
);

const run = await train(
  {
    trainer: 'grpo',
    model_name_or_path: base,
    train_dataset: prompts,
    output_dir: join(dir, 'grpo'),
    overwrite_output_dir: true,
    reward_funcs: ['accuracy', 'digits:bonus=0.5'], // accuracy compares with the 'answer' column
    reward_weights: [1, 1],
    num_generations: 4,
    per_device_train_batch_size: 16, // 4 prompts x 4 completions
    max_completion_length: 4,
    use_peft: true,
    lora_r: 8,
    max_steps: SMOKE ? 2 : 200,
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
    digits: run.finalMetrics['rewards/digits/mean'],
    adapter: join(run.outputDir, 'adapter_model.safetensors'),
    sample: out.text,
  }),
);
