// The one training loop every trainer runs (the skeleton TRL's Trainer gives its DPO and GRPO
// trainers). A trainer family (offline.ts, online.ts) prepares its data and returns a TrainerRun;
// the loop owns everything around it:
//   setup     threads and seed; the tokenizer; the family's data, validated before any model loads;
//             the policy (LoRA when use_peft); AdamW over the trainable parameters; the schedule
//   resume    weights, optimizer, scheduler, RNG and the run's own state from checkpoint-N/
//   step      run.step(update) — `update` zeroes the gradients, lets the family accumulate them
//             (under bfloat16 autocast with bf16: true), checks the loss, clips, and steps AdamW
//             (online methods call it num_iterations times)
//   record    metrics.jsonl with TRL's names (learning_rate is the rate the step used); evaluation
//             every eval_steps and at the end, logged as eval_*
//   save      checkpoint-N/ every save_steps (atomic), the final model (HF layout, or PEFT adapter +
//             merged/), the tokenizer files, train_results.json and report.html
//   parallel  under a launcher (WORLD_SIZE > 1; parallel.ts): rank 0 decides where the run starts and
//             broadcasts its parameters; gradients are averaged across ranks before clipping; the
//             families shard each global batch and combine metrics; rank 0 alone writes files; the
//             data position and curriculum are checked identical on all ranks when metrics are logged
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  AdamW,
  LRScheduler,
  autocast,
  clipGradNorm,
  decayGroups,
  manualSeed,
  setThreads,
  atomicWrite,
  type Module,
} from '../engine/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { Progress } from '../report/progress.js';
import { renderReport, plotsFromMetrics } from '../report/html.js';
import { CheckpointError, ConfigError, TrainingError } from '../util/errors.js';
import {
  fingerprintDiff,
  latestCheckpoint,
  readCheckpoint,
  restoreMetrics,
  runFingerprint,
  writeCheckpoint,
} from './checkpoint.js';
import { Policy } from './policy.js';
import { World } from './parallel.js';
import type { BaseConfig, LoopConfig } from './config.js';

export { TrainingError };

export interface TrainResult {
  globalStep: number;
  history: Array<Record<string, number>>;
  outputDir: string;
  finalMetrics: Record<string, number>;
  evalMetrics: Record<string, number> | null;
}

export interface LoopOptions {
  progress?: boolean;
  log?: (s: string) => void;
  /** The data-parallel world (default: the process's, from torchrun's environment). */
  world?: World;
}

/** Zero the gradients, let `accumulate` compute them (it returns its metrics), clip, step AdamW. */
export type Update = (
  accumulate: () => Promise<Record<string, number>> | Record<string, number>,
) => Promise<Record<string, number>>;

/** What a trainer family hands the loop once its data and models are ready. */
export interface TrainerRun {
  readonly totalSteps: number;
  /** The module whose parameters train (the LM, or the LM with a head). */
  readonly trainable: Module;
  /** One optimizer step's work; its metrics describe the batch before the update. */
  step(step: number, update: Update): Promise<Record<string, number>>;
  /** Evaluation metrics (without the eval_ prefix), or null when there is nothing to evaluate. */
  evaluate(step: number): Promise<Record<string, number> | null>;
  /** Whether evaluate() has anything to do (an eval dataset or callback). */
  readonly canEvaluate: boolean;
  /** The run's own checkpoint state (data position, curriculum, …). */
  state(): Record<string, unknown>;
  /** The part of the state every data-parallel rank must hold identically (checked across ranks). */
  sharedState?(): unknown;
  load(state: Record<string, any>): void;
  /** Plots for the report: titles and metric names. */
  readonly plots: Array<{ title: string; keys: string[] }>;
  /** Extra fields of train_results.json. */
  summary(history: Array<Record<string, number>>): Record<string, unknown>;
  /** Files the run writes beside the model (e.g. a reward head). */
  save?(dir: string): void;
  dispose(): void;
}

