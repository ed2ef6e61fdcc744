// `pacer bench ddp`: data-parallel scaling on this machine. The engine-bench GPT (fp32, CPU, AdamW)
// trains in 1 process and in 2 processes started by pacer's launcher (1 thread each, a Gloo group on
// 127.0.0.1, gradients averaged in 25 MiB buckets as the trainers do); each process runs `batch`
// sequences per step, so 2 processes do twice the work per step. Reported per run: tokens/s of both,
// the all-reduce's share of the 2-process step, and scaling efficiency = tokens/s(2) / (2 · tokens/s(1)).
// Runs alternate (1, 2, 1, 2, …) so that load from elsewhere on the machine falls on both alike.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, Generator, manualSeed, randint, scope, setThreads, type Tensor } from '../../engine/index.js';
import { GPT } from '../../models/gpt.js';
import { World, shutdownWorld } from '../../trainers/parallel.js';
import { launch } from '../launcher.js';
import { median, round } from './peer.js';
import type { GptBenchShape } from './engine.js';

export interface DdpBenchOptions extends GptBenchShape {
  runs: number;
  seed: number;
}

export interface DdpWorkerResult {
  stepMs: number;
  allReduceMs: number;
  params: number;
  worldSize: number;
}

/** One worker: 2 warm-up steps and `steps` timed ones; medians of step and all-reduce times. */
export function ddpWorker(o: DdpBenchOptions): DdpWorkerResult {
  setThreads(1);
  const world = World.current();
  manualSeed(o.seed);
  const model = new GPT({
    vocab_size: o.vocab,
    n_positions: o.seq,
    n_embd: o.dModel,
    n_layer: o.layers,
    n_head: o.heads,
  });
  world.broadcastParameters(model);
  const params = model.parameters();
  const opt = new AdamW(params, { lr: 1e-4, weightDecay: 0.1 });
  const data = randint(0, o.vocab, [o.batch, o.seq + 1], { generator: new Generator(o.seed + 1 + world.rank) });
  const [x, y] = [data.narrow(1, 0, o.seq), data.narrow(1, 1, o.seq)];
  const steps: number[] = [];
  const reduces: number[] = [];
  for (let i = 0; i < 2 + o.steps; i++) {
    const t0 = performance.now();
    let t1 = t0;
    scope(() => {
      opt.zeroGrad();
      const loss: Tensor = model.loss(x, y);
      loss.backward();
      t1 = performance.now();
      world.reduceGradients(params);
      t1 = performance.now() - t1;
      opt.step();
    });
    if (i >= 2) {
      steps.push(performance.now() - t0);
      reduces.push(t1);
    }
  }
  const out = {
    stepMs: median(steps),
    allReduceMs: median(reduces),
    params: model.numParameters(),
    worldSize: world.size,
  };
  model.dispose();
  opt.dispose();
  shutdownWorld();
  return out;
}

async function runWorkers(n: number, argv: (out: string) => string[]): Promise<DdpWorkerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-ddp-'));
  try {
    const out = join(dir, 'rank0.json');
    const code = await launch({
      nprocPerNode: n,
      nnodes: 1,
      nodeRank: 0,
      masterAddr: '127.0.0.1',
      masterPort: null,
      argv: argv(out),
      timeoutS: 600,
    });
    if (code !== 0) throw new Error(`pacer: bench ddp: the ${n}-process run failed (exit code ${code})`);
    return JSON.parse(readFileSync(out, 'utf8')) as DdpWorkerResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Alternating 1- and 2-process runs; `argv(out)` is the worker command that writes rank 0's result to out. */
export async function benchDdp(o: DdpBenchOptions, argv: (out: string) => string[]): Promise<Record<string, unknown>> {
  const tokens = o.batch * o.seq;
  const runs: Array<Record<string, number>> = [];
  let params = 0;
  for (let r = 0; r < o.runs; r++) {
    const one = await runWorkers(1, argv);
    const two = await runWorkers(2, argv);
    params = one.params;
    const t1 = tokens / (one.stepMs / 1000);
    const t2 = (2 * tokens) / (two.stepMs / 1000);
    runs.push({
      one_tokens_per_s: round(t1),
      two_tokens_per_s: round(t2),
      one_step_ms: round(one.stepMs),
      two_step_ms: round(two.stepMs),
      two_allreduce_ms: round(two.allReduceMs),
      scaling_efficiency: round(t2 / (2 * t1), 3),
    });
  }
  const stat = (k: string) => {
    const v = runs.map((x) => x[k]);
    return { median: round(median(v), 3), min: Math.min(...v), max: Math.max(...v) };
  };
  return {
    bench: 'ddp',
    model: {
      vocab: o.vocab,
      d_model: o.dModel,
      layers: o.layers,
      heads: o.heads,
      seq: o.seq,
      batch_per_process: o.batch,
    },
    params,
    threads_per_process: 1,
    backend: 'gloo',
    steps: o.steps,
    allreduce_bytes_per_step: params * 4,
    runs,
    one_tokens_per_s: stat('one_tokens_per_s'),
    two_tokens_per_s: stat('two_tokens_per_s'),
    scaling_efficiency: stat('scaling_efficiency'),
    cores: availableParallelism(),
    note: 'wall-clock figures on a machine whose cores other work may share: read the spread over runs',
  };
}
