// `pacer bench engine`: times a GPT-2-architecture training step (fp32, CPU, AdamW) on the pacer
// engine, optionally against the same model in PyTorch eager run in the same command, and reports
// MFU against the best sgemm this machine reaches (also measured here). With --device cuda (a CUDA
// build) the model, data and optimizer live on the GPU (AdamW fused where libtorch has the kernel),
// --amp bf16|fp16 runs the step under autocast (fp16 with a GradScaler) with float32 master weights,
// timing waits for the device, and MFU is against the best GEMM of the step's dtype on that GPU.
import {
  AdamW,
  GradScaler,
  Generator,
  autocast,
  hasFusedAdamW,
  synchronize,
  manualSeed,
  randint,
  randn,
  scope,
  setThreads,
  threadInfo,
  noGrad,
  buildInfo,
  type Tensor,
} from '../../engine/index.js';
import { GPT } from '../../models/gpt.js';
import { Progress } from '../../report/progress.js';
import { best, configName, median, round, runTorchPeer, type ThreadConfig } from './peer.js';

/** The benchmark GPT's shape and the timed steps (shared with bench ddp). */
export interface GptBenchShape {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  seq: number;
  batch: number;
  steps: number;
}

export interface EngineBenchOptions extends GptBenchShape {
  threads: number;
  seed: number;
  /** 'cpu' (default) or a CUDA device. */
  device?: string;
  /** Autocast dtype of the step (default none: float32). */
  amp?: 'none' | 'bf16' | 'fp16';
}

const AMP = { bf16: 'bfloat16', fp16: 'float16' } as const;

