// The offline methods (sft, reward, dpo, kto, orpo, cpo) as records with named phases, as TRL's
// trainers name `_prepare_dataset` and `_compute_loss`: how a method tokenizes its data (prepare),
// which reference log-probs it needs (referenceSeqs), and how a batch becomes its objective
// (src/objectives/) and metrics (loss). A new offline method is one record here plus, at most, one
// objective file.
import { type Tensor, noGrad, scope, tensor } from '../engine/index.js';
import type { CausalLM } from '../models/types.js';
import { labelLogps } from '../models/scoring.js';
import { ScalarHeadModel } from '../models/heads.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { DataError, type Example } from '../data/datasets.js';
import { located } from '../data/jsonl.js';
import {
  collate,
  completionSeq,
  packSequences,
  tokenizePreference,
  tokenizeSFT,
  tokenizeCompletion,
  type Seq,
  type TokenizeOptions,
} from '../data/tokenize.js';
import {
  sftLoss,
  rewardLoss,
  dpoLoss,
  ktoLoss,
  orpoLoss,
  cpoLoss,
  cpoAveragesLogps,
  RunningMoments,
  iftGuessIds,
  iftLambda,
  iftLoss,
  type ObjectiveOutput,
  type DPOLossType,
} from '../objectives/index.js';
import { rng } from '../data/random.js';
import type { RowVision } from '../data/media.js';
import { forwardBatch } from './vision.js';
import { type PromptRow, rowsLogps, seqRow } from './shared-prompt.js';
import type {
  CPOConfig,
  DPOConfig,
  IFTConfig,
  KTOConfig,
  OfflineConfig,
  ORPOConfig,
  RewardConfig,
  SFTConfig,
} from './config.js';

/** One training item after tokenization, with its reference values. */
export interface Item {
  where: string;
  extra: Record<string, unknown>;
  seq?: Seq;
  prompt?: number[];
  chosen?: number[];
  rejected?: number[];
  completion?: number[];
  label?: boolean;
  /** KTO: the mismatched completion used for the KL estimate. */
  klCompletion?: number[];
  /** The prompt's images/videos (vision rows). */
  vision?: RowVision;
  ref?: { chosen?: number; rejected?: number; completion?: number; kl?: number };
}

/** A sequence whose reference log-prob sum an item needs, and where the value goes. */
export interface RefSeq {
  item: Item;
  seq: Seq;
  set: (item: Item, v: number) => void;
}

/** Where in training a loss is computed (for schedules inside a method, e.g. IFT's λ). */
export interface StepContext {
  step: number;
  warmupSteps: number;
  train: boolean;
}

export interface Method {
  name: string;
  needsReference: boolean;
  prepare(examples: Example[], tok: Tokenizer, o: TokenizeOptions): Item[];
  referenceSeqs?(items: Item[]): RefSeq[];
  /** The module that trains: the LM itself, or the LM with a head (reward). */
  wrap?(lm: CausalLM): ScalarHeadModel;
  loss(model: CausalLM | ScalarHeadModel, batch: Item[], pad: number, ctx: StepContext): ObjectiveOutput;
  /** What the loss averages over, per item (default 1: a mean over items); data-parallel ranks weigh by it. */
  weight?(item: Item): number;
  state?: { save(): unknown; load(s: unknown): void };
}

function checkFormat(examples: Example[], formats: string[], method: string): void {
  const e = examples[0];
  if (!formats.includes(e.format))
    throw new DataError(
      `pacer: ${e.where}: the ${method} trainer needs ${formats.join(' or ')} data, this dataset is ${e.format}`,
      located(e.where),
    );
}

function preferenceItems(ex: Example[], tok: Tokenizer, o: TokenizeOptions, method: string): Item[] {
  checkFormat(ex, ['preference'], method);
  return ex.map((e) => ({
    where: e.where,
    extra: e.extra,
    ...tokenizePreference(e, tok, o),
    ref: {},
    vision: e.vision,
  }));
}

function pairSeqs(batch: Item[]): Seq[] {
  return [
    ...batch.map((it) => completionSeq(it.prompt!, it.chosen!, it.vision)),
    ...batch.map((it) => completionSeq(it.prompt!, it.rejected!, it.vision)),
  ];
}

