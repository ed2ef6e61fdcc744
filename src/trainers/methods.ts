// The offline methods as trainer hooks: how a method tokenizes its data, which reference
// quantities it caches, and how a batch becomes an objective (src/objectives/) and its metrics.
import { type Tensor, noGrad, scope, tensor } from '../engine/index.js';
import type { CausalLM } from '../models/types.js';
import { labelLogps } from '../models/scoring.js';
import type { ScalarHeadModel } from '../models/heads.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { DataError, type Example } from '../data/datasets.js';
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
  type ObjectiveOutput,
  type DPOLossType,
  type CPOLossType,
  type FDivergence,
} from '../objectives/index.js';
import type { TrainConfig } from './config.js';

/** One training item after tokenization, with cached reference values. */
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
  ref?: { chosen?: number; rejected?: number; completion?: number; kl?: number };
}

export interface Method {
  name: string;
  needsReference: boolean;
  formats: string[];
  prepare(examples: Example[], tok: Tokenizer, o: TokenizeOptions): Item[];
  /** Sequences whose reference log-prob sums are cached, and where to put each result. */
  referenceSeqs?(items: Item[]): Array<{ seq: Seq; set: (item: Item, v: number) => void; item: Item }>;
  loss(model: CausalLM | ScalarHeadModel, batch: Item[], pad: number): ObjectiveOutput;
  state?: { save(): unknown; load(s: unknown): void };
}

function pairSeqs(batch: Item[]): Seq[] {
  return [
    ...batch.map((it) => completionSeq(it.prompt!, it.chosen!)),
    ...batch.map((it) => completionSeq(it.prompt!, it.rejected!)),
  ];
}

function preferenceItems(ex: Example[], tok: Tokenizer, o: TokenizeOptions, method: string): Item[] {
  checkFormat(ex, ['preference'], method);
  return ex.map((e) => ({ where: e.where, extra: e.extra, ...tokenizePreference(e, tok, o), ref: {} }));
}

function checkFormat(examples: Example[], formats: string[], method: string): void {
  const e = examples[0];
  if (!formats.includes(e.format))
    throw new DataError(
      `pacer: ${e.where}: the ${method} trainer needs ${formats.join(' or ')} data, this dataset is ${e.format}`,
    );
}