/** A trainer family: prepare data (before models load), then start a run on the policy. */
export interface TrainerFamily<D> {
  prepare(tok: Tokenizer): Promise<D>;
  start(data: D, policy: Policy, tok: Tokenizer, world: World): Promise<TrainerRun> | TrainerRun;
}

/**
 * A family that trains a module of its own rather than an LM from model_name_or_path (TSPO's frame
 * agent): no tokenizer or policy loads; run.save writes the trained module.
 */
export interface ModuleFamily<D> {
  readonly kind: 'module';
  prepare(): Promise<D>;
  start(data: D): Promise<TrainerRun> | TrainerRun;
}

// (and a vision-language model's processor files and chat template, wherever transformers saved it)
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'special_tokens_map.json',
  'chat_template.json',
  'chat_template.jinja',
  'preprocessor_config.json',
  'video_preprocessor_config.json',
];

interface LoopState {
  step: number;
  history: Array<Record<string, number>>;
  metricsFile: string;
  /** Things a person reading the report should know (divergence). */
  warnings: string[];
}

/** Files of a run that a fresh run in the same folder replaces. */
const RUN_FILES =
  /^(checkpoint-\d+|\.checkpoint-\d+\.tmp|metrics\.jsonl|completions\.jsonl|train_results\.json|report\.html)$/;

/** The keys that say where a run writes and whether it resumes. */
type RunDirConfig = Pick<LoopConfig, 'output_dir' | 'resume_from_checkpoint' | 'overwrite_output_dir' | '_source'>;

/**
 * The checkpoint to resume from (null: a fresh run). A fresh run needs an empty (or new) output_dir,
 * or overwrite_output_dir: true, which removes the earlier run's files (`runFiles`: checkpoints, metrics…).
 */
export function prepareOutputDir(cfg: RunDirConfig, runFiles: RegExp = RUN_FILES): string | null {
  const r = cfg.resume_from_checkpoint;
  if (typeof r === 'string') {
    if (!existsSync(join(r, 'trainer_state.json')))
      throw new CheckpointError(`pacer: ${r} is not a complete checkpoint (no trainer_state.json)`, { file: r });
    return r;
  }
  const latest = r === true ? latestCheckpoint(cfg.output_dir) : null;
  if (latest) return latest;
  const present = existsSync(cfg.output_dir) ? readdirSync(cfg.output_dir) : [];
  if (present.length === 0) return null;
  if (!cfg.overwrite_output_dir) {
    const what = r === true ? 'has no checkpoint to resume from and holds' : 'holds';
    const files = `${present.slice(0, 4).join(', ')}${present.length > 4 ? ', …' : ''}`;
    const orResume = r === true ? '' : ', or resume_from_checkpoint: true to continue it';
    throw new ConfigError(
      `pacer: ${cfg._source}: output_dir ${cfg.output_dir} ${what} another run (${files}); set ` +
        `overwrite_output_dir: true to start a fresh run there${orResume}`,
      { file: cfg._source, key: 'output_dir' },
    );
  }
  for (const f of present) if (runFiles.test(f)) rmSync(join(cfg.output_dir, f), { recursive: true, force: true });
  return null;
}

/**
 * Load what the family trains — an LM policy with its tokenizer and data, or a module of its own — and
 * claim output_dir (rank 0 decides; module families train in one process).
 */
async function startRun<D>(cfg: LoopConfig, family: TrainerFamily<D> | ModuleFamily<D>, world: World) {
  if ('kind' in family) {
    if (world.size > 1)
      throw new ConfigError(
        `pacer: ${cfg._source}: trainer ${cfg.trainer} trains in one process; run it without pacer launch`,
        {
          file: cfg._source,
          key: 'trainer',
        },
      );
    const data = await family.prepare();
    const from = prepareOutputDir(cfg);
    const run = await family.start(data);
    mkdirSync(cfg.output_dir, { recursive: true });
    return { policy: null, run, from };
  }
  const lm = cfg as BaseConfig; // the overloads pair an LM family with a BaseConfig
  const tok = Tokenizer.fromPretrained(lm.model_name_or_path);
  const data = await family.prepare(tok);
  const from = world.decide(() => prepareOutputDir(cfg));
  const policy = Policy.load(lm);
  const run = await family.start(data, policy, tok, world);
  if (world.isMain) mkdirSync(cfg.output_dir, { recursive: true });
  return { policy, run, from };
}