/**
 * Policy log-prob sums for chosen then rejected rows of one forward: a pair's rows share their prompt,
 * which runs once (shared-prompt.ts); per-token values are in that forward's layout.
 */
function pairForward(model: CausalLM, batch: Item[], pad: number) {
  const rows = (key: 'chosen' | 'rejected') =>
    batch.map((it) => ({ prompt: it.prompt!, completion: it[key]!, vision: it.vision }));
  const { logits, lp } = rowsLogps(model, [...rows('chosen'), ...rows('rejected')], pad);
  const n = batch.length;
  return {
    logits,
    lp,
    n,
    chosen: lp.sum.narrow(0, 0, n),
    rejected: lp.sum.narrow(0, n, n),
    cCount: lp.count.narrow(0, 0, n),
    rCount: lp.count.narrow(0, n, n),
  };
}

function chosenNll(lp: { perToken: Tensor; mask: Tensor }, n: number): Tensor {
  const t = lp.perToken.narrow(0, 0, n);
  const m = lp.mask.narrow(0, 0, n).float();
  return t.sum().neg().div(m.sum().clamp(1, null));
}

const margins = (batch: Item[]) =>
  batch.every((it) => typeof it.extra.margin === 'number')
    ? tensor(batch.map((it) => it.extra.margin as number))
    : null;

/** A token-mean loss's weight of an item: the tokens that have a label (as collate() counts them). */
const lossTokens = (it: Item) => it.seq!.loss.filter((on, j) => on && j > 0).length;

function sftMethod(cfg: SFTConfig): Method {
  return {
    name: 'sft',
    needsReference: false,
    prepare(ex, tok, o) {
      checkFormat(ex, ['language_modeling', 'prompt_completion'], 'sft');
      const only = cfg.completion_only_loss;
      const items = ex.map((e) => ({
        where: e.where,
        extra: e.extra,
        seq: tokenizeSFT(e, tok, { ...o, completionOnlyLoss: only }),
      }));
      if (!cfg.packing) return items;
      const rows = packSequences(
        items.map((i) => i.seq),
        cfg.max_length ?? 1024,
      );
      return rows.map((seq, k) => ({ where: `packed row ${k + 1}`, extra: {}, seq }));
    },
    loss(model, batch, pad) {
      const b = collate(
        batch.map((it) => it.seq!),
        pad,
      );
      return sftLoss(forwardBatch(model as CausalLM, b), b.labels);
    },
    weight: lossTokens,
  };
}

/** A standard normal draw for a step (Box–Muller on the seeded uniform stream). */
function stepNormal(seed: number, step: number): number {
  const u = rng(seed * 1_000_003 + step);
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function iftMethod(cfg: IFTConfig): Method {
  return {
    name: 'ift',
    needsReference: false,
    prepare(ex, tok, o) {
      checkFormat(ex, ['language_modeling', 'prompt_completion'], 'ift');
      const only = cfg.completion_only_loss;
      return ex.map((e) => ({
        where: e.where,
        extra: e.extra,
        seq: tokenizeSFT(e, tok, { ...o, completionOnlyLoss: only }),
      }));
    },
    loss(model, batch, pad, ctx) {
      const lm = model as CausalLM;
      const b = collate(
        batch.map((it) => it.seq!),
        pad,
      );
      const schedule = {
        lambda: cfg.ift_lambda,
        minLambda: cfg.ift_lambda_schedule === 'linear' ? cfg.ift_min_lambda : cfg.ift_lambda,
        schedule: cfg.ift_lambda_schedule,
        warmupSteps: ctx.warmupSteps,
        noiseStd: cfg.ift_lambda_noise,
      };
      const lambda = iftLambda(ctx.step, schedule, cfg.ift_lambda_noise > 0 ? stepNormal(cfg.seed, ctx.step) : 0);
      // pass 1 (no gradients): the model's guesses on the true tokens
      const first = noGrad(() => lm.forward(b));
      const sftNll = noGrad(() => sftLoss(first, b.labels).metrics.loss);
      const guess = iftGuessIds(b.ids, b.labels, first);
      // pass 2: mixed embeddings (1 − λ)·e(x) + λ·e(ŷ)
      const e = lm.embed(b.ids);
      const mixed = lambda === 0 ? e : e.mul(1 - lambda).add(lm.embed(guess).mul(lambda));
      const out = iftLoss(lm.forward({ ...b, ids: undefined, inputsEmbeds: mixed }), b.labels, cfg.ift_gamma);
      return { loss: out.loss, metrics: { ...out.metrics, nll: sftNll, lambda } };
    },
    weight: lossTokens,
  };
}

function rewardMethod(cfg: RewardConfig): Method {
  return {
    name: 'reward',
    needsReference: false,
    prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'reward'),
    wrap: (lm) => new ScalarHeadModel(lm),
    loss(model, batch, pad) {
      const b = collate(pairSeqs(batch), pad);
      const r = (model as ScalarHeadModel).forward(b);
      const n = batch.length;
      return rewardLoss(r.narrow(0, 0, n), r.narrow(0, n, n), {
        margin: margins(batch),
        centerRewardsCoefficient: cfg.center_rewards_coefficient,
      });
    },
  };
}