/** Best GEMM rate (GFLOP/s; fp32 on CPU) over a few square sizes, median of repeats each. */
export function bestSgemm(
  threads: number,
  device = 'cpu',
  dtype: 'float32' | 'bfloat16' | 'float16' = 'float32',
): { gflops: number; n: number } {
  setThreads(threads);
  let best = { gflops: 0, n: 0 };
  const sizes = device === 'cpu' ? [256, 512, 1024, 2048] : [2048, 4096, 8192];
  const sync = device === 'cpu' ? () => {} : synchronize;
  noGrad(() => {
    for (const n of sizes) {
      scope(() => {
        const a = randn([n, n], { device }).to(dtype);
        const b = randn([n, n], { device }).to(dtype);
        for (let i = 0; i < 2; i++) a.mm(b).dispose();
        const reps = Math.max(3, Math.min(20, Math.round((device === 'cpu' ? 2e10 : 2e13) / (2 * n ** 3))));
        const ts: number[] = [];
        for (let i = 0; i < reps; i++) {
          sync();
          const t0 = performance.now();
          a.mm(b).dispose();
          sync();
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
  const device = o.device ?? 'cpu';
  const model = new GPT({
    vocab_size: o.vocab,
    n_positions: o.seq,
    n_embd: o.dModel,
    n_layer: o.layers,
    n_head: o.heads,
  }).to(device);
  const fused = device !== 'cpu' && hasFusedAdamW();
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.1, fused });
  const gen = new Generator(o.seed);
  const data = randint(0, o.vocab, [o.batch, o.seq + 1], { generator: gen }).to(device);
  const amp = o.amp && o.amp !== 'none' ? AMP[o.amp] : null;
  const scaler = o.amp === 'fp16' ? new GradScaler() : null;
  const sync = device === 'cpu' ? () => {} : synchronize;
  const x = data.narrow(1, 0, o.seq);
  const y = data.narrow(1, 1, o.seq);
  const times: number[] = [];
  const losses: number[] = [];
  const bar = new Progress(2 + o.steps, `pacer  ${o.threads} thr`, progress);
  for (let i = 0; i < 2 + o.steps; i++) {
    sync();
    const t0 = performance.now();
    const loss: Tensor = scope(() => {
      opt.zeroGrad();
      const l = amp ? autocast(device, amp, () => model.loss(x, y)) : model.loss(x, y);
      if (scaler) {
        scaler.scaleLoss(l).backward();
        scaler.step(opt, model.parameters());
      } else {
        l.backward();
        opt.step();
      }
      return l;
    });
    sync();
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
  cfg: ThreadConfig,
): { stepMs: number; params: number; torch: string } | { error: string } {
  const args = {
    vocab: o.vocab,
    d_model: o.dModel,
    layers: o.layers,
    heads: o.heads,
    seq: o.seq,
    batch: o.batch,
    steps: o.steps,
    threads: cfg.intraOp,
    seed: o.seed,
    device: o.device ?? 'cpu',
    amp: o.amp ?? 'none',
  };
  const r = runTorchPeer('pytorch_gpt.py', [JSON.stringify(args)], cfg, 30 * 60_000);
  if ('error' in r) return r;
  const j = r.json;
  return { stepMs: j.step_ms, params: j.params, torch: j.torch };
}

export interface EngineBenchRun {
  threads: number;
  blas_threads: number;
  step_ms: number;
  tokens_per_s: number;
  mfu: number;
  sgemm_best_gflops: number;
  first_loss: number;
  last_loss: number;
  /** PyTorch with both pools at the same thread count, and pacer's speed over it. */
  pytorch?: { intra_op: number; blas: number; step_ms: number; tokens_per_s: number; mfu: number };
  ratio_vs_pytorch?: number;
}

export interface EngineBenchResult extends Record<string, unknown> {
  runs: EngineBenchRun[];
  ratio_best_vs_best?: number;
}

/**
 * pacer at each thread count, and (with vsPytorch) PyTorch in each configuration: both pools at
 * each thread count plus intra-op 1 with BLAS at the largest. `rounds` alternates them; medians.
 */
export function benchEngine(
  o: Omit<EngineBenchOptions, 'threads'> & {
    threadList: number[];
    vsPytorch: boolean;
    rounds: number;
    progress: boolean;
  },
): EngineBenchResult {
  const maxT = Math.max(...o.threadList);
  const cfgs: ThreadConfig[] = [...o.threadList.map((t) => ({ intraOp: t, blas: t })), { intraOp: 1, blas: maxT }];
  const peerCfgs = cfgs.filter((c, i) => cfgs.findIndex((d) => configName(d) === configName(c)) === i);
  const ours = new Map<number, number[]>(o.threadList.map((t) => [t, []]));
  const theirs = new Map<string, number[]>(peerCfgs.map((c) => [configName(c), []]));
  let params = 0;
  const losses = new Map<number, [number, number]>();
  let peerErr: string | null = null;
  let torchVersion = '';
  for (let r = 0; r < o.rounds; r++) {
    for (const threads of o.threadList) {
      const res = runPacerEngineBench({ ...o, threads }, o.progress);
      ours.get(threads)!.push(res.stepMs);
      params = res.params;
      losses.set(threads, [res.firstLoss, res.lastLoss]);
    }
    if (!o.vsPytorch || peerErr) continue;
    for (const c of peerCfgs) {
      const p = runPytorchEngineBench({ ...o, threads: c.blas }, c);
      if ('error' in p) peerErr = p.error;
      else if (p.params !== params) peerErr = `parameter counts differ: pacer ${params}, pytorch ${p.params}`;
      else {
        theirs.get(configName(c))!.push(p.stepMs);
        torchVersion = p.torch;
      }
    }
  }
  const tokens = o.batch * o.seq;
  const flops = stepFlops({ ...o, threads: 1 }, params);
  const gemmDtype = o.amp === 'bf16' ? 'bfloat16' : o.amp === 'fp16' ? 'float16' : 'float32';
  const sgemm = new Map(o.threadList.map((t) => [t, bestSgemm(t, o.device ?? 'cpu', gemmDtype).gflops]));
  const peerMs = (c: ThreadConfig) => median(theirs.get(configName(c)) ?? []);
  const runs: EngineBenchRun[] = o.threadList.map((threads) => {
    setThreads(threads);
    const ms = median(ours.get(threads)!);
    const sg = sgemm.get(threads)!;
    const run: EngineBenchRun = {
      threads,
      blas_threads: threadInfo().blasThreads,
      step_ms: round(ms),
      tokens_per_s: round(tokens / (ms / 1000)),
      mfu: round(flops / (ms / 1000) / 1e9 / sg, 4),
      sgemm_best_gflops: round(sg),
      first_loss: round(losses.get(threads)![0], 4),
      last_loss: round(losses.get(threads)![1], 4),
    };
    const ps = peerMs({ intraOp: threads, blas: threads });
    if (o.vsPytorch && !peerErr && Number.isFinite(ps)) {
      const mfu = round(flops / (ps / 1000) / 1e9 / sg, 4);
      run.pytorch = {
        intra_op: threads,
        blas: threads,
        step_ms: round(ps),
        tokens_per_s: round(tokens / (ps / 1000)),
        mfu,
      };
      run.ratio_vs_pytorch = round(ps / ms, 3);
    }
    return run;
  });
  setThreads(maxT);
  const ti = threadInfo();
  const out: EngineBenchResult = {
    bench: 'engine',
    model: { vocab: o.vocab, d_model: o.dModel, layers: o.layers, heads: o.heads, seq: o.seq, batch: o.batch },
    device: o.device ?? 'cpu',
    amp: o.amp ?? 'none',
    params,
    blas: ti.blas,
    libtorch: buildInfo().torchVersion,
    steps: o.steps,
    rounds: o.rounds,
    model_gflop_per_step: round(flops / 1e9),
    runs,
  };
  if (o.vsPytorch) {
    if (peerErr) out.pytorch_error = peerErr;
    else {
      const configs = peerCfgs.map((c) => ({ intra_op: c.intraOp, blas: c.blas, step_ms: round(peerMs(c)) }));
      const pb = best(configs, (c) => c.step_ms)!;
      const ob = best(runs, (r) => r.step_ms)!;
      out.pytorch = { torch: torchVersion, configs };
      out.best = {
        pacer: { threads: ob.threads, step_ms: ob.step_ms, tokens_per_s: ob.tokens_per_s },
        pytorch: {
          intra_op: pb.intra_op,
          blas: pb.blas,
          step_ms: pb.step_ms,
          tokens_per_s: round(tokens / (pb.step_ms / 1000)),
        },
      };
      // pacer's speed over PyTorch's, each in its fastest configuration (> 1: pacer is faster)
      out.ratio_best_vs_best = round(pb.step_ms / ob.step_ms, 3);
    }
  }
  return out;
}
