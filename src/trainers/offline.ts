// Offline training (sft, reward, dpo, kto, orpo, cpo) as a family of the shared loop. Phases:
//   prepare    the dataset is validated and tokenized by the method (before any model loads)
//   reference  reference log-probs once, before training (precompute_ref_log_probs, the default),
//              from ref_model_name_or_path, the base with adapters off (LoRA), or the starting
//              policy; or per batch from a frozen reference (precompute_ref_log_probs: false)
//   order      Curry-DPO ordering and pacing (src/curriculum/offline.ts), else seeded shuffles
//   step       gradient_accumulation_steps micro-batches, each loss / accumulation backward
// The data position (epoch, offset) and the method's state go into checkpoints.
import { noGrad, saveSafetensors, scope, type Module } from '../engine/index.js';
import type { CausalLM } from '../models/types.js';
import { ScalarHeadModel } from '../models/heads.js';
import { loadDataset, shuffledIndices } from '../data/datasets.js';
import { orderItems, parseCurriculum, pacingFraction, type CurriculumConfig } from '../curriculum/offline.js';
import { Progress } from '../report/progress.js';
import { TrainingError } from '../util/errors.js';
import { makeMethod, sequenceLogpSums, type Item, type Method } from './methods.js';
import { prepareVision } from './vision.js';
import type { Policy, Reference } from './policy.js';
import type { LoopOptions, TrainerFamily, TrainerRun, Update } from './loop.js';
import type { OfflineConfig } from './config.js';

interface OfflineData {
  train: Item[];
  evalItems: Item[];
  pad: number;
}

interface Position {
  epoch: number;
  offset: number;
}

