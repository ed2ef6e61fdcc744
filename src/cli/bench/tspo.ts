// `pacer bench tspo`: wall time of one TSPO training step (issue 14) — the temporal agent on a T-frame
// video (D-dim features, 8 heads, window 12) scores the frames without gradients, draws G Gumbel-top-k
// subsets of k frames, the needle_oracle answers each, group advantages, the scores again with
// gradients, the chosen frames' log-probs, the ratio loss backward, gradient clipping and AdamW
// (tspoMicroStep, what trainer: tspo runs) — and the agent's inference selection (topk) on the same
// video. With --vs-pytorch the same step on the same inputs and initial weights runs in plain PyTorch
// (bench/pytorch_tspo.py). Medians over the measured steps; the first step of each side warms up.
// With --vs-answerer, the selection's cost against the answerer's: the vlm answerer (a Qwen2.5-VL of
// vlm-base's architecture — its --smoke build, untrained: the cost does not depend on the weights)
// answering from the k chosen frames of a T-frame 56×56 video (processor, vision tower, prefill and one
// token), median of the runs (the first warms up) with min and max; select_over_answer = select_s / that,
// and the same ratio of CPU seconds (process.cpuUsage), which load from other processes does not inflate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { vlmBase } from '../../recipes/vlm-base.js';
import { encodeFramesNpz } from '../../video/npz.js';
import { VlmAnswerer } from '../../video/vlm-answerer.js';
import { uniformProposals } from '../../video/sampler-agent.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdamW,
  Generator,
  clipGradNorm,
  manualSeed,
  noGrad,
  randn,
  scope,
  setThreads,
  threadInfo,
} from '../../engine/index.js';
import { type FeatureItem, agentChoice, tspoMicroStep } from '../../trainers/tspo.js';
import { makeAnswerer } from '../../video/answerers.js';
import { TemporalAgent, annealedTau } from '../../video/sampler-agent.js';
import { best, configName, median, round, runPeerConfigs, runTorchPeer } from './peer.js';

export interface TspoBenchOptions {
  steps: number;
  frames: number;
  dim: number;
  generations: number;
  k: number;
  threads: number;
  seed: number;
  vsPytorch: boolean;
  /** Also time the vlm answerer on the k selected frames (runs of it; 0: not). */
  answererRuns?: number;
}