export function runTraining<D>(cfg: BaseConfig, family: TrainerFamily<D>, opts?: LoopOptions): Promise<TrainResult>;
export function runTraining<D>(cfg: LoopConfig, family: ModuleFamily<D>, opts?: LoopOptions): Promise<TrainResult>;
export async function runTraining<D>(
  cfg: LoopConfig,
  family: TrainerFamily<D> | ModuleFamily<D>,
  opts: LoopOptions = {},
): Promise<TrainResult> {
  const world = opts.world ?? World.current();
  const log = world.isMain ? (opts.log ?? ((s: string) => process.stderr.write(s + '\n'))) : () => {};
  opts = { ...opts, log, progress: world.isMain && (opts.progress ?? true) };
  setThreads(cfg.threads ?? world.defaultThreads());
  manualSeed(cfg.seed);
  const { policy, run, from } = await startRun(cfg, family, world);
  try {
    const groups = decayGroups(run.trainable, cfg.weight_decay);
    if (groups.every((g) => g.params.length === 0)) throw new TrainingError('pacer: no trainable parameters');
    const opt = new AdamW(groups, {
      lr: cfg.learning_rate,
      betas: [cfg.adam_beta1, cfg.adam_beta2],
      eps: cfg.adam_epsilon,
    });
    const total = run.totalSteps;
    const sched = new LRScheduler(
      opt,
      cfg.lr_scheduler_type,
      cfg.warmup_steps || Math.ceil(cfg.warmup_ratio * total),
      total,
    );
    const st: LoopState = { step: 0, history: [], metricsFile: join(cfg.output_dir, 'metrics.jsonl'), warnings: [] };
    resume(cfg, from, run, opt, sched, st, log, world);
    world.broadcastParameters(run.trainable);
    const update = makeUpdate(cfg, opt, st, world, run.trainable);
    const evalMetrics = await loop(cfg, run, update, opt, sched, st, opts, world);
    if (world.isMain) finish(cfg, run, policy, st, evalMetrics);
    // no rank leaves before rank 0 has written the model (a next stage trains from it)
    world.barrier();
    opt.dispose();
    const last = [...st.history].reverse().find((h) => 'loss' in h) ?? st.history[st.history.length - 1] ?? {};
    const finalMetrics = Object.fromEntries(Object.entries(last).filter(([key]) => !key.startsWith('eval_')));
    return { globalStep: st.step, history: st.history, outputDir: cfg.output_dir, finalMetrics, evalMetrics };
  } finally {
    run.dispose();
  }
}

function resume(
  cfg: LoopConfig,
  from: string | null,
  run: TrainerRun,
  opt: AdamW,
  sched: LRScheduler,
  st: LoopState,
  log: (s: string) => void,
  world: World,
) {
  if (!from) {
    if (world.isMain) writeFileSync(st.metricsFile, '');
    return;
  }
  const saved = readCheckpoint(from, run.trainable, opt, sched);
  if (saved.fingerprint) {
    const diff = fingerprintDiff(saved.fingerprint, runFingerprint(cfg, world.size));
    if (diff.length)
      throw new CheckpointError(
        `pacer: ${from} belongs to a different run: ${diff.slice(0, 6).join('; ')}${diff.length > 6 ? '; …' : ''} ` +
          '(start it in another output_dir, or set overwrite_output_dir: true without resume_from_checkpoint)',
        { file: from },
      );
  }
  run.load(saved);
  st.step = saved.global_step;
  if (world.isMain) {
    st.history.push(...restoreMetrics(st.metricsFile, st.step));
    // a step-keyed log a trainer keeps beside the metrics (log_completions) rewinds with them
    const completions = join(cfg.output_dir, 'completions.jsonl');
    if (existsSync(completions)) restoreMetrics(completions, st.step);
  }
  log(`pacer: resumed from ${from} at step ${st.step}`);
}

