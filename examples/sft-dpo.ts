// SFT on your prompt-completion data, then DPO from the SFT model on your preference pairs, with LoRA:
// the two calls `pacer train sft.yaml` and `pacer train dpo.yaml` make, from code. Guide: docs/sft-dpo.md.
//   node sft-dpo.js [WORKDIR]        (PACER_SMOKE=1: a few steps)
import { join } from 'node:path';
import { train } from 'pacer';
import { SMOKE, sums, tinyModel, workDir, writeJsonl } from './tiny.ts';

const dir = workDir('sft-dpo');
const base = tinyModel(join(dir, 'base')); // your model: any local Hugging Face folder

// Your data in TRL's formats: prompt-completion rows for SFT, prompt/chosen/rejected pairs for DPO
const sft = writeJsonl(
  join(dir, 'sft.jsonl'),
  sums(256).map((x) => ({ prompt: x.prompt, completion: x.answer })),
);
const pairs = writeJsonl(
  join(dir, 'pairs.jsonl'),
  sums(256, 1).map((x) => ({ prompt: x.prompt, chosen: x.answer, rejected: String(Number(x.answer) + 10) })),
);
const quiet = { progress: !SMOKE };

const sftRun = await train(
  {
    trainer: 'sft',
    model_name_or_path: base,
    train_dataset: sft,
    output_dir: join(dir, 'sft'),
    overwrite_output_dir: true, // rerunning the example replaces its runs
    max_steps: SMOKE ? 2 : 300,
    per_device_train_batch_size: 16,
    learning_rate: 3e-3,
    report: !SMOKE,
  },
  quiet,
);

// DPO starts from the SFT model (also its reference), trains LoRA adapters and saves them in PEFT's layout
const dpoRun = await train(
  {
    trainer: 'dpo',
    model_name_or_path: sftRun.outputDir,
    train_dataset: pairs,
    output_dir: join(dir, 'dpo'),
    overwrite_output_dir: true,
    beta: 0.1,
    use_peft: true,
    lora_r: 8,
    lora_alpha: 16,
    max_steps: SMOKE ? 2 : 100,
    per_device_train_batch_size: 8,
    learning_rate: 1e-3,
    report: !SMOKE,
  },
  quiet,
);

console.log(
  JSON.stringify({
    sft_loss: sftRun.finalMetrics.loss,
    dpo_loss: dpoRun.finalMetrics.loss,
    dpo_reward_accuracy: dpoRun.finalMetrics['rewards/accuracies'],
    adapter: join(dpoRun.outputDir, 'adapter_model.safetensors'),
    merged: join(dpoRun.outputDir, 'merged'),
  }),
);
