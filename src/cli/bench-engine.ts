// `pacer bench engine`: times a GPT-2-architecture training step (fp32, CPU, AdamW) on the pacer
// engine, optionally against the same model in PyTorch eager run in the same command, and reports
// MFU against the best sgemm this machine reaches (also measured here).
import {
  AdamW,
  Generator,
  manualSeed,
  randint,
  randn,
  scope,
  setThreads,
  threadInfo,
  noGrad,
  buildInfo,
  type Tensor,
} from '../engine/index.js';
import { GPT } from '../models/gpt.js';
import { runTorchPeer } from './python.js';
import { Progress } from '../report/progress.js';

export interface EngineBenchOptions {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  seq: number;
  batch: number;
  steps: number;
  threads: number;
  seed: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Best single-precision GEMM rate (GFLOP/s) over a few square sizes, median of repeats each. */
export function bestSgemm(threads: number): { gflops: number; n: number } {
  setThreads(threads);
  let best = { gflops: 0, n: 0 };
  noGrad(() => {
    for (const n of [256, 512, 1024, 2048]) {
      scope(() => {
        const a = randn([n, n]);
        const b = randn([n, n]);
        for (let i = 0; i < 2; i++) a.mm(b).dispose();
        const reps = Math.max(3, Math.min(20, Math.round(2e10 / (2 * n ** 3))));
        const ts: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = performance.now();
          a.mm(b).dispose();
          ts.push(performance.now() - t0);
        }
        const g = (2 * n ** 3) / (median(ts) / 1000) / 1e9;
        if (g > best.gflops) best = { gflops: g, n };
      });
    }
  });
  return best;
}

/** FLOPs of one training step (forward + backward): 6 N per token plus attention, as nanoGPT estimates. */
export function stepFlops(o: EngineBenchOptions, params: number): number {
  const nonPos = params - o.seq * o.dModel;
  const perToken = 6 * nonPos + 12 * o.layers * o.dModel * o.seq;
  return perToken * o.batch * o.seq;
}

export function runPacerEngineBench(
  o: EngineBenchOptions,
  progress = true,
): { stepMs: number; params: number; firstLoss: number; lastLoss: number } {
  setThreads(o.threads);
  manualSeed(o.seed);
  const model = new GPT({
    vocab_size: o.vocab,
    n_positions: o.seq,
    n_embd: o.dModel,
    n_layer: o.layers,
    n_head: o.heads,
  });
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.1 });
  const gen = new Generator(o.seed);
  const data = randint(0, o.vocab, [o.batch, o.seq + 1], { generator: gen });
  const x = data.narrow(1, 0, o.seq);
  const y = data.narrow(1, 1, o.seq);
  const times: number[] = [];
  const losses: number[] = [];
  const bar = new Progress(2 + o.steps, `pacer  ${o.threads} thr`, progress);
  for (let i = 0; i < 2 + o.steps; i++) {
    const t0 = performance.now();
    const loss: Tensor = scope(() => {
      opt.zeroGrad();
      const l = model.loss(x, y);
      l.backward();
      opt.step();
      return l;
    });
    const dt = performance.now() - t0;
    losses.push(loss.item());
    loss.dispose();
    if (i >= 2) times.push(dt);
    bar.update(i + 1);
  }
  const params = model.numParameters();
  model.dispose();
  opt.dispose();
  for (const t of [data, x, y]) t.dispose();
  return { stepMs: median(times), params, firstLoss: losses[0], lastLoss: losses[losses.length - 1] };
}

export function runPytorchEngineBench(
  o: EngineBenchOptions,
): { stepMs: number; params: number; torch: string } | { error: string } {
  const args = {
    vocab: o.vocab,
    d_model: o.dModel,
    layers: o.layers,
    heads: o.heads,
    seq: o.seq,
    batch: o.batch,
    steps: o.steps,
    threads: o.threads,
    seed: o.seed,
  };
  const r = runTorchPeer('pytorch_gpt.py', [JSON.stringify(args)], o.threads, 30 * 60_000);
  if ('error' in r) return r;
  const j = r.json;
  return { stepMs: j.step_ms, params: j.params, torch: j.torch };
}

export interface EngineBenchResult extends Record<string, unknown> {
  tokens_per_s: number;
  step_ms: number;
}

export function benchEngine(
  o: EngineBenchOptions & { vsPytorch: boolean; rounds: number; progress: boolean },
): EngineBenchResult {
  const ours: number[] = [];
  const theirs: number[] = [];
  let params = 0;
  let lastLoss = NaN;
  let firstLoss = NaN;
  let peerErr: string | null = null;
  let torchVersion = '';
  for (let r = 0; r < o.rounds; r++) {
    const res = runPacerEngineBench(o, o.progress);
    ours.push(res.stepMs);
    params = res.params;
    firstLoss = res.firstLoss;
    lastLoss = res.lastLoss;
    if (o.vsPytorch && !peerErr) {
      const p = runPytorchEngineBench(o);
      if ('error' in p) peerErr = p.error;
      else {
        theirs.push(p.stepMs);
        torchVersion = p.torch;
        if (p.params !== params) peerErr = `parameter counts differ: pacer ${params}, pytorch ${p.params}`;
      }
    }
  }
  const sg = bestSgemm(o.threads);
  setThreads(o.threads);
  const stepMs = median(ours);
  const tokens = o.batch * o.seq;
  const flops = stepFlops(o, params);
  const ti = threadInfo();
  const out: EngineBenchResult = {
    bench: 'engine',
    model: { vocab: o.vocab, d_model: o.dModel, layers: o.layers, heads: o.heads, seq: o.seq, batch: o.batch },
    params,
    threads: o.threads,
    blas_threads: ti.blasThreads,
    blas: ti.blas,
    libtorch: buildInfo().torchVersion,
    steps: o.steps,
    rounds: o.rounds,
    step_ms: round(stepMs),
    tokens_per_s: round(tokens / (stepMs / 1000)),
    first_loss: round(firstLoss, 4),
    last_loss: round(lastLoss, 4),
    model_gflop_per_step: round(flops / 1e9),
    achieved_gflops: round(flops / (stepMs / 1000) / 1e9),
    sgemm_best_gflops: round(sg.gflops),
    sgemm_best_n: sg.n,
    mfu: round(flops / (stepMs / 1000) / 1e9 / sg.gflops, 4),
  };
  if (o.vsPytorch) {
    if (peerErr || theirs.length === 0) out.pytorch_error = peerErr ?? 'no result';
    else {
      const ps = median(theirs);
      out.pytorch = {
        torch: torchVersion,
        step_ms: round(ps),
        tokens_per_s: round(tokens / (ps / 1000)),
        mfu: round(flops / (ps / 1000) / 1e9 / sg.gflops, 4),
      };
      out.ratio_vs_pytorch = round(ps / stepMs, 3);
    }
  }
  return out;
}

function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