/** fn under bfloat16 autocast on the parameters' device when bf16 is on (torch.autocast; HF's bf16). */
function amp<T>(cfg: LoopConfig, m: Module, fn: () => T): T {
  const bf16 = 'bf16' in cfg && cfg.bf16 === true; // (the LM trainers' key; module trainers have none)
  return bf16 ? autocast(m.parameters()[0]?.device ?? 'cpu', 'bfloat16', fn) : fn();
}

function makeUpdate(cfg: LoopConfig, opt: AdamW, st: LoopState, world: World, model: Module): Update {
  const params = opt.groups.flatMap((g) => g.params);
  return async (accumulate) => {
    opt.zeroGrad();
    const m = await amp(cfg, model, accumulate);
    if (m.loss !== undefined && !Number.isFinite(m.loss))
      throw new TrainingError(
        `pacer: the loss is ${m.loss} at step ${st.step + 1}; lower learning_rate or check the data`,
      );
    world.reduceGradients(params);
    const gn = cfg.max_grad_norm > 0 ? clipGradNorm(params, cfg.max_grad_norm) : Number.NaN;
    if (cfg.max_grad_norm > 0 && !Number.isFinite(gn))
      throw new TrainingError(
        `pacer: the gradient norm is ${gn} at step ${st.step + 1}; lower learning_rate or check the data`,
      );
    opt.step();
    return Number.isFinite(gn) ? { ...m, grad_norm: gn } : m;
  };
}

async function loop(
  cfg: LoopConfig,
  run: TrainerRun,
  update: Update,
  opt: AdamW,
  sched: LRScheduler,
  st: LoopState,
  opts: LoopOptions,
  world: World,
): Promise<Record<string, number> | null> {
  const total = run.totalSteps;
  const bar = new Progress(total, cfg.trainer, opts.progress ?? true);
  const evalEvery = cfg.eval_strategy === 'steps' ? (cfg.eval_steps ?? cfg.logging_steps) : null;
  if (cfg.eval_strategy === 'steps' && !run.canEvaluate)
    throw new TrainingError(
      `pacer: ${cfg._source}: eval_strategy 'steps' needs an 'eval_dataset' (or an evaluate callback)`,
    );
  let evalMetrics: Record<string, number> | null = null;
  const fingerprint = runFingerprint(cfg, world.size);
  const watch = divergenceWatch(st, opts.log ?? ((m: string) => process.stderr.write(m + '\n')));
  run.trainable.train();
  while (st.step < total) {
    const lr = opt.lr;
    const metrics = await run.step(st.step, update);
    sched.step();
    st.step++;
    const rec: Record<string, number> = { step: st.step, learning_rate: lr, ...metrics };
    watch(rec);
    const logNow = st.step % cfg.logging_steps === 0 || st.step === total;
    const saveNow = st.step % cfg.save_steps === 0 && st.step < total;
    if (logNow || saveNow) world.checkSame('data position and curriculum', run.sharedState?.() ?? null, st.step);
    if (logNow) record(st, rec, world);
    // evaluation is its own record, as in TRL's log_history
    if (run.canEvaluate && ((evalEvery !== null && st.step % evalEvery === 0) || st.step === total)) {
      evalMetrics = await amp(cfg, run.trainable, () => evaluate(run, st.step));
      record(st, { step: st.step, ...evalMetrics }, world);
    }
    if (saveNow && world.isMain)
      writeCheckpoint(
        cfg.output_dir,
        st.step,
        run.trainable,
        opt,
        sched,
        { ...run.state(), trainer: cfg.trainer, fingerprint },
        cfg.save_total_limit,
      );
    bar.update(st.step, Number.isFinite(metrics.loss) ? `loss ${metrics.loss.toFixed(4)}` : '');
  }
  // a run resumed at its end, or one with nothing left to do, is still evaluated once
  if (run.canEvaluate && evalMetrics === null) {
    evalMetrics = await amp(cfg, run.trainable, () => evaluate(run, st.step));
    record(st, { step: st.step, ...evalMetrics }, world);
  }
  return evalMetrics;
}

