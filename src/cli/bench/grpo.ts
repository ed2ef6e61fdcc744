// `pacer bench grpo`: wall time of a GRPO step through the online trainer, split into generation
// (sampling G completions per prompt with the KV cache), scoring (decoding + the accuracy reward)
// and training (advantages, the policy forward/backward with the clipped DAPO surrogate, clipping,
// AdamW) — the split the trainer logs as timing/*_s — against a PyTorch reference of the same step
// (bench/pytorch_grpo.py) on the same checkpoint and prompts, run in the same command. Medians over
// the measured steps; the first step of each side warms up and is not counted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, setThreads, threadInfo } from '../../engine/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { resolveConfig, train } from '../../trainers/index.js';
import { makeProblems, type Problem } from '../../tasks/arithmetic.js';
import { FIXTURE_TOKENIZER, writeRandomLlama } from './fixture.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer, type ThreadConfig } from './peer.js';

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

export const PARTS = ['generation', 'scoring', 'training'] as const;
export const HYPER = { learning_rate: 1e-5, epsilon: 0.2, epsilon_high: 0.28 };

/** The run's shape and hyperparameters as the PyTorch GRPO peers read them from args.json. */
export function peerRun(
  o: Pick<GrpoBenchOptions, 'generations' | 'prompts' | 'newTokens' | 'steps' | 'beta' | 'threads'>,
) {
  return {
    G: o.generations,
    P: o.prompts,
    new_tokens: o.newTokens,
    steps: o.steps,
    beta: o.beta,
    lr: HYPER.learning_rate,
    eps_low: HYPER.epsilon,
    eps_high: HYPER.epsilon_high,
    threads: o.threads,
  };
}
export type Split = Record<string, number>;

/** Medians of the parts over the measured steps (the first step warms up). */
export function split(history: Array<Record<string, number>>): Split {
  const rows = history.slice(1);
  const s: Split = {};
  for (const p of PARTS) s[`${p}_s`] = round(median(rows.map((h) => h[`timing/${p}_s`])), 6);
  s.step_s = round(s.generation_s + s.scoring_s + s.training_s, 6);
  s.completion_mean_length = round(median(rows.map((h) => h['completions/mean_length'])));
  return s;
}

type StepShape = Pick<GrpoBenchOptions, 'beta' | 'generations' | 'prompts' | 'newTokens' | 'steps' | 'seed'>;

/** The GRPO steps both bench cases time: DAPO loss, accuracy reward, constant rate, one warm-up step. */
export function grpoBenchKeys(o: StepShape, threads: number) {
  return {
    ...HYPER,
    beta: o.beta,
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
    threads,
    seed: o.seed,
  };
}

export async function benchGrpo(o: GrpoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-grpo-'));
  try {
    const tok = Tokenizer.fromPretrained(FIXTURE_TOKENIZER);
    const modelDir = join(dir, 'model');
    const special = { bos: tok.bosTokenId, eos: tok.eosTokenId, pad: tok.padTokenId };
    const { config, params } = writeRandomLlama(modelDir, {
      vocab: tok.vocabSize,
      hidden: o.hidden,
      layers: o.layers,
      special,
    });
    const problems = makeProblems(o.prompts * (o.steps + 1), [2, 3, 4], o.seed);
    const data = join(dir, 'prompts.jsonl');
    writeFileSync(data, problems.map((p) => JSON.stringify({ prompt: p.prompt, answer: p.answer })).join('\n') + '\n');
    const raw = {
      trainer: 'grpo',
      model_name_or_path: modelDir,
      train_dataset: data,
      output_dir: join(dir, 'out'),
      ...grpoBenchKeys(o, o.threads),
    };
    const r = await train(resolveConfig(raw, 'bench'), { progress: false, log: () => {} });
    const ours = split(r.history);
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
    if (o.vsPytorch) Object.assign(out, grpoPeer(o, tok, problems, modelDir, dir, ours));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same steps in plain PyTorch, in each thread configuration; time ratios against pacer's. */
function grpoPeer(
  o: GrpoBenchOptions,
  tok: Tokenizer,
  problems: Problem[],
  modelDir: string,
  dir: string,
  ours: Split,
) {
  const vocab = tok.vocabSize;
  const ids = Object.entries(
    JSON.parse(readFileSync(join(FIXTURE_TOKENIZER, 'tokenizer.json'), 'utf8')).model.vocab as Record<string, number>,
  );
  const vocabList: string[] = new Array(vocab).fill('');
  for (const [s, i] of ids) if (i < vocab) vocabList[i] = s;
  const args = join(dir, 'args.json');
  const spec = {
    prompts: problems.map((p) => tok.encode(p.prompt, { addSpecialTokens: true })),
    answers: problems.map((p) => p.answer),
    ...peerRun(o),
    pad: tok.padTokenId ?? 0,
    eos: tok.eosTokenId,
    vocab: vocabList,
  };
  writeFileSync(args, JSON.stringify(spec));
  const peer = runPeerConfigs(o.threads, (c) => runTorchPeer('pytorch_grpo.py', [modelDir, args], c), peerSplit);
  if (peer.errors.length || peer.runs.length === 0) return { pytorch_error: peer.errors.join('; ') || 'no result' };
  return compareSplits(peer.runs, ours);
}

/** A peer's step split from its JSON line. */
export function peerSplit(j: any): { torch: string; split: Split } {
  const t: Split = {};
  for (const part of PARTS) t[`${part}_s`] = round(j[`${part}_s`], 6);
  t.step_s = round(t.generation_s + t.scoring_s + t.training_s, 6);
  t.completion_mean_length = round(j.completion_mean_length);
  return { torch: j.torch as string, split: t };
}

/**
 * PyTorch's split per configuration against pacer's: its figures, the time ratios at the same threads
 * (`ours`) and pacer's fastest (`oursBest`) over PyTorch's fastest configuration.
 */
export function compareSplits(
  runs: Array<{ config: ThreadConfig; result: { torch: string; split: Split } }>,
  ours: Split,
  oursBest: Split = ours,
) {
  const theirs = runs[0].result; // both pools at --threads
  const fastest = best(runs, (r) => r.result.split.step_s)!;
  return {
    pytorch: {
      torch: theirs.torch,
      ...theirs.split,
      configs: runs.map((r) => ({
        intra_op: r.config.intraOp,
        blas: r.config.blas,
        step_s: r.result.split.step_s,
      })),
      best: { config: configName(fastest.config), ...fastest.result.split },
    },
    // time ratios: pacer's seconds over PyTorch's (below 1 = pacer is faster)
    time_ratio_vs_pytorch: Object.fromEntries(
      [...PARTS, 'step'].map((k) => [k, ratio(ours[`${k}_s`], theirs.split[`${k}_s`])]),
    ),
    ratio_best_vs_best: ratio(oursBest.step_s, fastest.result.split.step_s),
  };
}

/** a / b to 3 decimals, or null when b is 0 at the measured precision (a part that takes < 1 µs). */
export function ratio(a: number, b: number): number | null {
  return b > 0 ? round(a / b, 3) : null;
}
