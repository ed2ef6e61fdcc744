// `pacer bench dpo`: wall time of one DPO epoch through `pacer train` (tokenization, cached
// reference log-probs, concatenated chosen+rejected forwards, AdamW) against a straightforward
// PyTorch implementation (bench/pytorch_dpo.py: four forwards per batch, no caching) on the same
// checkpoint and token ids, run in the same command. Both start from the same weights and data
// order, so their first losses must agree.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualSeed, setThreads, threadInfo } from '../../engine/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { loadDataset } from '../../data/datasets.js';
import { tokenizePreference } from '../../data/tokenize.js';
import { resolveConfig, train, type DPOConfig } from '../../trainers/index.js';
import { writeRandomLlama } from './fixture.js';
import { benchIftStep } from './ift.js';
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

/** Synthetic pairs from the bundled text: the true continuation vs the same words reversed. */
function writePairs(file: string, n: number): void {
  const text = join(dirname(fileURLToPath(import.meta.url)), '../../../data/tiny-text.txt');
  const lines = readFileSync(text, 'utf8').split('\n').filter(Boolean);
  const rows = Array.from({ length: n }, (_, i) => {
    const w = lines[i % lines.length].split(' ');
    const k = 4 + (i % 4);
    const cont = w.slice(k, k + 8);
    return JSON.stringify({
      prompt: w.slice(0, k).join(' '),
      chosen: ` ${cont.join(' ')}`,
      rejected: ` ${[...cont].reverse().join(' ')}`,
    });
  });
  writeFileSync(file, rows.join('\n') + '\n');
}

/** The DPO epoch both bench cases time: sigmoid loss, constant rate, no clipping, in order, nothing saved. */
export function dpoBenchKeys(batch: number, threads: number, seed: number) {
  return {
    learning_rate: 1e-4,
    beta: 0.1,
    per_device_train_batch_size: batch,
    per_device_eval_batch_size: batch,
    num_train_epochs: 1,
    max_grad_norm: 0,
    weight_decay: 0,
    lr_scheduler_type: 'constant',
    shuffle: false,
    logging_steps: 1,
    save_steps: 100000,
    report: false,
    threads,
    seed,
  };
}

export async function benchDpo(o: DpoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-dpo-'));
  try {
    const modelDir = join(dir, 'model');
    const { config } = writeRandomLlama(modelDir, { vocab: 384, hidden: o.hidden, layers: o.layers });
    const data = join(dir, 'pairs.jsonl');
    writePairs(data, o.pairs);
    const raw = {
      trainer: 'dpo',
      model_name_or_path: modelDir,
      train_dataset: data,
      output_dir: join(dir, 'out'),
      ...dpoBenchKeys(o.batch, o.threads, o.seed),
    };
    const cfg = resolveConfig(raw, 'bench') as DPOConfig;
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
    if (o.vsPytorch) Object.assign(out, await dpoPeer(o, cfg, dir, ours, out.first_loss as number));
    // IFT's step against SFT's, on the chosen completions of the same pairs
    const sftData = join(dir, 'sft.jsonl');
    const pairs = readFileSync(data, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    writeFileSync(
      sftData,
      pairs.map((p) => JSON.stringify({ prompt: p.prompt, completion: p.chosen })).join('\n') + '\n',
    );
    out.ift = await benchIftStep({
      modelDir,
      data: sftData,
      batch: o.batch * 2,
      steps: 5,
      threads: o.threads,
      seed: o.seed,
    });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same epoch in plain PyTorch, in each thread configuration; ratios against pacer's time. */
async function dpoPeer(o: DpoBenchOptions, cfg: DPOConfig, dir: string, ours: number, firstLoss: number) {
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const pairs = (await loadDataset(cfg.train_dataset)).map((e) => {
    const t = tokenizePreference(e, tok, { maxLength: cfg.max_length, maxPromptLength: cfg.max_prompt_length });
    return [t.prompt, t.chosen, t.rejected];
  });
  const args = join(dir, 'args.json');
  const pad = tok.padTokenId ?? 0;
  writeFileSync(args, JSON.stringify({ pairs, batch: o.batch, beta: 0.1, lr: 1e-4, threads: o.threads, pad }));
  const peer = runPeerConfigs(
    o.threads,
    (c) => runTorchPeer('pytorch_dpo.py', [cfg.model_name_or_path, args], c),
    (j) => j,
  );
  if (peer.errors.length || peer.runs.length === 0) return { pytorch_error: peer.errors.join('; ') || 'no result' };
  const j = peer.runs[0].result; // both pools at --threads
  const fastest = best(peer.runs, (r) => r.result.seconds)!;
  const configs = peer.runs.map((r) => ({
    intra_op: r.config.intraOp,
    blas: r.config.blas,
    seconds: round(r.result.seconds, 3),
  }));
  return {
    pytorch: {
      torch: j.torch,
      seconds: round(j.seconds, 3),
      first_loss: j.first_loss,
      last_loss: j.last_loss,
      configs,
      best: { config: configName(fastest.config), seconds: round(fastest.result.seconds, 3) },
    },
    // time ratios: pacer's seconds over PyTorch's (below 1: pacer is faster)
    wall_time_ratio: round(ours / j.seconds, 3),
    ratio_best_vs_best: round(ours / fastest.result.seconds, 3),
    first_loss_agrees: Math.abs(j.first_loss - firstLoss) < 1e-4,
  };
}
