// The online methods as records: the advantages they form from a step's rewards and the loss they
// minimise on one micro-batch of rollouts (objectives in src/objectives/). The loop in online.ts
// does the rest (sampling, generation, rewards, log-probs, accumulation, feedback). A new online
// method is one record here plus, at most, one objective file. PPO (TRL's PPOTrainer) is the one method
// with a critic: its record carries the value model (trained with the policy) and forms per-token
// advantages from all the step's rollouts before the updates (beforeUpdates).
import { Module, type Tensor, noGrad, tensor } from '../engine/index.js';
import type { CollatedBatch } from '../data/tokenize.js';
import type { CausalLM } from '../models/types.js';
import { ScalarHeadModel } from '../models/heads.js';
import { fromPretrained } from '../models/pretrained.js';
import {
  groupAdvantages,
  rlooAdvantages,
  grpoLoss,
  regGrpoLoss,
  k3KlPerSequence,
  raftSelect,
  raftLoss,
  maskedWhiten,
  ppoTokenLoss,
  tokenGae,
  tokenRewards,
  bestWorstPairs,
  onlineDpoLoss,
  type ObjectiveOutput,
} from '../objectives/index.js';
import type { OnlineConfig, PPOConfig } from './config.js';

/** One micro-batch of rollouts, as the loss sees it. */
export interface RolloutLossInputs {
  /** Per-token log-probs [B, T] of the completions under π_θ (temperature-scaled), with gradients. */
  logps: Tensor;
  /** The same under π_θ's raw distribution (temperature 1), for likelihood objectives. */
  rawLogps: () => Tensor;
  /** Under π_old (detached) and π_ref (null when not needed). */
  oldLogps: Tensor;
  refLogps: Tensor | null;
  /** [B, T] float, 1 on completion tokens that count. */
  mask: Tensor;
  rewards: number[];
  advantages: number[];
  /** Completion tokens that count in the whole accumulated batch, and the number of micro-batches. */
  tokens: number;
  micro: number;
  /** The micro-batch's collated rollouts (a critic reads them). */
  batch: CollatedBatch;
  /** What beforeUpdates formed for this micro-batch (PPO: values, advantages, returns per token). */
  extra?: Record<string, Tensor>;
}

/** One micro-batch of rollouts before the updates, as beforeUpdates sees it. */
export interface PreparedRollouts {
  batch: CollatedBatch;
  mask: Tensor;
  old: Tensor | null;
  ref: Tensor | null;
  rewards: number[];
  truncated: boolean[];
}

export interface OnlineMethod {
  /** Forms π_ref log-probs (beta > 0, or a DPO reference). */
  readonly usesReference: boolean;
  /** Reuses rollouts for several passes, so π_old must be computed before the first update. */
  readonly usesOld: boolean;
  /** Optimizer steps over each batch of rollouts (num_iterations; PPO's num_ppo_epochs). */
  readonly passes: number;
  /** A module trained with the policy (PPO's value model). */
  readonly critic?: Module & { dispose?(): void };
  /** Per-micro-batch tensors formed from the whole step's rollouts before the updates, and step metrics. */
  beforeUpdates?(micros: PreparedRollouts[]): { extra: Array<Record<string, Tensor>>; metrics: Record<string, number> };
  advantages(rewards: number[], G: number): number[];
  /** The micro-batch loss, already scaled for accumulation; null when it has nothing to learn from. */
  loss(x: RolloutLossInputs): ObjectiveOutput | null;
}

const scaled = (o: ObjectiveOutput, k: number): ObjectiveOutput =>
  k === 1 ? o : { loss: o.loss.div(k), metrics: o.metrics };

