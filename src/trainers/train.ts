// The entry point of every trainer: train(config) runs the family the trainer belongs to (offline or
// online) through the shared loop — and, when the config has `stages`, each stage in turn: stage k
// trains from stage k−1's output (its reference is its own starting point) and writes to
// output_dir/stage-k (TEMPLE's DPO schedule r16 → r8 → r4 → r2 is four stages). ppo_env trains a control
// policy on an environment (ppo-env.ts) and tspo a frame-sampling agent (tspo.ts), neither with a language
// model. The config may be a resolved one
// (resolveConfig / loadConfig), a plain object with the YAML's keys, or a YAML file's path.
import {
  isOnline,
  loadConfig,
  resolveConfig,
  stageConfig,
  type ConfigInput,
  type LMConfig,
  type OfflineConfig,
  type OnlineConfig,
  type BaseConfig,
  type TrainConfig,
} from './config.js';
import { runTraining, type TrainResult } from './loop.js';
import { offlineFamily } from './offline.js';
import { onlineFamily, type OnlineOptions } from './online.js';
import { Policy } from './policy.js';
import { trainPPOEnv } from './ppo-env.js';
import { torchrunEnv } from '../engine/distributed.js';
import { ConfigError } from '../util/errors.js';
import { tspoFamily } from './tspo.js';

export type TrainOptions = OnlineOptions;

/** What train() takes: a resolved config, the config's keys as a plain object, or a YAML/JSON file. */
export type TrainInput = TrainConfig | ConfigInput | string;

/** The resolved config of any TrainInput (a file's relative paths are relative to the file). */
export function toConfig(input: TrainInput, overrides: Record<string, unknown> = {}): TrainConfig {
  if (typeof input === 'string') return loadConfig(input, overrides);
  const resolved = typeof (input as Partial<TrainConfig>)._source === 'string';
  if (resolved && Object.keys(overrides).length === 0) return input as TrainConfig;
  if (resolved) {
    const c = input as TrainConfig;
    const given = Object.fromEntries(c._given.map((key) => [key, (c as Record<string, unknown>)[key]]));
    return resolveConfig({ ...given, ...overrides, trainer: c.trainer }, c._source, c._baseDir);
  }
  return resolveConfig({ ...(input as Record<string, unknown>), ...overrides }, 'train(config)');
}

/** One run of one config (its stages are not expanded). */
function runOne(cfg: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  if (cfg.trainer === 'ppo_env') {
    if ((torchrunEnv()?.worldSize ?? 1) > 1)
      throw new ConfigError(`pacer: ${cfg._source}: ppo_env trains in one process; run it without pacer launch`, {
        file: cfg._source,
        key: 'trainer',
      });
    return trainPPOEnv(cfg, opts);
  }
  if (cfg.trainer === 'tspo') return runTraining(cfg, tspoFamily(cfg, opts), opts);
  if (isOnline(cfg.trainer)) return runTraining(cfg as OnlineConfig, onlineFamily(cfg as OnlineConfig, opts), opts);
  return runTraining(cfg as OfflineConfig, offlineFamily(cfg as OfflineConfig, opts), opts);
}

/** Every stage's result, in order (one result without stages). */
export async function trainWithStages(input: TrainInput, opts: TrainOptions = {}): Promise<TrainResult[]> {
  const cfg = toConfig(input);
  if (cfg.trainer === 'ppo_env' || cfg.trainer === 'tspo' || !cfg.stages) return [await runOne(cfg, opts)];
  const lm: LMConfig = cfg;
  const stages = cfg.stages;
  const results: TrainResult[] = [];
  let from = lm.model_name_or_path;
  for (const [i, st] of stages.entries()) {
    const stageCfg = stageConfig(lm, st, i, from) as LMConfig;
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`pacer: stage ${i + 1}/${stages.length}`);
    results.push(await runOne(stageCfg, opts));
    from = Policy.trainedFrom(stageCfg as BaseConfig); // stages are LM runs (tspo has none)
  }
  return results;
}

/**
 * Train as `pacer train CONFIG.yaml [--set key=value …]` does: `config` is the YAML's path, its keys as an
 * object, or a resolved config; `opts.overrides` are the --set keys. Returns the run's summary (with
 * stages, the last stage's, and every stage's in `.stages`). Bad input throws ConfigError / DataError
 * with `file`, `line`, `key`/`field` before anything trains.
 */
export async function train(
  config: TrainInput,
  opts: TrainOptions & { overrides?: Record<string, unknown> } = {},
): Promise<TrainResult & { stages?: TrainResult[] }> {
  const cfg = toConfig(config, opts.overrides);
  const results = await trainWithStages(cfg, opts);
  const last = results[results.length - 1];
  return 'stages' in cfg && cfg.stages ? { ...last, stages: results } : last;
}
