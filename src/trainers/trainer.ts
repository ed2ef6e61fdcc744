// The offline training loop shared by sft, reward, dpo, kto, orpo and cpo: data validated and
// tokenized before the first step, reference log-probs computed once and cached, gradient
// accumulation, clipping, schedules, evaluation, checkpoints every save_steps (model, optimizer,
// scheduler, RNG and data position, written atomically) with exact resume, metrics.jsonl with
// TRL's names (a logging step's metrics describe the batch before that step's update), a progress
// bar and an HTML report.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  AdamW,
  LRScheduler,
  clipGradNorm,
  decayGroups,
  manualSeed,
  scope,
  setThreads,
  noGrad,
  saveSafetensors,
  atomicWrite,
} from '../engine/index.js';
import { fromPretrained, savePretrained, type PretrainedModel } from '../models/pretrained.js';
import { LoraAdapters } from '../models/lora.js';
import { ScalarHeadModel } from '../models/heads.js';
import type { CausalLM } from '../models/types.js';
import { Tokenizer } from '../tokenizers/index.js';
import { loadDataset, shuffledIndices } from '../data/datasets.js';
import { Progress } from '../report/progress.js';
import { renderReport, plotsFromMetrics } from '../report/html.js';
import { makeMethod, sequenceLogpSums, type Item } from './methods.js';
import type { TrainConfig } from './config.js';
import { orderItems, parseCurriculum, pacingFraction } from '../curriculum/offline.js';
import { latestCheckpoint, readCheckpoint, restoreMetrics, writeCheckpoint } from './checkpoint.js';

export { latestCheckpoint };

export class TrainingError extends Error {}

export interface TrainResult {
  globalStep: number;
  history: Array<Record<string, number>>;
  outputDir: string;
  finalMetrics: Record<string, number>;
  evalMetrics: Record<string, number> | null;
}

interface Position {
  epoch: number;
  offset: number;
}

const LORA_TARGETS: Record<string, string[]> = {
  gpt2: ['c_attn', 'c_proj', 'c_fc'],
  default: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
};

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function avgMetrics(ms: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set(ms.flatMap((m) => Object.keys(m)))) {
    const v = ms.map((m) => m[k]).filter((x) => typeof x === 'number' && !Number.isNaN(x));
    if (v.length) out[k] = mean(v);
  }
  return out;
}

