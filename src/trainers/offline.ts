// Offline training (sft, reward, dpo, kto, orpo, cpo) as a family of the shared loop. Phases:
//   prepare    the dataset is validated and tokenized by the method (before any model loads)
//   reference  reference log-probs once, before training (precompute_ref_log_probs, the default),
//              from ref_model_name_or_path, the base with adapters off (LoRA), or the starting
//              policy; or per batch from a frozen reference (precompute_ref_log_probs: false)
//   order      Curry-DPO ordering and pacing (src/curriculum/offline.ts), else seeded shuffles
//   step       gradient_accumulation_steps micro-batches, each loss / accumulation backward
//   parallel   each micro-batch is a global batch of world_size × per_device_train_batch_size items
//              in the same order on every rank; a rank trains on its slice (parallel.ts), so W ranks
//              see what one process with a W-times larger batch sees; reference log-probs and
//              evaluation batches are shared out between ranks and gathered
// The data position (epoch, offset: counted in global items, so a run resumes at the same place with
// any world size) and the method's state go into checkpoints.
// tokens/trained counts the tokens of every sequence trained on so far, over the global batch (a pair's
// two sequences both count; the objectives' own num_tokens is the step's loss tokens).
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
import type { World, WeightedMetrics } from './parallel.js';
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
    start: (data, policy, _tok, world) => new OfflineRun(cfg, method, data, policy, world, opts),
  };
}

/** Metrics that count (summed over a micro-batch's ranks); the others are means. */
const COUNTS = new Set(['num_tokens']);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The tokens of the sequences an item puts through the model in training. */
export function itemTokens(it: Item): number {
  if (it.seq) return it.seq.ids.length;
  const p = it.prompt?.length ?? 0;
  const side = (c?: number[]) => (c ? p + c.length : 0);
  return side(it.chosen) + side(it.rejected) + side(it.completion) + side(it.klCompletion);
}

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
  private numTokens = 0;

  constructor(
    private readonly cfg: OfflineConfig,
    private readonly method: Method,
    private readonly data: OfflineData,
    policy: Policy,
    private readonly world: World,
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
        const progress = world.isMain && (opts.progress ?? true);
        this.fillReference([...data.train, ...data.evalItems], ref?.model ?? policy.model, ref, { progress }, true);
        ref?.dispose();
      } else this.ref = ref;
    }
    this.order = orderItems(data.train, cfg);
    this.cur = parseCurriculum(cfg.curriculum, cfg._source);
    const perStep = this.globalBatch * cfg.gradient_accumulation_steps;
    const stepsPerEpoch = Math.max(1, Math.ceil(data.train.length / perStep));
    this.totalSteps = cfg.max_steps > 0 ? cfg.max_steps : Math.ceil(cfg.num_train_epochs * stepsPerEpoch);
    this.curOrder = this.epochOrder(0);
    this.canEvaluate = data.evalItems.length > 0;
  }

  /** Items per micro-batch over all ranks. */
  private get globalBatch(): number {
    return this.cfg.per_device_train_batch_size * this.world.size;
  }

  /**
   * Reference log-prob sums of the items' sequences (a progress bar when precomputing). `shared`:
   * every rank computes a slice of the sequences and the values are gathered.
   */
  private fillReference(
    items: Item[],
    model: CausalLM,
    ref: Reference | null,
    opts: LoopOptions = { progress: false },
    shared = false,
  ) {
    const all = this.method.referenceSeqs!(items);
    const [lo, hi] = shared ? this.world.range(all.length) : [0, all.length];
    const refs = all.slice(lo, hi);
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
    const mine = ref ? ref.run(run) : run(model);
    const values = shared ? this.world.gather(mine).flat() : mine;
    all.forEach((r, i) => r.set(r.item, values[i]));
  }

  private epochOrder(epoch: number): Item[] {
    const shuffle = this.cfg.curriculum === null && this.cfg.shuffle;
    return shuffle ? shuffledIndices(this.order.length, this.cfg.seed + epoch).map((i) => this.order[i]) : this.order;
  }

  /** The next global micro-batch (the same on every rank). */
  private nextBatch(step: number): Item[] {
    const bs = this.globalBatch;
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
    const weight = this.method.weight;
    const m = await update(() => {
      const micros: WeightedMetrics[] = [];
      for (let k = 0; k < ga; k++) {
        const global = this.nextBatch(step);
        for (const it of global) this.numTokens += itemTokens(it);
        const { items: batch, scale, share } = this.world.shard(global, weight);
        if (batch.length === 0) continue;
        micros.push({
          weight: share,
          metrics: scope(() => {
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
            (scale === 1 ? out.loss : out.loss.mul(scale)).div(ga).backward();
            return out.metrics;
          }),
        });
      }
      return this.world.combineMetrics(micros, COUNTS);
    });
    this.lastLoss = m.loss;
    const epoch = this.pos.epoch + this.pos.offset / Math.max(1, this.curOrder.length);
    return { epoch, ...m, 'tokens/trained': this.numTokens };
  }

  /** The eval batches' mean metrics; ranks take turns at the batches (batch k on rank k mod W). */
  async evaluate(step: number): Promise<Record<string, number> | null> {
    const bs = 'per_device_eval_batch_size' in this.cfg ? this.cfg.per_device_eval_batch_size : 8;
    const items = this.data.evalItems;
    const ms: WeightedMetrics[] = [];
    noGrad(() => {
      for (let s = bs * this.world.rank; s < items.length; s += bs * this.world.size)
        ms.push({ weight: 1, metrics: scope(() => this.batchLoss(items.slice(s, s + bs), step, false).metrics) });
    });
    return this.world.combineMetrics(ms);
  }

  state(): Record<string, unknown> {
    return { position: this.pos, method: this.method.state?.save() ?? null, trained_tokens: this.numTokens };
  }

  load(s: Record<string, any>): void {
    this.numTokens = s.trained_tokens ?? 0;
    this.method.state?.load(s.method);
    this.pos = s.position;
    this.curOrder = this.epochOrder(this.pos.epoch);
  }

  sharedState(): unknown {
    return { position: this.pos, order: this.curOrder.length };
  }

  summary(): Record<string, unknown> {
    return {
      train_examples: this.data.train.length,
      eval_examples: this.data.evalItems.length,
      final_loss: this.lastLoss,
      trained_tokens: this.numTokens,
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