export function makeOnlineMethod(cfg: OnlineConfig): OnlineMethod {
  const G = cfg.num_generations;
  if (cfg.trainer === 'ppo') return ppoMethod(cfg);
  const iterate = cfg.num_iterations > 1;
  switch (cfg.trainer) {
    case 'grpo':
    case 'rloo': {
      const lossType = cfg.trainer === 'rloo' ? 'grpo' : cfg.loss_type;
      return {
        usesReference: cfg.beta > 0,
        usesOld: iterate,
        passes: cfg.num_iterations,
        advantages: (r) => (cfg.trainer === 'grpo' ? groupAdvantages(r, G, cfg.scale_rewards) : rlooAdvantages(r, G)),
        loss: (x) => {
          const options = {
            lossType,
            epsilon: cfg.epsilon,
            epsilonHigh: cfg.epsilon_high ?? undefined,
            beta: cfg.beta,
            importanceSampling: cfg.importance_sampling_level,
            maxCompletionLength: cfg.max_completion_length,
            globalActiveTokens: x.tokens,
          };
          const inputs = { ...x, advantages: tensor(x.advantages) };
          const o = grpoLoss(inputs, options);
          // dapo is normalised by the accumulated batch's tokens (its logged loss is the batch's, not
          // this micro-batch's share); the others average the micro-batches
          if (lossType !== 'dapo') return scaled(o, x.micro);
          return { loss: o.loss, metrics: { ...o.metrics, loss: o.metrics.loss * x.micro } };
        },
      };
    }
    case 'reg_grpo':
      return {
        usesReference: cfg.beta > 0,
        usesOld: iterate,
        passes: cfg.num_iterations,
        advantages: (r) => groupAdvantages(r, G, 'group'),
        loss: (x) => {
          const kl = x.refLogps ? k3KlPerSequence(x.logps, x.refLogps, x.mask) : null;
          const seq = (t: Tensor) => t.mul(x.mask).sum(1);
          const inputs = {
            seqLogps: seq(x.logps),
            oldSeqLogps: seq(x.oldLogps),
            rewards: x.rewards,
            groupSize: G,
            klPerSeq: kl,
          };
          return scaled(regGrpoLoss(inputs, { beta: cfg.beta }), x.micro);
        },
      };
    case 'raft':
      return {
        usesReference: false,
        usesOld: false,
        passes: cfg.num_iterations,
        advantages: (r) => groupAdvantages(r, G, 'group'),
        // SFT on the kept completions (the raw distribution), a token mean per micro-batch
        loss: (x) =>
          scaled(raftLoss({ logps: x.rawLogps(), mask: x.mask }, raftSelect(x.rewards, G, cfg.raft_top_k)), x.micro),
      };
    case 'online_dpo':
      return {
        usesReference: true,
        usesOld: false,
        passes: cfg.num_iterations,
        advantages: (r) => groupAdvantages(r, G, 'group'),
        loss: (x) => {
          const seq = (t: Tensor) => t.mul(x.mask).sum(1);
          const o = onlineDpoLoss(
            { seqLogps: seq(x.logps), refSeqLogps: seq(x.refLogps!) },
            bestWorstPairs(x.rewards, G),
            cfg.beta,
          );
          return o && scaled(o, x.micro);
        },
      };
  }
}

/**
 * PPO with a value model, as TRL's PPOTrainer: the critic is a causal LM with a scalar head (value_model_path,
 * default the policy's own weights), per-token rewards carry the KL penalty, GAE runs along each completion,
 * and the loss adds vf_coef times the clipped value loss (objectives/ppo.ts).
 */
function ppoMethod(cfg: PPOConfig): OnlineMethod {
  const loaded = fromPretrained(cfg.value_model_path ?? cfg.model_name_or_path, { dtype: cfg.dtype });
  const critic = new ScalarHeadModel(loaded.model);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    usesReference: cfg.kl_coef > 0,
    usesOld: true,
    passes: cfg.num_ppo_epochs,
    critic,
    // sequence-level advantages serve only the curriculum's statistics; the loss uses the per-token ones
    advantages: (r) => r.map((x) => x - mean(r)),
    beforeUpdates: (micros) => ppoBeforeUpdates(cfg, critic, micros),
    loss: (x) => {
      const e = x.extra as Record<string, Tensor>;
      const o = ppoTokenLoss(
        { ...e, logps: x.logps, oldLogps: x.oldLogps, vpred: critic.scoresAll(x.batch), mask: x.mask } as never,
        { cliprange: cfg.cliprange, cliprangeValue: cfg.cliprange_value, vfCoef: cfg.vf_coef },
      );
      return scaled(o, x.micro);
    },
  };
}

