// The online methods as records: the advantages they form from a step's rewards and the loss they
// minimise on one micro-batch of rollouts (objectives in src/objectives/). The loop in online.ts
// does the rest (sampling, generation, rewards, log-probs, accumulation, feedback). A new online
// method is one record here plus, at most, one objective file.
import { type Tensor, tensor } from '../engine/index.js';
import {
  groupAdvantages,
  rlooAdvantages,
  grpoLoss,
  regGrpoLoss,
  k3KlPerSequence,
  raftSelect,
  raftLoss,
  bestWorstPairs,
  onlineDpoLoss,
  type ObjectiveOutput,
} from '../objectives/index.js';
import type { OnlineConfig } from './config.js';

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
}

export interface OnlineMethod {
  /** Forms π_ref log-probs (beta > 0, or a DPO reference). */
  readonly usesReference: boolean;
  /** Reuses rollouts for several passes, so π_old must be computed before the first update. */
  readonly usesOld: boolean;
  advantages(rewards: number[], G: number): number[];
  /** The micro-batch loss, already scaled for accumulation; null when it has nothing to learn from. */
  loss(x: RolloutLossInputs): ObjectiveOutput | null;
}

const scaled = (o: ObjectiveOutput, k: number): ObjectiveOutput =>
  k === 1 ? o : { loss: o.loss.div(k), metrics: o.metrics };

export function makeOnlineMethod(cfg: OnlineConfig): OnlineMethod {
  const G = cfg.num_generations;
  const iterate = cfg.num_iterations > 1;
  switch (cfg.trainer) {
    case 'grpo':
    case 'rloo': {
      const lossType = cfg.trainer === 'rloo' ? 'grpo' : cfg.loss_type;
      return {
        usesReference: cfg.beta > 0,
        usesOld: iterate,
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
        advantages: (r) => groupAdvantages(r, G, 'group'),
        // SFT on the kept completions (the raw distribution), a token mean per micro-batch
        loss: (x) =>
          scaled(raftLoss({ logps: x.rawLogps(), mask: x.mask }, raftSelect(x.rewards, G, cfg.raft_top_k)), x.micro),
      };
    case 'online_dpo':
      return {
        usesReference: true,
        usesOld: false,
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
