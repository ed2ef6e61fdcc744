// `pacer train CONFIG.yaml`: every trainer from one YAML config with TRL's key names.
import { parse as parseYaml } from 'yaml';
import { TRAINERS, World, configHelp, loadConfig, shutdownWorld, trainWithStages } from '../../trainers/index.js';
import { UsageError, defineCommand, str } from '../command.js';

export const train = defineCommand({
  name: 'train',
  summary: `train from a YAML config (TRL key names): ${TRAINERS.join(' | ')}`,
  usage: 'pacer train CONFIG.yaml [--set key=value ...] [--no-progress]\n       pacer train --help-config TRAINER',
  description: `The config names a trainer and its data, e.g.

  trainer: dpo                          # ${TRAINERS.join(' | ')}
  model_name_or_path: path/to/hf-model  # a local Hugging Face folder
  train_dataset: data/train.jsonl       # .jsonl or .parquet in a TRL format
  eval_dataset: data/eval.jsonl         # optional
  output_dir: runs/dpo
  learning_rate: 5.0e-6
  beta: 0.1
  max_steps: 200                        # or num_train_epochs
  use_peft: true                        # LoRA (lora_r, lora_alpha, …), for every trainer

Online RL (grpo | rloo | reg_grpo | raft | online_dpo | ppo) reads prompt-only data and names its
rewards (reward_funcs: [accuracy]); ppo trains a value model with the policy (TRL's PPOConfig keys:
kl_coef, cliprange, vf_coef, gamma, lam, num_ppo_epochs, …). 'pacer train --help-config grpo' lists
every key a trainer accepts, with its type, default and meaning. A key the trainer does not read is
an error that names it and the closest valid key.

ppo_env trains a control policy on an environment with CleanRL's PPO and its key names:

  trainer: ppo_env
  env_id: CartPole-v1                   # a pacer environment (Gymnasium id)
  output_dir: runs/cartpole
  total_timesteps: 100000               # num_envs, num_steps, learning_rate, clip_coef, ent_coef, …

TSPO (trainer: tspo) trains a frame-sampling agent instead of a model: questions from a needle-world
data.jsonl, frozen features from frame_encoder, a frozen answerer; no model_name_or_path or LoRA.

Writes output_dir/metrics.jsonl (TRL metric names), checkpoint-N/ folders, the trained model in HF
layout (or a PEFT adapter plus merged/), train_results.json and report.html.

Data-parallel: 'pacer launch --nproc-per-node N train CONFIG.yaml' (or torchrun and launchers that set
RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) trains with N processes; see 'pacer launch --help'.`,
  positionals: true,
  options: {
    set: {
      type: 'string',
      arg: 'KEY=VALUE',
      help: 'override a key (the value is parsed as YAML); repeatable',
      multiple: true,
    },
    'no-progress': { type: 'boolean', help: 'no progress bar' },
    'help-config': { type: 'string', arg: 'TRAINER', help: "print the trainer's documented config keys and exit" },
  },
  async run(v, positionals) {
    const helpFor = str(v['help-config']);
    if (helpFor !== undefined) {
      if (!(TRAINERS as readonly string[]).includes(helpFor))
        throw new UsageError(`--help-config: unknown trainer '${helpFor}' (one of ${TRAINERS.join(', ')})`);
      console.log(configHelp(helpFor as (typeof TRAINERS)[number]));
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('train needs exactly one CONFIG.yaml');
    const overrides: Record<string, unknown> = {};
    for (const kv of (v.set as string[] | undefined) ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new UsageError(`--set expects key=value, got '${kv}'`);
      overrides[kv.slice(0, i)] = parseYaml(kv.slice(i + 1));
    }
    const cfg = loadConfig(positionals[0], overrides);
    const results = await trainWithStages(cfg, { progress: !v['no-progress'] });
    const main = World.current().isMain;
    shutdownWorld();
    if (!main) return 0;
    const last = results[results.length - 1];
    const out = {
      output_dir: last.outputDir,
      global_step: last.globalStep,
      final: last.finalMetrics,
      eval: last.evalMetrics,
    };
    console.log(JSON.stringify(out));
    return 0;
  },
});