async function evaluate(run: TrainerRun, step: number): Promise<Record<string, number>> {
  run.trainable.eval();
  try {
    const m = (await run.evaluate(step)) ?? {};
    return Object.fromEntries(Object.entries(m).map(([key, v]) => [`eval_${key}`, v]));
  } finally {
    run.trainable.train();
  }
}

/**
 * Warn (once per metric, in the log and the report) when the loss or the gradient norm explodes:
 * more than 100× its value at the first step that had one (the loss's reference at least 0.1, since
 * RL surrogates start near 0). Divergence at a high learning rate shows within a few steps — DPO at
 * lr 1e3 went from 0.69 to 1.2e6 at step 2 — so the reference is the start, not a later median.
 * Non-finite values stop the run in update().
 */
function divergenceWatch(st: LoopState, log: (s: string) => void): (rec: Record<string, number>) => void {
  const ref: Record<string, number> = {};
  const warned = new Set<string>();
  return (rec) => {
    for (const key of ['loss', 'grad_norm']) {
      const v = Math.abs(rec[key]);
      if (!Number.isFinite(v)) continue;
      if (ref[key] === undefined) {
        if (key === 'loss') ref[key] = Math.max(v, 0.1);
        else if (v > 0) ref[key] = v;
        continue;
      }
      if (v > 100 * ref[key] && !warned.has(key)) {
        warned.add(key);
        const msg =
          `${key} ${rec[key].toPrecision(4)} at step ${rec.step} is over 100x its first value ` +
          `(${ref[key].toPrecision(3)}): the run is diverging; lower learning_rate (or set max_grad_norm)`;
        st.warnings.push(msg);
        log(`pacer: warning: ${msg}`);
      }
    }
  };
}

function record(st: LoopState, rec: Record<string, number>, world: World): void {
  st.history.push(rec);
  if (world.isMain) appendFileSync(st.metricsFile, JSON.stringify(rec) + '\n');
}

function finish(
  cfg: LoopConfig,
  run: TrainerRun,
  policy: Policy | null,
  st: LoopState,
  evalMetrics: Record<string, number> | null,
) {
  policy?.save(cfg.output_dir);
  run.save?.(cfg.output_dir);
  const src = cfg.model_name_or_path;
  if (policy && src)
    for (const f of TOKENIZER_FILES)
      for (const dst of policy.lora ? [cfg.output_dir, join(cfg.output_dir, 'merged')] : [cfg.output_dir])
        if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dst, f));
  const summary = {
    trainer: cfg.trainer,
    global_step: st.step,
    ...run.summary(st.history),
    ...(evalMetrics ?? {}),
    ...(st.warnings.length ? { warnings: st.warnings } : {}),
  };
  atomicWrite(join(cfg.output_dir, 'train_results.json'), (fd) =>
    writeSync(fd, JSON.stringify(summary, null, 2) + '\n'),
  );
  if (!cfg.report) return;
  const plots = plotsFromMetrics(st.history, [
    ...run.plots,
    { title: 'Learning rate', keys: ['learning_rate'] },
    { title: 'Gradient norm', keys: ['grad_norm'] },
  ]);
  const config = Object.fromEntries(Object.entries(cfg).filter(([key]) => !key.startsWith('_')));
  const title = `pacer ${cfg.trainer} — ${cfg.output_dir}`;
  atomicWrite(join(cfg.output_dir, 'report.html'), (fd) =>
    writeSync(fd, renderReport({ title, summary, config, plots })),
  );
}