export async function train(
  cfg: TrainConfig,
  opts: { progress?: boolean; log?: (s: string) => void } = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  setThreads(cfg.threads ?? availableParallelism());
  manualSeed(cfg.seed);

  // ---- data (validated and tokenized before anything trains)
  const tok = Tokenizer.fromPretrained(cfg.model_name_or_path);
  const pad = tok.padTokenId ?? tok.eosTokenId ?? 0;
  const method = makeMethod(cfg);
  const tokOpts = { maxLength: cfg.max_length, maxPromptLength: cfg.max_prompt_length };
  const trainItems = method.prepare(await loadDataset(cfg.train_dataset), tok, tokOpts);
  const evalItems = cfg.eval_dataset ? method.prepare(await loadDataset(cfg.eval_dataset), tok, tokOpts) : [];
  mkdirSync(cfg.output_dir, { recursive: true });

  // ---- models
  const loaded: PretrainedModel = fromPretrained(cfg.model_name_or_path, { dtype: cfg.dtype });
  const lm = loaded.model;
  let lora: LoraAdapters | null = null;
  if (cfg.use_peft) {
    lora = new LoraAdapters(
      lm,
      {
        r: cfg.lora_r,
        lora_alpha: cfg.lora_alpha,
        lora_dropout: cfg.lora_dropout,
        target_modules: cfg.lora_target_modules ?? LORA_TARGETS[loaded.modelType] ?? LORA_TARGETS.default,
        fan_in_fan_out: loaded.modelType === 'gpt2',
      },
      { baseModelNameOrPath: cfg.model_name_or_path },
    );
  }
  const model: CausalLM | ScalarHeadModel = cfg.trainer === 'reward' ? new ScalarHeadModel(lm) : lm;
  if (cfg.trainer === 'reward' && lora)
    for (const p of (model as ScalarHeadModel).score.parameters()) p.requiresGrad_(true);

  // ---- reference log-probs, once (the initial policy, a separate reference, or adapters off)
  if (method.needsReference && method.referenceSeqs) {
    const refs = method.referenceSeqs([...trainItems, ...evalItems]);
    const bar = new Progress(refs.length, 'reference log-probs', opts.progress ?? true);
    let values: number[];
    if (cfg.ref_model_name_or_path) {
      const ref = fromPretrained(cfg.ref_model_name_or_path, { dtype: cfg.dtype }).model;
      values = sequenceLogpSums(
        ref,
        refs.map((r) => r.seq),
        cfg.per_device_eval_batch_size,
        pad,
        (d) => bar.update(d),
      );
      ref.dispose();
    } else {
      const run = () =>
        sequenceLogpSums(
          lm,
          refs.map((r) => r.seq),
          cfg.per_device_eval_batch_size,
          pad,
          (d) => bar.update(d),
        );
      values = lora ? lora.withDisabled(run) : run();
    }
    refs.forEach((r, i) => r.set(r.item, values[i]));
  }
  const order = orderItems(trainItems, cfg);

  // ---- optimisation
  const trainable = cfg.trainer === 'reward' ? (model as ScalarHeadModel) : lm;
  const groups = decayGroups(trainable, cfg.weight_decay);
  if (groups.length === 0) throw new TrainingError('pacer: no trainable parameters');
  const opt = new AdamW(groups, {
    lr: cfg.learning_rate,
    betas: [cfg.adam_beta1, cfg.adam_beta2],
    eps: cfg.adam_epsilon,
  });
  const bs = cfg.per_device_train_batch_size;
  const perStep = bs * cfg.gradient_accumulation_steps;
  const stepsPerEpoch = Math.max(1, Math.ceil(trainItems.length / perStep));
  const totalSteps = cfg.max_steps > 0 ? cfg.max_steps : Math.ceil(cfg.num_train_epochs * stepsPerEpoch);
  const warmup = cfg.warmup_steps || Math.ceil(cfg.warmup_ratio * totalSteps);
  const sched = new LRScheduler(opt, cfg.lr_scheduler_type, warmup, totalSteps);
  const params = opt.groups.flatMap((g) => g.params);

  let step = 0;
  let pos: Position = { epoch: 0, offset: 0 };
  const history: Array<Record<string, number>> = [];
  const metricsFile = join(cfg.output_dir, 'metrics.jsonl');

  // ---- resume
  const resumeFrom =
    cfg.resume_from_checkpoint === true
      ? latestCheckpoint(cfg.output_dir)
      : typeof cfg.resume_from_checkpoint === 'string'
        ? cfg.resume_from_checkpoint
        : null;
  if (cfg.resume_from_checkpoint === true && !resumeFrom)
    log(`pacer: no checkpoint in ${cfg.output_dir}; starting from scratch`);
  if (resumeFrom) {
    const st = readCheckpoint(resumeFrom, trainable, opt, sched);
    method.state?.load(st.method);
    step = st.global_step;
    pos = st.position;
    history.push(...restoreMetrics(metricsFile, step));
    log(`pacer: resumed from ${resumeFrom} at step ${step}`);
  } else writeFileSync(metricsFile, '');

  const epochOrder = (epoch: number) =>
    cfg.shuffle && !cfg.curriculum ? shuffledIndices(order.length, cfg.seed + epoch).map((i) => order[i]) : order;
  let curOrder = epochOrder(pos.epoch);
  const cur = parseCurriculum(cfg.curriculum, cfg._source);
  let micro = 0;
  const nextBatch = (): Item[] => {
    if (cur?.pacing && cur.pacing !== 'none') {
      // Paced: draw from the easiest fraction of the ordered items (a seeded draw per micro-batch).
      const f = pacingFraction(cur.pacing, step, (cur.full_at ?? 1) * totalSteps, cur.start_fraction ?? 0.25);
      const pool = Math.max(bs, Math.ceil(f * order.length));
      const perm = shuffledIndices(Math.min(pool, order.length), cfg.seed * 7919 + step * 131 + micro++);
      return perm.slice(0, bs).map((i) => order[i]);
    }
    if (pos.offset >= curOrder.length) {
      pos = { epoch: pos.epoch + 1, offset: 0 };
      curOrder = epochOrder(pos.epoch);
    }
    const b = curOrder.slice(pos.offset, pos.offset + bs);
    pos = { epoch: pos.epoch, offset: pos.offset + bs };
    return b;
  };

  const evaluate = (): Record<string, number> => {
    model.eval();
    const ms: Array<Record<string, number>> = [];
    noGrad(() => {
      for (let s = 0; s < evalItems.length; s += cfg.per_device_eval_batch_size)
        ms.push(scope(() => method.loss(model, evalItems.slice(s, s + cfg.per_device_eval_batch_size), pad).metrics));
    });
    model.train();
    const avg = avgMetrics(ms);
    return Object.fromEntries(Object.entries(avg).map(([k, v]) => [`eval_${k}`, v]));
  };

  const saveCheckpoint = () =>
    writeCheckpoint(
      cfg.output_dir,
      step,
      trainable,
      opt,
      sched,
      { position: pos, method: method.state?.save() ?? null, trainer: cfg.trainer },
      cfg.save_total_limit,
    );

  // ---- the loop
  const bar = new Progress(totalSteps, `${cfg.trainer}`, opts.progress ?? true);
  model.train();
  let lastMetrics: Record<string, number> = {};
  while (step < totalSteps) {
    const micros: Array<Record<string, number>> = [];
    micro = 0;
    opt.zeroGrad();
    for (let m = 0; m < cfg.gradient_accumulation_steps; m++) {
      const batch = nextBatch();
      if (batch.length === 0) continue;
      const metrics = scope(() => {
        const out = method.loss(model, batch, pad);
        if (!Number.isFinite(out.metrics.loss))
          throw new TrainingError(
            `pacer: the loss is ${out.metrics.loss} at step ${step + 1} (examples ${batch
              .map((b) => b.where)
              .slice(0, 3)
              .join(', ')}); lower learning_rate or check the data`,
          );
        out.loss.div(cfg.gradient_accumulation_steps).backward();
        return out.metrics;
      });
      micros.push(metrics);
    }
    const gradNorm = cfg.max_grad_norm > 0 ? clipGradNorm(params, cfg.max_grad_norm) : NaN;
    if (cfg.max_grad_norm > 0 && !Number.isFinite(gradNorm))
      throw new TrainingError(
        `pacer: the gradient norm is ${gradNorm} at step ${step + 1}; lower learning_rate or check the data`,
      );
    const lr = opt.lr;
    opt.step();
    sched.step();
    step++;
    lastMetrics = avgMetrics(micros);
    if (step % cfg.logging_steps === 0 || step === totalSteps) {
      const rec: Record<string, number> = {
        step,
        epoch: pos.epoch + pos.offset / Math.max(1, curOrder.length),
        learning_rate: lr,
        ...lastMetrics,
      };
      if (Number.isFinite(gradNorm)) rec.grad_norm = gradNorm;
      if (cfg.eval_strategy === 'steps' && cfg.eval_steps && step % cfg.eval_steps === 0)
        Object.assign(rec, evaluate());
      history.push(rec);
      appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
    } else if (cfg.eval_strategy === 'steps' && cfg.eval_steps && step % cfg.eval_steps === 0) {
      const rec = { step, ...evaluate() };
      history.push(rec);
      appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
    }
    if (step % cfg.save_steps === 0 && step < totalSteps) saveCheckpoint();
    bar.update(step, `loss ${lastMetrics.loss?.toFixed(4)}`);
  }

  // ---- final evaluation, model, report
  const evalMetrics = evalItems.length ? evaluate() : null;
  if (evalMetrics) {
    const rec = { step, ...evalMetrics };
    history.push(rec);
    appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
  }
  saveFinal(cfg, loaded, lora, model);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json'])
    for (const dst of lora ? [cfg.output_dir, join(cfg.output_dir, 'merged')] : [cfg.output_dir])
      if (existsSync(join(cfg.model_name_or_path, f))) copyFileSync(join(cfg.model_name_or_path, f), join(dst, f));
  const summary = {
    trainer: cfg.trainer,
    global_step: step,
    train_examples: trainItems.length,
    eval_examples: evalItems.length,
    final_loss: lastMetrics.loss,
    ...(evalMetrics ?? {}),
  };
  atomicWrite(join(cfg.output_dir, 'train_results.json'), (fd) =>
    writeSync(fd, JSON.stringify(summary, null, 2) + '\n'),
  );
  if (cfg.report) writeReport(cfg, history, summary);
  opt.dispose();
  return { globalStep: step, history, outputDir: cfg.output_dir, finalMetrics: lastMetrics, evalMetrics };
}