/** WPO weights: length-averaged log-probs renormalised by logsumexp(2 logits), per pair. */
function wpoWeights(f: ReturnType<typeof pairForward>): Tensor {
  return noGrad(() => {
    const adj = f.logits.to('float32').mul(2).logsumexp(-1);
    const w = f.lp.perToken.sub(adj.mul(f.lp.mask.float())).sum(1).div(f.lp.count.clamp(1, null));
    return w
      .narrow(0, 0, f.n)
      .add(w.narrow(0, f.n, f.n))
      .exp()
      .clamp(null, 1);
  });
}

function dpoMethod(cfg: DPOConfig): Method {
  const running = new RunningMoments();
  return {
    name: 'dpo',
    needsReference: !cfg.reference_free,
    prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'dpo'),
    referenceSeqs: (items) =>
      items.flatMap((it) => [
        {
          item: it,
          seq: completionSeq(it.prompt!, it.chosen!, it.vision),
          set: (i: Item, v: number) => (i.ref!.chosen = v),
        },
        {
          item: it,
          seq: completionSeq(it.prompt!, it.rejected!, it.vision),
          set: (i: Item, v: number) => (i.ref!.rejected = v),
        },
      ]),
    loss(model, batch, pad) {
      const f = pairForward(model as CausalLM, batch, pad);
      const inputs = {
        policyChosen: f.chosen,
        policyRejected: f.rejected,
        refChosen: tensor(batch.map((it) => it.ref?.chosen ?? 0)),
        refRejected: tensor(batch.map((it) => it.ref?.rejected ?? 0)),
        chosenLengths: f.cCount,
        rejectedLengths: f.rCount,
        policyWeights: cfg.use_weighting ? wpoWeights(f) : null,
        chosenNll: cfg.rpo_alpha ? chosenNll(f.lp, f.n) : null,
        margins: margins(batch),
      };
      const options = {
        beta: cfg.beta,
        lossType: cfg.loss_type as DPOLossType[],
        lossWeights: cfg.loss_weights,
        labelSmoothing: cfg.label_smoothing,
        fDivergenceType: cfg.f_divergence_type,
        alphaDivergenceCoef: cfg.f_alpha_divergence_coef,
        rpoAlpha: cfg.rpo_alpha,
        referenceFree: cfg.reference_free,
        madpoTemperature: cfg.madpo_temperature,
      };
      return dpoLoss(inputs, options, running);
    },
    state: { save: () => running.toJSON(), load: (s) => running.load(s as Record<string, number>) },
  };
}