/** Policy log-prob sums for chosen then rejected rows of one concatenated forward. */
function pairForward(model: CausalLM, batch: Item[], pad: number) {
  const b = collate(pairSeqs(batch), pad);
  const logits = model.forward(b.ids, { attentionMask: b.attentionMask });
  const lp = labelLogps(logits, b.labels);
  const n = batch.length;
  return {
    logits,
    lp,
    n,
    labels: b.labels,
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

export function makeMethod(cfg: TrainConfig): Method {
  switch (cfg.trainer) {
    case 'sft':
      return {
        name: 'sft',
        needsReference: false,
        formats: ['language_modeling', 'prompt_completion'],
        prepare(ex, tok, o) {
          checkFormat(ex, this.formats, 'sft');
          const items = ex.map((e) => ({
            where: e.where,
            extra: e.extra,
            seq: tokenizeSFT(e, tok, { ...o, completionOnlyLoss: cfg.completion_only_loss }),
          }));
          if (!cfg.packing) return items;
          return packSequences(
            items.map((i) => i.seq),
            cfg.max_length ?? 1024,
          ).map((seq, k) => ({ where: `packed row ${k + 1}`, extra: {}, seq }));
        },
        loss(model, batch, pad) {
          const b = collate(
            batch.map((it) => it.seq!),
            pad,
          );
          return sftLoss(
            (model as CausalLM).forward(b.ids, {
              attentionMask: b.attentionMask,
              positionIds: b.positionIds,
              segmentIds: b.segmentIds,
            }),
            b.labels,
          );
        },
      };
    case 'reward':
      return {
        name: 'reward',
        needsReference: false,
        formats: ['preference'],
        prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'reward'),
        loss(model, batch, pad) {
          const b = collate(pairSeqs(batch), pad);
          const r = (model as ScalarHeadModel).forward(b.ids, b.attentionMask);
          const n = batch.length;
          const hasMargin = batch.every((it) => typeof it.extra.margin === 'number');
          return rewardLoss(r.narrow(0, 0, n), r.narrow(0, n, n), {
            margin: hasMargin ? tensor(batch.map((it) => it.extra.margin as number)) : null,
            centerRewardsCoefficient: cfg.center_rewards_coefficient,
          });
        },
      };
    case 'dpo': {
      const running = new RunningMoments();
      const lossType = cfg.loss_type as DPOLossType[];
      return {
        name: 'dpo',
        needsReference: !cfg.reference_free,
        formats: ['preference'],
        prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'dpo'),
        referenceSeqs: (items) =>
          items.flatMap((it) => [
            { item: it, seq: completionSeq(it.prompt!, it.chosen!), set: (i: Item, v: number) => (i.ref!.chosen = v) },
            {
              item: it,
              seq: completionSeq(it.prompt!, it.rejected!),
              set: (i: Item, v: number) => (i.ref!.rejected = v),
            },
          ]),
        loss(model, batch, pad) {
          const f = pairForward(model as CausalLM, batch, pad);
          let policyWeights: Tensor | null = null;
          if (cfg.use_weighting) {
            // WPO: length-averaged log-probs renormalised by logsumexp(2 logits), per sequence.
            policyWeights = noGrad(() => {
              const adj = f.logits.to('float32').mul(2).logsumexp(-1);
              const w = f.lp.perToken.sub(adj.mul(f.lp.mask.float())).sum(1).div(f.lp.count.clamp(1, null));
              return w
                .narrow(0, 0, f.n)
                .add(w.narrow(0, f.n, f.n))
                .exp()
                .clamp(null, 1);
            });
          }
          const hasMargin = batch.every((it) => typeof it.extra.margin === 'number');
          return dpoLoss(
            {
              policyChosen: f.chosen,
              policyRejected: f.rejected,
              refChosen: tensor(batch.map((it) => it.ref?.chosen ?? 0)),
              refRejected: tensor(batch.map((it) => it.ref?.rejected ?? 0)),
              chosenLengths: f.cCount,
              rejectedLengths: f.rCount,
              policyWeights,
              chosenNll: cfg.rpo_alpha ? chosenNll(f.lp, f.n) : null,
              margins: hasMargin ? tensor(batch.map((it) => it.extra.margin as number)) : null,
            },
            {
              beta: cfg.beta,
              lossType,
              lossWeights: cfg.loss_weights,
              labelSmoothing: cfg.label_smoothing,
              fDivergenceType: cfg.f_divergence_type as FDivergence,
              alphaDivergenceCoef: cfg.f_alpha_divergence_coef,
              rpoAlpha: cfg.rpo_alpha,
              referenceFree: cfg.reference_free,
              madpoTemperature: cfg.madpo_temperature,
            },
            running,
          );
        },
        state: { save: () => running.toJSON(), load: (s) => running.load(s as Record<string, number>) },
      };
    }
    case 'kto':
      return {
        name: 'kto',
        needsReference: true,
        formats: ['unpaired_preference'],
        prepare(ex, tok, o) {
          checkFormat(ex, this.formats, 'kto');
          const items: Item[] = ex.map((e) => ({
            where: e.where,
            extra: e.extra,
            ...tokenizeCompletion(e, tok, o),
            label: e.label,
            ref: {},
          }));
          // KL estimate: each prompt with the previous example's completion (fixed pairing, in file order).
          items.forEach((it, i) => (it.klCompletion = items[(i + items.length - 1) % items.length].completion));
          if (!items.some((i) => i.label) || !items.some((i) => !i.label))
            throw new DataError(
              `pacer: ${ex[0].where.replace(/:\d+$|:row \d+$/, '')}: KTO needs both desirable (label true) and undesirable (label false) examples`,
            );
          return items;
        },
        referenceSeqs: (items) =>
          items.flatMap((it) => [
            {
              item: it,
              seq: completionSeq(it.prompt!, it.completion!),
              set: (i: Item, v: number) => (i.ref!.completion = v),
            },
            {
              item: it,
              seq: completionSeq(it.prompt!, it.klCompletion!),
              set: (i: Item, v: number) => (i.ref!.kl = v),
            },
          ]),
        loss(model, batch, pad) {
          const seqs = [
            ...batch.map((it) => completionSeq(it.prompt!, it.completion!)),
            ...batch.map((it) => completionSeq(it.prompt!, it.klCompletion!)),
          ];
          const b = collate(seqs, pad);
          const lp = labelLogps((model as CausalLM).forward(b.ids, { attentionMask: b.attentionMask }), b.labels);
          const n = batch.length;
          return ktoLoss(
            {
              policy: lp.sum.narrow(0, 0, n),
              ref: tensor(batch.map((it) => it.ref!.completion!)),
              label: batch.map((it) => !!it.label),
              policyKL: lp.sum.narrow(0, n, n).detach(),
              refKL: tensor(batch.map((it) => it.ref!.kl!)),
            },
            { beta: cfg.beta, desirableWeight: cfg.desirable_weight, undesirableWeight: cfg.undesirable_weight },
          );
        },
      };
    case 'orpo':
      return {
        name: 'orpo',
        needsReference: false,
        formats: ['preference'],
        prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'orpo'),
        loss(model, batch, pad) {
          const f = pairForward(model as CausalLM, batch, pad);
          return orpoLoss(
            {
              chosenMean: f.chosen.div(f.cCount),
              rejectedMean: f.rejected.div(f.rCount),
              chosenNll: chosenNll(f.lp, f.n),
            },
            { beta: cfg.beta },
          );
        },
      };
    case 'cpo': {
      const lt = cfg.loss_type as CPOLossType;
      return {
        name: 'cpo',
        needsReference: false,
        formats: ['preference'],
        prepare: (ex, tok, o) => preferenceItems(ex, tok, o, 'cpo'),
        loss(model, batch, pad) {
          const f = pairForward(model as CausalLM, batch, pad);
          const avg = cpoAveragesLogps(lt);
          return cpoLoss(
            {
              chosen: avg ? f.chosen.div(f.cCount) : f.chosen,
              rejected: avg ? f.rejected.div(f.rCount) : f.rejected,
              chosenNll: chosenNll(f.lp, f.n),
            },
            {
              beta: cfg.beta,
              lossType: lt,
              labelSmoothing: cfg.label_smoothing,
              simpoGamma: cfg.simpo_gamma,
              cpoAlpha: cfg.cpo_alpha,
            },
          );
        },
      };
    }
    default:
      throw new Error(`pacer: '${cfg.trainer}' is an online trainer (see trainers/online.ts)`);
  }
}

/** Log-prob sums of sequences' loss tokens under a model, in batches, without gradients. */
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
        const b = collate(seqs.slice(s, s + batchSize), pad);
        out.push(...labelLogps(model.forward(b.ids, { attentionMask: b.attentionMask }), b.labels).sum.toArray());
      });
      onProgress?.(Math.min(seqs.length, s + batchSize));
    }
  });
  return out;
}
