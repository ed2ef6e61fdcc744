// trainer: tspo — TSPO's "input policy + frozen generator" RL (Tang et al., "TSPO: Temporal Sampling
// Policy Optimization for Long-form Video Language Understanding", arXiv 2508.04369; Hui-design/TSPO
// src/open_tspo/trainer/tspo_trainer.py). The policy is the temporal agent (src/video/sampler-agent.ts)
// over frozen, cached frame and question features (src/video/frame-features.ts); the generator is a
// frozen, deterministic answerer (src/video/answerers.ts: frame-reading oracles, or `vlm`, a pacer
// Qwen2(.5)-VL model answering greedily from the chosen frames, src/video/vlm-answerer.ts). Per question and step:
//   s = agent(f, q; τ_step)        τ annealed linearly tau_start → tau_end over the run
//   G subsets c_i = Gumbel-top-k(s) (the default generator, so a resumed run draws the same subsets)
//   r_i = accuracy(answerer(q, c_i)) + w · |c_i ∩ needle| / k
//   A_i = (r_i − mean r)/(std r + 1e-4) within the group;  L = −(1/G) Σ_i mean_k exp(lp − sg lp)·A_i
// (objectives/tspo.ts; no KL). Evaluation chooses frames with `topk` or `bin-max` and reports the
// answerer's accuracy and the needle hit-rate |c ∩ needle| / k. The loop (loop.ts) owns the optimizer,
// schedule, metrics, checkpoints and resume; the trained agent is saved as output_dir/{config.json,
// model.safetensors}, naming its frame encoder, for `pacer video select`.
import { resolve } from 'node:path';
import { Generator, type Tensor, keep, noGrad, scope } from '../engine/index.js';
import { groupAdvantages, tspoLoss } from '../objectives/index.js';
import {
  type Answerer,
  type VideoQuestion,
  accuracyReward,
  makeAnswerer,
  readVideoQuestions,
  temporalReward,
} from '../video/answerers.js';
import { FeatureCache, loadFrameEncoder } from '../video/frame-features.js';
import '../video/histogram-encoder.js'; // registers the colour_histogram encoder type
import '../video/vlm-answerer.js'; // registers the vlm answerer
import {
  TemporalAgent,
  annealedTau,
  chosenLogProbs,
  gumbelTopK,
  type SelectMode,
  selectFrames,
} from '../video/sampler-agent.js';
import { DataError } from '../util/errors.js';
import type { TSPOConfig } from './config.js';
import type { LoopOptions, ModuleFamily, TrainerRun, Update } from './loop.js';

/** A question with its cached features: frames f [T, D] and question q [1, D]. */
export interface FeatureItem {
  item: VideoQuestion;
  f: Tensor;
  q: Tensor;
}

export interface TspoData {
  train: FeatureItem[];
  evalSet: FeatureItem[] | null;
  dim: number;
  cache: FeatureCache;
  questions: Tensor[];
}

/** Frame and question features of every question in a file (videos encoded once, through the cache). */
export async function featureItems(
  items: VideoQuestion[],
  encoderDir: string,
  cache: FeatureCache,
): Promise<{ items: FeatureItem[]; dim: number; owned: Tensor[] }> {
  const enc = loadFrameEncoder(encoderDir);
  try {
    const texts = new Map<string, Tensor>();
    const out: FeatureItem[] = [];
    for (const item of items) {
      const f = await cache.frames(item.video, enc);
      if (item.needleMask && item.needleMask.length !== f.shape[0])
        throw new DataError(
          `pacer: ${item.where}: field 'needle_mask' has ${item.needleMask.length} entries for ` +
            `${f.shape[0]} frames of ${item.video}`,
          { field: 'needle_mask' },
        );
      let q = texts.get(item.question);
      if (!q) {
        q = keep(enc.encodeText([item.question]));
        texts.set(item.question, q);
      }
      out.push({ item, f, q });
    }
    return { items: out, dim: enc.dim, owned: [...texts.values()] };
  } finally {
    enc.dispose();
  }
}