/** CPU seconds (user + system, every thread of this process) since `c0`. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

/** Seconds of the vlm answerer's answer (prefill + 1 token) from k of T frames: median, min, max over runs. */
async function answererSeconds(
  o: TspoBenchOptions,
): Promise<{ median: number; min: number; max: number; cpu_median: number; runs: number }> {
  const { dir } = await vlmBase.run({
    seed: 0,
    seeds: [0],
    smoke: true,
    threads: o.threads,
    progress: false,
    log: () => {},
  });
  const tmp = mkdtempSync(join(tmpdir(), 'pacer-bench-tspo-vlm-'));
  const ans = new VlmAnswerer(join(dir, 'model'), { maxNewTokens: 1 });
  try {
    const S = 56;
    const data = new Uint8Array(o.frames * S * S * 3);
    let a = o.seed + 1;
    for (let i = 0; i < data.length; i++) data[i] = (a = (Math.imul(a, 1103515245) + 12345) >>> 0) >>> 24;
    const video = join(tmp, 'v.npz');
    writeFileSync(video, encodeFramesNpz({ frames: o.frames, height: S, width: S, fps: 1, data }));
    const q = { id: 'bench', video, question: 'What does the red circle do?', answer: 'A' };
    const item = { ...q, needleMask: null, eventFrames: null, where: 'bench' };
    const frames = uniformProposals(o.frames - 1, o.k);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r <= (o.answererRuns ?? 0); r++) {
      setThreads(o.threads);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await ans.answer(item, frames);
      cpu.push(cpuSeconds(c0));
      times.push((performance.now() - t0) / 1000);
    }
    const measured = times.slice(1);
    return {
      median: round(median(measured), 6),
      min: round(Math.min(...measured), 6),
      max: round(Math.max(...measured), 6),
      cpu_median: round(median(cpu.slice(1)), 6),
      runs: measured.length,
    };
  } finally {
    ans.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const HYPER = { heads: 8, window: 12, lr: 5e-4, maxGradNorm: 1, needleStart: 100, needleLen: 32 };

/** A synthetic question: random features, a needle of needleLen frames, the oracle needs k/4 of them. */
function syntheticItem(o: TspoBenchOptions): FeatureItem {
  const mask = Array.from({ length: o.frames }, (_, t) =>
    t >= HYPER.needleStart && t < HYPER.needleStart + HYPER.needleLen ? 1 : 0,
  );
  const g = new Generator(o.seed);
  return {
    item: { id: 'bench', video: '', question: 'q', answer: 'A', needleMask: mask, eventFrames: null, where: 'bench' },
    f: noGrad(() => randn([o.frames, o.dim], { generator: g })),
    q: noGrad(() => randn([1, o.dim], { generator: g })),
  };
}

export async function benchTspo(o: TspoBenchOptions): Promise<Record<string, unknown>> {
  setThreads(o.threads);
  manualSeed(o.seed);
  const x = syntheticItem(o);
  const agent = new TemporalAgent(
    { dim: o.dim, heads: HYPER.heads, window: HYPER.window },
    { generator: new Generator(o.seed) },
  );
  const init = Object.fromEntries([...agent.stateDict()].map(([key, t]) => [key, t.toArray()]));
  // the initial scores at τ₀, which the peer's must equal (the same agent on the same inputs)
  const scores0 = noGrad(() => scope(() => agent.scores(x.f, x.q, annealedTau(0, o.steps + 1)).toArray() as number[]));
  const answerer = makeAnswerer('needle_oracle', { min_frames: Math.max(1, o.k / 4) });
  const opt = new AdamW(agent.parameters(), { lr: HYPER.lr, weightDecay: 0 });
  const params = agent.parameters();
  const times: number[] = [];
  const total = o.steps + 1;
  for (let s = 0; s < total; s++) {
    const t0 = performance.now();
    opt.zeroGrad();
    const tau = annealedTau(s, total);
    await tspoMicroStep(agent, [x], { G: o.generations, k: o.k, tau, temporalWeight: 1, answerer, scale: 1 });
    clipGradNorm(params, HYPER.maxGradNorm);
    opt.step();
    times.push((performance.now() - t0) / 1000);
  }
  const sel: number[] = [];
  const selCpu: number[] = [];
  for (let s = 0; s < total; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    agentChoice(agent, x, o.k, 'topk');
    selCpu.push(cpuSeconds(c0));
    sel.push((performance.now() - t0) / 1000);
  }
  const selMeasured = sel.slice(1);
  const ours = {
    step_s: round(median(times.slice(1)), 6),
    select_s: round(median(selMeasured), 6),
    select_min_s: round(Math.min(...selMeasured), 6),
    select_max_s: round(Math.max(...selMeasured), 6),
    select_cpu_s: round(median(selCpu.slice(1)), 6),
  };
  const out: Record<string, unknown> = {
    bench: 'tspo',
    steps: o.steps,
    frames: o.frames,
    dim: o.dim,
    heads: HYPER.heads,
    window: HYPER.window,
    num_generations: o.generations,
    num_frames: o.k,
    threads: o.threads,
    blas: threadInfo().blas,
    pacer: ours,
  };
  if (o.answererRuns) {
    const t = await answererSeconds(o);
    out.answerer = { model: 'vlm-base architecture (--smoke build)', frames_shown: o.k, answer_s: t };
    out.select_over_answer = round(ours.select_s / t.median, 4);
    // CPU time: what each costs, whatever else the machine runs meanwhile
    out.select_over_answer_cpu = round(ours.select_cpu_s / t.cpu_median, 4);
  }
  if (o.vsPytorch) {
    const dir = mkdtempSync(join(tmpdir(), 'pacer-bench-tspo-'));
    try {
      const args = join(dir, 'args.json');
      const spec = { ...HYPER, ...o, f: x.f.toArray(), q: x.q.toArray(), mask: x.item.needleMask, weights: init };
      writeFileSync(args, JSON.stringify(spec));
      Object.assign(out, tspoPeer(o, args, ours, scores0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  opt.dispose();
  agent.dispose();
  x.f.dispose();
  x.q.dispose();
  return out;
}

function tspoPeer(o: TspoBenchOptions, args: string, ours: { step_s: number; select_s: number }, scores0: number[]) {
  const peer = runPeerConfigs(
    o.threads,
    (c) => runTorchPeer('pytorch_tspo.py', [args], c),
    (j) => ({
      torch: j.torch as string,
      step_s: round(j.step_s, 6),
      select_s: round(j.select_s, 6),
      max_abs_score_diff: Math.max(...(j.scores0 as number[]).map((v, i) => Math.abs(v - scores0[i]))),
    }),
  );
  if (peer.errors.length || peer.runs.length === 0) return { pytorch_error: peer.errors.join('; ') || 'no result' };
  const theirs = peer.runs[0].result;
  const fastest = best(peer.runs, (r) => r.result.step_s)!;
  return {
    pytorch: {
      ...theirs,
      configs: peer.runs.map((r) => ({ intra_op: r.config.intraOp, blas: r.config.blas, step_s: r.result.step_s })),
      best: { config: configName(fastest.config), step_s: fastest.result.step_s },
    },
    // speed-ups: PyTorch's seconds over pacer's (above 1 = pacer is faster)
    speedup_vs_pytorch: round(theirs.step_s / ours.step_s, 3),
    speedup_best_vs_best: round(fastest.result.step_s / ours.step_s, 3),
  };
}