/**
 * The trained model in HF layout in output_dir. With LoRA: the PEFT adapter there, and the merged
 * full model in output_dir/merged (what a following stage loads). A reward model also gets
 * score.safetensors with its head.
 */
function saveFinal(
  cfg: TrainConfig,
  loaded: PretrainedModel,
  lora: LoraAdapters | null,
  model: CausalLM | ScalarHeadModel,
): void {
  if (lora) {
    lora.save(cfg.output_dir);
    lora.merge();
    savePretrained(loaded, join(cfg.output_dir, 'merged'));
    lora.unmerge();
  } else savePretrained(loaded, cfg.output_dir);
  if (model instanceof ScalarHeadModel)
    scope(() => saveSafetensors(join(cfg.output_dir, 'score.safetensors'), { 'score.weight': model.score.weight }));
}

function writeReport(cfg: TrainConfig, history: Array<Record<string, number>>, summary: Record<string, unknown>): void {
  const plots = plotsFromMetrics(history, [
    { title: 'Loss', keys: ['loss', 'eval_loss'] },
    { title: 'Rewards', keys: ['rewards/chosen', 'rewards/rejected', 'rewards/margins'] },
    { title: 'Chosen vs rejected log-probs', keys: ['logps/chosen', 'logps/rejected'] },
    { title: 'Reward accuracy', keys: ['rewards/accuracies', 'eval_rewards/accuracies'] },
    { title: 'Learning rate', keys: ['learning_rate'] },
    { title: 'Gradient norm', keys: ['grad_norm'] },
  ]);
  const config = Object.fromEntries(Object.entries(cfg).filter(([k]) => !k.startsWith('_')));
  atomicWrite(join(cfg.output_dir, 'report.html'), (fd) =>
    writeSync(fd, renderReport({ title: `pacer ${cfg.trainer} — ${cfg.output_dir}`, summary, config, plots })),
  );
}