/** Values, per-token rewards, GAE and whitening over the whole step (TRL's rollout phase, steps 3-6). */
function ppoBeforeUpdates(cfg: PPOConfig, critic: ScalarHeadModel, micros: PreparedRollouts[]) {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const grids = micros.map((p) => {
    const T = p.mask.shape[1];
    const mask = p.mask.toArray() as number[];
    const values = noGrad(() => critic.scoresAll(p.batch).mul(p.mask).toArray()) as number[];
    const penalty = cfg.missing_eos_penalty ?? 0;
    const scores = p.rewards.map((r, i) => r - (p.truncated[i] ? penalty : 0));
    const logps = (p.old as Tensor).toArray() as number[];
    const refLogps = p.ref ? (p.ref.toArray() as number[]) : null;
    const r = tokenRewards({ logps, refLogps, mask, scores }, T, {
      klCoef: cfg.kl_coef,
      klEstimator: cfg.kl_estimator,
    });
    return { T, mask, values, scores, logps, rewards: Array.from(r.rewards), kl: Array.from(r.kl) };
  });
  const mask = grids.flatMap((g) => g.mask);
  let rewards: Float64Array = Float64Array.from(grids.flatMap((g) => g.rewards));
  if (cfg.whiten_rewards) rewards = maskedWhiten(rewards, mask, false);
  const starts = grids.map((_, k) => grids.slice(0, k).reduce((n, g) => n + g.mask.length, 0));
  const gae = grids.map((g, k) =>
    tokenGae(rewards.subarray(starts[k], starts[k] + g.mask.length), g.values, g.mask, g.T, cfg.gamma, cfg.lam),
  );
  const adv = maskedWhiten(Float64Array.from(gae.flatMap((x) => Array.from(x.advantages))), mask);
  const extra = grids.map((g, k) => {
    const shape = [g.mask.length / g.T, g.T];
    const f32 = (a: ArrayLike<number>) => tensor(Float32Array.from(a), { shape });
    const a = adv.subarray(starts[k], starts[k] + g.mask.length);
    return { advantages: f32(a), values: f32(g.values), returns: f32(gae[k].returns) };
  });
  // per-sequence sums over the completion tokens, averaged over the batch (TRL's objective/* metrics)
  const perRow = (f: (g: (typeof grids)[number]) => number[]) =>
    grids.flatMap((g) =>
      Array.from({ length: g.mask.length / g.T }, (_, b) => {
        let s = 0;
        for (let t = 0; t < g.T; t++) if (g.mask[b * g.T + t]) s += f(g)[b * g.T + t];
        return s;
      }),
    );
  const kl = mean(perRow((g) => g.kl));
  const scores = mean(grids.flatMap((g) => g.scores));
  const metrics = {
    'objective/kl': kl,
    'objective/entropy': -mean(perRow((g) => g.logps)),
    'objective/non_score_reward': -cfg.kl_coef * kl,
    'objective/rlhf_reward': scores - cfg.kl_coef * kl,
    'objective/scores': scores,
  };
  return { extra, metrics };
}

/** Policy and critic as one trainable module, optimised and checkpointed together (TRL's PolicyAndValueWrapper). */
class PolicyAndValue extends Module {
  constructor(policy: CausalLM, critic: Module) {
    super();
    this.child('policy', policy as unknown as Module);
    this.child('value_model', critic);
  }
}
export const withCritic = (policy: CausalLM, critic: Module): Module => new PolicyAndValue(policy, critic);
