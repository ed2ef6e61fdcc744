// The entry point of every trainer: train(config) runs the family the trainer belongs to (offline or
// online) through the shared loop — and, when the config has `stages`, each stage in turn: stage k
// trains from stage k−1's output (its reference is its own starting point) and writes to
// output_dir/stage-k (TEMPLE's DPO schedule r16 → r8 → r4 → r2 is four stages).
import { isOnline, stageConfig, type OfflineConfig, type OnlineConfig, type TrainConfig } from './config.js';
import { runTraining, type TrainResult } from './loop.js';
import { offlineFamily } from './offline.js';
import { onlineFamily, type OnlineOptions } from './online.js';
import { Policy } from './policy.js';

export type TrainOptions = OnlineOptions;

/** One run of one config (its stages are not expanded). */
function runOne(cfg: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  if (isOnline(cfg.trainer)) return runTraining(cfg, onlineFamily(cfg as OnlineConfig, opts), opts);
  return runTraining(cfg, offlineFamily(cfg as OfflineConfig, opts), opts);
}

/** Every stage's result, in order (one result without stages). */
export async function trainWithStages(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult[]> {
  if (!cfg.stages) return [await runOne(cfg, opts)];
  const results: TrainResult[] = [];
  let from = cfg.model_name_or_path;
  for (const [i, st] of cfg.stages.entries()) {
    const stageCfg = stageConfig(cfg, st, i, from);
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`pacer: stage ${i + 1}/${cfg.stages.length}`);
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
  return cfg.stages ? { ...last, stages: results } : last;
}