/** Accuracy and needle hit-rate of an answerer over items, frames chosen by `choose`. */
export async function scoreChoices(
  items: FeatureItem[],
  choose: (x: FeatureItem, index: number) => number[],
  answerer: Answerer,
): Promise<{ accuracy: number; hit_rate: number; n: number }> {
  let acc = 0;
  let hit = 0;
  let withNeedle = 0;
  for (const [i, x] of items.entries()) {
    const frames = choose(x, i);
    acc += accuracyReward(x.item, await answerer.answer(x.item, frames));
    if (x.item.needleMask?.includes(0)) {
      hit += temporalReward(x.item, frames);
      withNeedle++;
    }
  }
  const n = items.length;
  return { accuracy: acc / n, hit_rate: withNeedle ? hit / withNeedle : Number.NaN, n };
}

/** The agent's frames for one item at inference (`topk` or `bin-max`). */
export function agentChoice(agent: TemporalAgent, x: FeatureItem, k: number, mode: SelectMode, tau = 0.01): number[] {
  const s = noGrad(() => scope(() => agent.scores(x.f, x.q, tau).toArray() as number[]));
  return selectFrames(s, Math.min(k, s.length), mode);
}

/** A seeded permutation of 0..n−1 (mulberry32 + Fisher–Yates): the question order of one epoch. */
function epochOrder(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export interface MicroStepOptions {
  G: number;
  k: number;
  tau: number;
  temporalWeight: number;
  answerer: Answerer;
  /** The loss is multiplied by this before backward (1 / gradient_accumulation_steps). */
  scale: number;
}

/** G subsets per question (no gradients), the answerer's rewards, and the group advantages. */
async function rollouts(agent: TemporalAgent, items: FeatureItem[], o: MicroStepOptions) {
  const draws: number[][] = [];
  const rewards: number[] = [];
  let acc = 0;
  let hit = 0;
  for (const x of items) {
    const T = x.f.shape[0];
    const chosen = noGrad(() =>
      scope(() => {
        const s = agent.scores(x.f, x.q, o.tau);
        return Array.from({ length: o.G }, () => gumbelTopK(s, Math.min(o.k, T)));
      }),
    );
    for (const c of chosen) {
      const a = accuracyReward(x.item, await o.answerer.answer(x.item, c));
      const h = temporalReward(x.item, c);
      draws.push(c);
      rewards.push(a + o.temporalWeight * h);
      acc += a;
      hit += h;
    }
  }
  const advantages = groupAdvantages(rewards, o.G, 'group');
  return { draws, rewards, advantages, accuracy: acc / draws.length, hitRate: hit / draws.length };
}

/**
 * One micro-batch of TSPO: rollouts and rewards, then the scores again with gradients, the chosen
 * frames' log-probs and the ratio loss (times o.scale) backward. Returns the micro-batch's metrics.
 */
export async function tspoMicroStep(
  agent: TemporalAgent,
  items: FeatureItem[],
  o: MicroStepOptions,
): Promise<Record<string, number>> {
  const r = await rollouts(agent, items, o);
  const lossMetrics = scope(() => {
    const logps = items.flatMap((x, i) => {
      const s = agent.scores(x.f, x.q, o.tau);
      return r.draws.slice(i * o.G, (i + 1) * o.G).map((c) => chosenLogProbs(s, c));
    });
    const out = tspoLoss({ logps, advantages: r.advantages, groupSize: o.G });
    out.loss.mul(o.scale).backward();
    return out.metrics;
  });
  const mean = r.rewards.reduce((a, b) => a + b, 0) / r.rewards.length;
  const std = Math.sqrt(r.rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / r.rewards.length);
  return { ...lossMetrics, reward: mean, reward_std: std, accuracy: r.accuracy, hit_rate: r.hitRate };
}

export function tspoFamily(cfg: TSPOConfig, _opts: LoopOptions = {}): ModuleFamily<TspoData> {
  return {
    kind: 'module',
    async prepare() {
      const read = (file: string) => {
        const rows = readVideoQuestions(file, cfg.max_line_bytes);
        if (!rows.length) throw new DataError(`pacer: ${file}: no questions`, { file });
        return rows;
      };
      const train = read(cfg.train_dataset);
      const evalRows = cfg.eval_dataset ? read(cfg.eval_dataset) : null;
      const cache = new FeatureCache(cfg.feature_cache_dir);
      const t = await featureItems(train, cfg.frame_encoder, cache);
      const e = evalRows ? await featureItems(evalRows, cfg.frame_encoder, cache) : null;
      return {
        train: t.items,
        evalSet: e?.items ?? null,
        dim: t.dim,
        cache,
        questions: [...t.owned, ...(e?.owned ?? [])],
      };
    },
    start: (data) => new TspoRun(cfg, data),
  };
}

class TspoRun implements TrainerRun {
  readonly trainable: TemporalAgent;
  readonly totalSteps: number;
  readonly canEvaluate: boolean;
  readonly plots = [
    { title: 'Reward', keys: ['reward', 'reward_std'] },
    { title: 'Needle hit-rate', keys: ['hit_rate', 'eval_hit_rate'] },
    { title: 'Accuracy', keys: ['accuracy', 'eval_accuracy'] },
    { title: 'Loss', keys: ['loss'] },
    { title: 'Score temperature', keys: ['tau'] },
  ];
  private readonly answerer: Answerer;

  constructor(
    readonly cfg: TSPOConfig,
    readonly data: TspoData,
  ) {
    const perStep = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps;
    this.totalSteps =
      cfg.max_steps > 0 ? cfg.max_steps : Math.max(1, Math.ceil((cfg.num_train_epochs * data.train.length) / perStep));
    this.canEvaluate = data.evalSet !== null;
    const oracle = cfg.answerer === 'needle_oracle' || cfg.answerer === 'event_oracle';
    this.answerer = makeAnswerer(
      cfg.answerer,
      oracle
        ? { min_frames: cfg.answerer_min_frames }
        : cfg.answerer === 'vlm'
          ? { model: cfg.answerer_model as string }
          : {},
    );
    this.trainable = new TemporalAgent(
      { dim: data.dim, heads: cfg.agent_heads, window: cfg.agent_window },
      { generator: new Generator(cfg.seed) },
    );
  }

  /** The questions of micro-batch `micro` of a step. */
  private batch(step: number, micro: number): FeatureItem[] {
    const { per_device_train_batch_size: P, gradient_accumulation_steps: A } = this.cfg;
    const n = this.data.train.length;
    return Array.from({ length: P }, (_, j) => {
      const pos = (step * A + micro) * P + j;
      const epoch = Math.floor(pos / n);
      return this.data.train[epochOrder(n, this.cfg.seed * 1_000_003 + epoch)[pos % n]];
    });
  }

  async step(step: number, update: Update): Promise<Record<string, number>> {
    const { num_generations: G, num_frames: k, gradient_accumulation_steps: A } = this.cfg;
    const tau = annealedTau(step, this.totalSteps, this.cfg.tau_start, this.cfg.tau_end);
    const o = { G, k, tau, temporalWeight: this.cfg.temporal_reward_weight, answerer: this.answerer, scale: 1 / A };
    return update(async () => {
      const sums: Record<string, number> = {};
      for (let micro = 0; micro < A; micro++) {
        const m = await tspoMicroStep(this.trainable, this.batch(step, micro), o);
        for (const [key, v] of Object.entries(m)) sums[key] = (sums[key] ?? 0) + v / A;
      }
      return { ...sums, tau };
    });
  }

  async evaluate(): Promise<Record<string, number> | null> {
    if (!this.data.evalSet) return null;
    const mode = this.cfg.eval_select as SelectMode;
    const m = await scoreChoices(
      this.data.evalSet,
      (x) => agentChoice(this.trainable, x, this.cfg.num_frames, mode),
      this.answerer,
    );
    return { accuracy: m.accuracy, hit_rate: m.hit_rate };
  }

  state(): Record<string, unknown> {
    return {};
  }
  load(): void {}

  summary(history: Array<Record<string, number>>): Record<string, unknown> {
    const last = [...history].reverse().find((h) => 'reward' in h);
    return { final_reward: last?.reward, final_hit_rate: last?.hit_rate };
  }

  save(dir: string): void {
    this.trainable.save(dir, {
      frame_encoder: resolve(this.cfg.frame_encoder),
      num_frames: this.cfg.num_frames,
      select: this.cfg.eval_dataset ? this.cfg.eval_select : 'topk',
      tau: this.cfg.tau_end,
    });
  }

  dispose(): void {
    this.trainable.dispose();
    this.answerer.dispose?.();
    this.data.cache.clear();
    for (const q of this.data.questions) q.dispose();
  }
}