function ktoMethod(cfg: KTOConfig): Method {
  return {
    name: 'kto',
    needsReference: true,
    prepare(ex, tok, o) {
      checkFormat(ex, ['unpaired_preference'], 'kto');
      const items: Item[] = ex.map((e) => ({
        where: e.where,
        extra: e.extra,
        ...tokenizeCompletion(e, tok, o),
        label: e.label,
        ref: {},
        vision: e.vision,
      }));
      // KL estimate: each prompt with the previous example's completion (fixed pairing, in file order).
      items.forEach((it, i) => (it.klCompletion = items[(i + items.length - 1) % items.length].completion));
      if (!items.some((i) => i.label) || !items.some((i) => !i.label)) {
        const file = ex[0].where.replace(/:\d+$|:row \d+$/, '');
        throw new DataError(
          `pacer: ${file}: KTO needs both desirable (label true) and undesirable (label false) examples`,
          {
            file,
            field: 'label',
          },
        );
      }
      return items;
    },
    referenceSeqs: (items) =>
      items.flatMap((it) => [
        {
          item: it,
          seq: completionSeq(it.prompt!, it.completion!, it.vision),
          set: (i: Item, v: number) => (i.ref!.completion = v),
        },
        {
          item: it,
          seq: completionSeq(it.prompt!, it.klCompletion!, it.vision),
          set: (i: Item, v: number) => (i.ref!.kl = v),
        },
      ]),
    loss(model, batch, pad) {
      const seqs = [
        ...batch.map((it) => completionSeq(it.prompt!, it.completion!, it.vision)),
        ...batch.map((it) => completionSeq(it.prompt!, it.klCompletion!, it.vision)),
      ];
      const b = collate(seqs, pad);
      const lp = labelLogps(forwardBatch(model as CausalLM, b), b.labels);
      const n = batch.length;
      const inputs = {
        policy: lp.sum.narrow(0, 0, n),
        ref: tensor(batch.map((it) => it.ref!.completion!)),
        label: batch.map((it) => !!it.label),
        policyKL: lp.sum.narrow(0, n, n).detach(),
        refKL: tensor(batch.map((it) => it.ref!.kl!)),
      };
      return ktoLoss(inputs, {
        beta: cfg.beta,
        desirableWeight: cfg.desirable_weight,
        undesirableWeight: cfg.undesirable_weight,
      });
    },
  };
}

function orpoMethod(cfg: ORPOConfig): Method {
  return {
    name: 'orpo',
    needsReference: false,
    prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'orpo'),
    loss(model, batch, pad) {
      const f = pairForward(model as CausalLM, batch, pad);
      return orpoLoss(
        { chosenMean: f.chosen.div(f.cCount), rejectedMean: f.rejected.div(f.rCount), chosenNll: chosenNll(f.lp, f.n) },
        { beta: cfg.beta },
      );
    },
  };
}

function cpoMethod(cfg: CPOConfig): Method {
  const lossType = cfg.loss_type;
  return {
    name: 'cpo',
    needsReference: false,
    prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'cpo'),
    loss(model, batch, pad) {
      const f = pairForward(model as CausalLM, batch, pad);
      const avg = cpoAveragesLogps(lossType);
      const inputs = {
        chosen: avg ? f.chosen.div(f.cCount) : f.chosen,
        rejected: avg ? f.rejected.div(f.rCount) : f.rejected,
        chosenNll: chosenNll(f.lp, f.n),
      };
      return cpoLoss(inputs, {
        beta: cfg.beta,
        lossType,
        labelSmoothing: cfg.label_smoothing,
        simpoGamma: cfg.simpo_gamma,
        cpoAlpha: cfg.cpo_alpha,
      });
    },
  };
}

/** The method record of an offline config. */
export function makeMethod(cfg: OfflineConfig): Method {
  switch (cfg.trainer) {
    case 'sft':
      return sftMethod(cfg);
    case 'ift':
      return iftMethod(cfg);
    case 'reward':
      return rewardMethod(cfg);
    case 'dpo':
      return dpoMethod(cfg);
    case 'kto':
      return ktoMethod(cfg);
    case 'orpo':
      return orpoMethod(cfg);
    case 'cpo':
      return cpoMethod(cfg);
  }
}

/**
 * Log-prob sums of sequences' loss tokens under a model, in batches, without gradients; a batch whose
 * prompt + completion rows share prompts (a pair's chosen and rejected) runs each prompt once.
 */
export function sequenceLogpSums(
  model: CausalLM,
  seqs: Seq[],
  batchSize: number,
  pad: number,
  onProgress?: (done: number) => void,
): number[] {
  const out: number[] = [];
  noGrad(() => {
    for (let s = 0; s < seqs.length; s += batchSize) {
      scope(() => {
        const part = seqs.slice(s, s + batchSize);
        const rows = part.map(seqRow);
        if (rows.every((r) => r !== null)) out.push(...rowsLogps(model, rows as PromptRow[], pad).lp.sum.toArray());
        else {
          const b = collate(part, pad);
          out.push(...labelLogps(forwardBatch(model, b), b.labels).sum.toArray());
        }
      });
      onProgress?.(Math.min(seqs.length, s + batchSize));
    }
  });
  return out;
}
