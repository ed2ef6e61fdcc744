// `pacer bench generate`: greedy decoding throughput with a KV cache at batch 1 and 16 on a
// Llama-architecture model, against a PyTorch reference loop (bench/pytorch_generate.py) on the
// same checkpoint in the same command. Also checks that both produce the same tokens.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, manualSeed, randint, setThreads, threadInfo, scope } from '../../engine/index.js';
import { modelFromConfig, savePretrained } from '../../models/pretrained.js';
import { generate } from '../../models/generate.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer } from './peer.js';
import { llamaConfig } from './fixture.js';

export interface GenerateBenchOptions {
  batches: number[];
  promptLen: number;
  newTokens: number;
  threads: number;
  seed: number;
  repeats: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  vsPytorch: boolean;
}

export function benchGenerate(o: GenerateBenchOptions): Record<string, unknown> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const config = llamaConfig({
    vocab: o.vocab,
    hidden: o.hidden,
    layers: o.layers,
    heads: o.heads,
    kvHeads: o.kvHeads,
    maxPositions: o.promptLen + o.newTokens,
  });
  const model = modelFromConfig(config);
  const maxB = Math.max(...o.batches);
  const prompts: number[][] = scope(() =>
    randint(0, o.vocab, [maxB, o.promptLen], { generator: new Generator(o.seed) }).tolist(),
  );
  const results: Record<string, any> = {};
  for (const B of o.batches) {
    const run = () => {
      const t0 = performance.now();
      const r = generate(model, prompts.slice(0, B), { maxNewTokens: o.newTokens, eosTokenId: [] });
      return { s: (performance.now() - t0) / 1000, tokens: r[0].tokens };
    };
    run();
    const runs = Array.from({ length: o.repeats }, run);
    const s = median(runs.map((r) => r.s));
    results[String(B)] = {
      tokens_per_s: round((B * o.newTokens) / s),
      seconds: round(s, 3),
      tokens_row0: runs[0].tokens,
    };
  }
  const out: Record<string, unknown> = {
    bench: 'generate',
    model: config,
    prompt_len: o.promptLen,
    new_tokens: o.newTokens,
    threads: o.threads,
    blas: threadInfo().blas,
    params: model.numParameters(),
  };
  if (o.vsPytorch) {
    const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-gen-'));
    try {
      savePretrained({ model, config, modelType: 'llama' }, dir);
      const argsFile = join(dir, 'args.json');
      writeFileSync(
        argsFile,
        JSON.stringify({
          batches: o.batches,
          prompt_len: o.promptLen,
          new_tokens: o.newTokens,
          threads: o.threads,
          repeats: o.repeats,
          prompts,
        }),
      );
      const peer = runPeerConfigs(
        o.threads,
        (c) => runTorchPeer('pytorch_generate.py', [dir, argsFile], c, 30 * 60_000),
        (j) => j,
      );
      if (peer.errors.length || peer.runs.length === 0) out.pytorch_error = peer.errors.join('; ') || 'no result';
      else {
        // runs[0] has both pools at --threads (the same-threads comparison); best is the fastest
        out.pytorch = {
          torch: peer.runs[0].result.torch,
          configs: peer.runs.map((r) => ({
            intra_op: r.config.intraOp,
            blas: r.config.blas,
            tokens_per_s: Object.fromEntries(
              o.batches.map((B) => [B, round(r.result.results[String(B)].tokens_per_s)]),
            ),
          })),
        };
        for (const B of o.batches) {
          const same = peer.runs[0].result.results[String(B)];
          const fastest = best(peer.runs, (r) => -r.result.results[String(B)].tokens_per_s)!;
          const ours = results[String(B)];
          ours.pytorch_tokens_per_s = round(same.tokens_per_s);
          ours.ratio_vs_pytorch = round(ours.tokens_per_s / same.tokens_per_s, 3);
          ours.pytorch_best = {
            config: configName(fastest.config),
            tokens_per_s: round(fastest.result.results[String(B)].tokens_per_s),
          };
          // pacer's tokens/s over PyTorch's fastest configuration's (> 1: pacer is faster)
          ours.ratio_best_vs_best = round(ours.tokens_per_s / fastest.result.results[String(B)].tokens_per_s, 3);
          ours.same_tokens_as_pytorch = peer.runs.every(
            (r) => JSON.stringify(r.result.results[String(B)].tokens_row0) === JSON.stringify(ours.tokens_row0),
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const r of Object.values(results)) delete r.tokens_row0;
  out.results = results;
  model.dispose();
  return out;
}
