// The entry point of every trainer: train(config) runs the family the trainer belongs to (offline or
// online) through the shared loop — and, when the config has `stages`, each stage in turn: stage k
// trains from stage k−1's output (its reference is its own starting point) and writes to
// output_dir/stage-k (TEMPLE's DPO schedule r16 → r8 → r4 → r2 is four stages). ppo_env trains a control
// policy on an environment (ppo-env.ts), without a language model.
import {
  isOnline,
  stageConfig,
  type LMConfig,
  type OfflineConfig,
  type OnlineConfig,
  type TrainConfig,
} from './config.js';
import { runTraining, type TrainResult } from './loop.js';
import { offlineFamily } from './offline.js';
import { onlineFamily, type OnlineOptions } from './online.js';
import { Policy } from './policy.js';
import { trainPPOEnv } from './ppo-env.js';

export type TrainOptions = OnlineOptions;

/** One run of one config (its stages are not expanded). */
function runOne(cfg: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  if (cfg.trainer === 'ppo_env') return trainPPOEnv(cfg, opts);
  if (isOnline(cfg.trainer)) return runTraining(cfg as OnlineConfig, onlineFamily(cfg as OnlineConfig, opts), opts);
  return runTraining(cfg as OfflineConfig, offlineFamily(cfg as OfflineConfig, opts), opts);
}

/** Every stage's result, in order (one result without stages). */
export async function trainWithStages(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult[]> {
  if (cfg.trainer === 'ppo_env' || !cfg.stages) return [await runOne(cfg, opts)];
  const lm: LMConfig = cfg;
  const stages = cfg.stages;
  const results: TrainResult[] = [];
  let from = lm.model_name_or_path;
  for (const [i, st] of stages.entries()) {
    const stageCfg = stageConfig(lm, st, i, from) as LMConfig;
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`pacer: stage ${i + 1}/${stages.length}`);
    results.push(await runOne(stageCfg, opts));
    from = Policy.trainedFrom(stageCfg);
  }
  return results;
}

/** Train as `pacer train CONFIG.yaml` does; with stages, the last stage's result (all in .stages). */
export async function train(
  cfg: TrainConfig,
  opts: TrainOptions = {},
): Promise<TrainResult & { stages?: TrainResult[] }> {
  const results = await trainWithStages(cfg, opts);
  const last = results[results.length - 1];
  return cfg.trainer !== 'ppo_env' && cfg.stages ? { ...last, stages: results } : last;
}
