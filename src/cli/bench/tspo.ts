// `pacer bench tspo`: wall time of one TSPO training step (issue 14) — the temporal agent on a T-frame
// video (D-dim features, 8 heads, window 12) scores the frames without gradients, draws G Gumbel-top-k
// subsets of k frames, the needle_oracle answers each, group advantages, the scores again with
// gradients, the chosen frames' log-probs, the ratio loss backward, gradient clipping and AdamW
// (tspoMicroStep, what trainer: tspo runs) — and the agent's inference selection (topk) on the same
// video. With --vs-pytorch the same step on the same inputs and initial weights runs in plain PyTorch
// (bench/pytorch_tspo.py). Medians over the measured steps; the first step of each side warms up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  for (let s = 0; s < total; s++) {
    const t0 = performance.now();
    agentChoice(agent, x, o.k, 'topk');
    sel.push((performance.now() - t0) / 1000);
  }
  const ours = { step_s: round(median(times.slice(1)), 6), select_s: round(median(sel.slice(1)), 6) };
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
