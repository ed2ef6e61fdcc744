// `pacer bench grpo`: wall time of a GRPO step through the online trainer, split into generation
// (sampling G completions per prompt with the KV cache), scoring (decoding + the accuracy reward)
// and training (advantages, the policy forward/backward with the clipped DAPO surrogate, clipping,
// AdamW) — the split the trainer logs as timing/*_s — against a PyTorch reference of the same step
// (bench/pytorch_grpo.py) on the same checkpoint and prompts, run in the same command. Medians over
// the measured steps; the first step of each side warms up and is not counted.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setThreads, threadInfo } from '../../engine/index.js';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { resolveConfig, train } from '../../trainers/index.js';
import { makeProblems } from '../../tasks/arithmetic.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer } from './peer.js';

export interface GrpoBenchOptions {
  steps: number;
  prompts: number;
  generations: number;
  newTokens: number;
  hidden: number;
  layers: number;
  beta: number;
  threads: number;
  seed: number;
  vsPytorch: boolean;
}

const PARTS = ['generation', 'scoring', 'training'] as const;

export async function benchGrpo(o: GrpoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-grpo-'));
  try {
    const tokDir = join(here, '../../../test/fixtures/models/llama');
    const tok = Tokenizer.fromPretrained(tokDir);
    const vocab = tok.vocabSize;
    const config = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: vocab,
      hidden_size: o.hidden,
      intermediate_size: Math.round((o.hidden * 8) / 3 / 32) * 32,
      num_hidden_layers: o.layers,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 256,
      tie_word_embeddings: false,
      bos_token_id: tok.bosTokenId,
      eos_token_id: tok.eosTokenId,
      pad_token_id: tok.padTokenId,
    };
    const modelDir = join(dir, 'model');
    const model = modelFromConfig(config);
    const params = model.numParameters();
    savePretrained({ model, config, modelType: 'llama' }, modelDir);
    model.dispose();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokDir, f), join(modelDir, f));
    const problems = makeProblems(o.prompts * (o.steps + 1), [2, 3, 4], o.seed);
    const data = join(dir, 'prompts.jsonl');
    writeFileSync(data, problems.map((p) => JSON.stringify({ prompt: p.prompt, answer: p.answer })).join('\n') + '\n');
    const common = { learning_rate: 1e-5, beta: o.beta, epsilon: 0.2, epsilon_high: 0.28 };
    const cfg = resolveConfig(
      {
        trainer: 'grpo',
        model_name_or_path: modelDir,
        train_dataset: data,
        output_dir: join(dir, 'out'),
        ...common,
        loss_type: 'dapo',
        num_generations: o.generations,
        per_device_train_batch_size: o.prompts * o.generations,
        max_completion_length: o.newTokens,
        temperature: 1,
        reward_funcs: 'accuracy',
        max_steps: o.steps + 1,
        max_grad_norm: 1,
        weight_decay: 0,
        lr_scheduler_type: 'constant',
        logging_steps: 1,
        save_steps: 100000,
        report: false,
        threads: o.threads,
        seed: o.seed,
      },
      'bench',
    );
    const r = await train(cfg, { progress: false, log: () => {} });
    const rows = r.history.slice(1);
    const ours: Record<string, number> = {};
    for (const p of PARTS) ours[`${p}_s`] = round(median(rows.map((h) => h[`timing/${p}_s`])), 6);
    ours.step_s = round(ours.generation_s + ours.scoring_s + ours.training_s, 6);
    ours.completion_mean_length = round(median(rows.map((h) => h['completions/mean_length'])));
    const out: Record<string, unknown> = {
      bench: 'grpo',
      steps: o.steps,
      prompts_per_step: o.prompts,
      num_generations: o.generations,
      max_completion_length: o.newTokens,
      beta: o.beta,
      loss_type: 'dapo',
      threads: o.threads,
      blas: threadInfo().blas,
      model: config,
      params,
      pacer: ours,
    };
    if (o.vsPytorch) {
      const ids = Object.entries(
        JSON.parse(readFileSync(join(tokDir, 'tokenizer.json'), 'utf8')).model.vocab as Record<string, number>,
      );
      const vocabList: string[] = new Array(vocab).fill('');
      for (const [s, i] of ids) if (i < vocab) vocabList[i] = s;
      const args = join(dir, 'args.json');
      writeFileSync(
        args,
        JSON.stringify({
          prompts: problems.map((p) => tok.encode(p.prompt, { addSpecialTokens: true })),
          answers: problems.map((p) => p.answer),
          G: o.generations,
          P: o.prompts,
          new_tokens: o.newTokens,
          steps: o.steps,
          beta: o.beta,
          lr: common.learning_rate,
          eps_low: common.epsilon,
          eps_high: common.epsilon_high,
          threads: o.threads,
          pad: tok.padTokenId ?? 0,
          eos: tok.eosTokenId,
          vocab: vocabList,
        }),
      );
      const peer = runPeerConfigs(
        o.threads,
        (c) => runTorchPeer('pytorch_grpo.py', [modelDir, args], c),
        (j) => {
          const t: Record<string, number> = {};
          for (const part of PARTS) t[`${part}_s`] = round(j[`${part}_s`], 6);
          t.step_s = round(t.generation_s + t.scoring_s + t.training_s, 6);
          t.completion_mean_length = round(j.completion_mean_length);
          return { torch: j.torch as string, step_s: t.step_s, ...t };
        },
      );
      if (peer.errors.length || peer.runs.length === 0) out.pytorch_error = peer.errors.join('; ') || 'no result';
      else {
        const theirs = peer.runs[0].result; // both pools at --threads
        const fastest = best(peer.runs, (r) => r.result.step_s)!;
        out.pytorch = {
          ...theirs,
          configs: peer.runs.map((r) => ({ intra_op: r.config.intraOp, blas: r.config.blas, step_s: r.result.step_s })),
          best: { config: configName(fastest.config), ...fastest.result },
        };
        // time ratios: pacer's seconds over PyTorch's (below 1 = pacer is faster)
        out.time_ratio_vs_pytorch = Object.fromEntries(
          [...PARTS, 'step'].map((k) => [k, ratio(ours[`${k}_s`], (theirs as any)[`${k}_s`])]),
        );
        out.ratio_best_vs_best = ratio(ours.step_s, fastest.result.step_s);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** a / b to 3 decimals, or null when b is 0 at the measured precision (a part that takes < 1 µs). */
function ratio(a: number, b: number): number | null {
  return b > 0 ? round(a / b, 3) : null;
}
