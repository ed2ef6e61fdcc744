// `pacer bench dpo`: wall time of one DPO epoch through `pacer train` (tokenization, cached
// reference log-probs, concatenated chosen+rejected forwards, AdamW) against a straightforward
// PyTorch implementation (bench/pytorch_dpo.py: four forwards per batch, no caching) on the same
// checkpoint and token ids, run in the same command. Both start from the same weights and data
// order, so their first losses must agree.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setThreads, threadInfo } from '../../engine/index.js';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { loadDataset } from '../../data/datasets.js';
import { tokenizePreference } from '../../data/tokenize.js';
import { resolveConfig, train, type DPOConfig } from '../../trainers/index.js';
import { best, configName, round, runPeerConfigs, runTorchPeer } from './peer.js';

export interface DpoBenchOptions {
  pairs: number;
  batch: number;
  hidden: number;
  layers: number;
  threads: number;
  vsPytorch: boolean;
  seed: number;
}

export async function benchDpo(o: DpoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-dpo-'));
  try {
    const tokDir = join(here, '../../../test/fixtures/models/llama');
    const config = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 384,
      hidden_size: o.hidden,
      intermediate_size: Math.round((o.hidden * 8) / 3 / 32) * 32,
      num_hidden_layers: o.layers,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 256,
      tie_word_embeddings: false,
    };
    const modelDir = join(dir, 'model');
    const model = modelFromConfig(config);
    savePretrained({ model, config, modelType: 'llama' }, modelDir);
    model.dispose();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokDir, f), join(modelDir, f));
    // Synthetic pairs from the bundled text: the true continuation vs the same words reversed.
    const lines = readFileSync(join(here, '../../../data/tiny-text.txt'), 'utf8').split('\n').filter(Boolean);
    const rows: string[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const w = lines[i % lines.length].split(' ');
      const k = 4 + (i % 4);
      const cont = w.slice(k, k + 8);
      rows.push(
        JSON.stringify({
          prompt: w.slice(0, k).join(' '),
          chosen: ' ' + cont.join(' '),
          rejected: ' ' + [...cont].reverse().join(' '),
        }),
      );
    }
    const data = join(dir, 'pairs.jsonl');
    writeFileSync(data, rows.join('\n') + '\n');
    const cfg = resolveConfig(
      {
        trainer: 'dpo',
        model_name_or_path: modelDir,
        train_dataset: data,
        output_dir: join(dir, 'out'),
        learning_rate: 1e-4,
        beta: 0.1,
        per_device_train_batch_size: o.batch,
        per_device_eval_batch_size: o.batch,
        num_train_epochs: 1,
        max_grad_norm: 0,
        weight_decay: 0,
        lr_scheduler_type: 'constant',
        shuffle: false,
        logging_steps: 1,
        save_steps: 100000,
        report: false,
        threads: o.threads,
        seed: o.seed,
      },
      'bench',
    );
    const t0 = performance.now();
    const r = await train(cfg, { progress: false, log: () => {} });
    const ours = (performance.now() - t0) / 1000;
    const out: Record<string, unknown> = {
      bench: 'dpo',
      pairs: o.pairs,
      batch: o.batch,
      steps: r.globalStep,
      threads: o.threads,
      blas: threadInfo().blas,
      model: config,
      seconds: round(ours, 3),
      pairs_per_s: round(o.pairs / ours),
      first_loss: r.history[0]?.loss,
      last_loss: r.history[r.history.length - 1]?.loss,
    };
    if (o.vsPytorch) {
      const tok = Tokenizer.fromPretrained(modelDir);
      const pairs = (await loadDataset(data)).map((e) => {
        const t = tokenizePreference(e, tok, {
          maxLength: (cfg as DPOConfig).max_length,
          maxPromptLength: (cfg as DPOConfig).max_prompt_length,
        });
        return [t.prompt, t.chosen, t.rejected];
      });
      const args = join(dir, 'args.json');
      writeFileSync(
        args,
        JSON.stringify({ pairs, batch: o.batch, beta: 0.1, lr: 1e-4, threads: o.threads, pad: tok.padTokenId ?? 0 }),
      );
      const peer = runPeerConfigs(
        o.threads,
        (c) => runTorchPeer('pytorch_dpo.py', [modelDir, args], c),
        (j) => j,
      );
      if (peer.errors.length || peer.runs.length === 0) out.pytorch_error = peer.errors.join('; ') || 'no result';
      else {
        const j = peer.runs[0].result; // both pools at --threads
        const fastest = best(peer.runs, (r) => r.result.seconds)!;
        out.pytorch = {
          torch: j.torch,
          seconds: round(j.seconds, 3),
          first_loss: j.first_loss,
          last_loss: j.last_loss,
          configs: peer.runs.map((r) => ({
            intra_op: r.config.intraOp,
            blas: r.config.blas,
            seconds: round(r.result.seconds, 3),
          })),
          best: { config: configName(fastest.config), seconds: round(fastest.result.seconds, 3) },
        };
        // time ratios: pacer's seconds over PyTorch's (below 1: pacer is faster)
        out.wall_time_ratio = round(ours / j.seconds, 3);
        out.ratio_best_vs_best = round(ours / fastest.result.seconds, 3);
        out.first_loss_agrees = Math.abs(j.first_loss - (out.first_loss as number)) < 1e-4;
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