export function offlineFamily(cfg: OfflineConfig, opts: LoopOptions = {}): TrainerFamily<OfflineData> {
  const method = makeMethod(cfg);
  return {
    async prepare(tok) {
      const o = { maxLength: cfg.max_length, maxPromptLength: cfg.max_prompt_length };
      const read = async (f: string) => {
        const ex = await loadDataset(f, { maxLineBytes: cfg.max_line_bytes });
        await prepareVision(ex, cfg, f);
        return ex;
      };
      const train = method.prepare(await read(cfg.train_dataset), tok, o);
      const evalItems = cfg.eval_dataset ? method.prepare(await read(cfg.eval_dataset), tok, o) : [];
      return { train, evalItems, pad: tok.padTokenId ?? tok.eosTokenId ?? 0 };
    },
    start: (data, policy) => new OfflineRun(cfg, method, data, policy, opts),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per-key means over micro-batches (NaN entries skipped). */
export function avgMetrics(ms: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set(ms.flatMap((m) => Object.keys(m)))) {
    const v = ms.map((m) => m[key]).filter((x) => typeof x === 'number' && !Number.isNaN(x));
    if (v.length) out[key] = mean(v);
  }
  return out;
}

class OfflineRun implements TrainerRun {
  readonly trainable: Module;
  readonly totalSteps: number;
  readonly canEvaluate: boolean;
  readonly plots = [
    { title: 'Loss', keys: ['loss', 'eval_loss'] },
    { title: 'Rewards', keys: ['rewards/chosen', 'rewards/rejected', 'rewards/margins'] },
    { title: 'Chosen vs rejected log-probs', keys: ['logps/chosen', 'logps/rejected'] },
    { title: 'Reward accuracy', keys: ['rewards/accuracies', 'eval_rewards/accuracies'] },
  ];
  private readonly model: CausalLM | ScalarHeadModel;
  private readonly order: Item[];
  private readonly cur: CurriculumConfig | null;
  private readonly ref: Reference | null = null;
  private pos: Position = { epoch: 0, offset: 0 };
  private curOrder: Item[];
  private micro = 0;
  private lastLoss = Number.NaN;

  constructor(
    private readonly cfg: OfflineConfig,
    private readonly method: Method,
    private readonly data: OfflineData,
    policy: Policy,
    opts: LoopOptions,
  ) {
    this.model = method.wrap ? method.wrap(policy.model) : policy.model;
    // a reward model's head trains with the adapters
    if (this.model instanceof ScalarHeadModel && policy.lora)
      for (const p of this.model.score.parameters()) p.requiresGrad_(true);
    this.trainable = this.model;
    const refPath = 'ref_model_name_or_path' in cfg ? cfg.ref_model_name_or_path : null;
    if (method.needsReference && method.referenceSeqs) {
      const precompute = !('precompute_ref_log_probs' in cfg) || cfg.precompute_ref_log_probs;
      const ref = policy.reference(refPath, cfg.dtype, !precompute);
      if (precompute) {
        this.fillReference([...data.train, ...data.evalItems], ref?.model ?? policy.model, ref, opts);
        ref?.dispose();
      } else this.ref = ref;
    }
    this.order = orderItems(data.train, cfg);
    this.cur = parseCurriculum(cfg.curriculum, cfg._source);
    const perStep = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps;
    const stepsPerEpoch = Math.max(1, Math.ceil(data.train.length / perStep));
    this.totalSteps = cfg.max_steps > 0 ? cfg.max_steps : Math.ceil(cfg.num_train_epochs * stepsPerEpoch);
    this.curOrder = this.epochOrder(0);
    this.canEvaluate = data.evalItems.length > 0;
  }

  /** Reference log-prob sums of the items' sequences (a progress bar when precomputing). */
  private fillReference(
    items: Item[],
    model: CausalLM,
    ref: Reference | null,
    opts: LoopOptions = { progress: false },
  ) {
    const refs = this.method.referenceSeqs!(items);
    const bar = new Progress(refs.length, 'reference log-probs', opts.progress ?? true);
    const bs = 'per_device_eval_batch_size' in this.cfg ? this.cfg.per_device_eval_batch_size : 8;
    const run = (m: CausalLM) =>
      sequenceLogpSums(
        m,
        refs.map((r) => r.seq),
        bs,
        this.data.pad,
        (d) => bar.update(d),
      );
    const values = ref ? ref.run(run) : run(model);
    refs.forEach((r, i) => r.set(r.item, values[i]));
  }

  private epochOrder(epoch: number): Item[] {
    const shuffle = this.cfg.curriculum === null && this.cfg.shuffle;
    return shuffle ? shuffledIndices(this.order.length, this.cfg.seed + epoch).map((i) => this.order[i]) : this.order;
  }

  private nextBatch(step: number): Item[] {
    const bs = this.cfg.per_device_train_batch_size;
    const cur = this.cur;
    if (cur?.pacing && cur.pacing !== 'none') {
      // paced: draw from the easiest fraction of the ordered items (a seeded draw per micro-batch)
      const f = pacingFraction(cur.pacing, step, (cur.full_at ?? 1) * this.totalSteps, cur.start_fraction ?? 0.25);
      const pool = Math.max(bs, Math.ceil(f * this.order.length));
      const perm = shuffledIndices(Math.min(pool, this.order.length), this.cfg.seed * 7919 + step * 131 + this.micro++);
      return perm.slice(0, bs).map((i) => this.order[i]);
    }
    if (this.pos.offset >= this.curOrder.length) {
      this.pos = { epoch: this.pos.epoch + 1, offset: 0 };
      this.curOrder = this.epochOrder(this.pos.epoch);
    }
    const b = this.curOrder.slice(this.pos.offset, this.pos.offset + bs);
    this.pos = { epoch: this.pos.epoch, offset: this.pos.offset + bs };
    return b;
  }

  /** The batch's loss with reference values computed now when they are not precomputed. */
  private batchLoss(batch: Item[], step: number, train: boolean) {
    if (this.ref) this.fillReference(batch, this.ref.model, this.ref);
    const warmupSteps = this.cfg.warmup_steps || Math.ceil(this.cfg.warmup_ratio * this.totalSteps);
    return this.method.loss(this.model, batch, this.data.pad, { step, warmupSteps, train });
  }

  async step(step: number, update: Update): Promise<Record<string, number>> {
    const ga = this.cfg.gradient_accumulation_steps;
    this.micro = 0;
    const m = await update(() => {
      const micros: Array<Record<string, number>> = [];
      for (let k = 0; k < ga; k++) {
        const batch = this.nextBatch(step);
        if (batch.length === 0) continue;
        micros.push(
          scope(() => {
            const out = this.batchLoss(batch, step, true);
            if (!Number.isFinite(out.metrics.loss)) {
              const where = batch
                .map((b) => b.where)
                .slice(0, 3)
                .join(', ');
              throw new TrainingError(
                `pacer: the loss is ${out.metrics.loss} at step ${step + 1} (examples ${where}); lower ` +
                  `learning_rate or check the data`,
              );
            }
            out.loss.div(ga).backward();
            return out.metrics;
          }),
        );
      }
      return avgMetrics(micros);
    });
    this.lastLoss = m.loss;
    return { epoch: this.pos.epoch + this.pos.offset / Math.max(1, this.curOrder.length), ...m };
  }

  async evaluate(step: number): Promise<Record<string, number> | null> {
    const bs = 'per_device_eval_batch_size' in this.cfg ? this.cfg.per_device_eval_batch_size : 8;
    const items = this.data.evalItems;
    const ms: Array<Record<string, number>> = [];
    noGrad(() => {
      for (let s = 0; s < items.length; s += bs)
        ms.push(scope(() => this.batchLoss(items.slice(s, s + bs), step, false).metrics));
    });
    return avgMetrics(ms);
  }

  state(): Record<string, unknown> {
    return { position: this.pos, method: this.method.state?.save() ?? null };
  }

  load(s: Record<string, any>): void {
    this.method.state?.load(s.method);
    this.pos = s.position;
    this.curOrder = this.epochOrder(this.pos.epoch);
  }

  summary(): Record<string, unknown> {
    return {
      train_examples: this.data.train.length,
      eval_examples: this.data.evalItems.length,
      final_loss: this.lastLoss,
    };
  }

  /** A reward model also gets score.safetensors with its head. */
  save(dir: string): void {
    const m = this.model;
    if (m instanceof ScalarHeadModel)
      scope(() => saveSafetensors(`${dir}/score.safetensors`, { 'score.weight': m.score.weight }));
  }

  dispose(): void {
    this.ref?.dispose();
  }
}
