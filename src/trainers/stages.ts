// Staged training: `stages` is a list of overrides (train_dataset, max_steps, learning_rate, …);
// stage k trains from stage k−1's output (its reference model is its own starting point) and
// writes to output_dir/stage-k. TEMPLE's DPO schedule r16 -> r8 -> r4 -> r2 is four stages.
import { join } from 'node:path';
import { resolveConfig, type TrainConfig } from './config.js';
import { train, type TrainResult } from './trainer.js';
import { trainOnline } from './online.js';
import { ONLINE_TRAINERS } from './config.js';

const run = (c: TrainConfig, o: Parameters<typeof train>[1]) =>
  ONLINE_TRAINERS.includes(c.trainer) ? trainOnline(c, o) : train(c, o);

export async function trainWithStages(
  cfg: TrainConfig,
  opts: Parameters<typeof train>[1] = {},
): Promise<TrainResult[]> {
  if (!cfg.stages) return [await run(cfg, opts)];
  if (!Array.isArray(cfg.stages) || cfg.stages.length === 0)
    throw new Error(`pacer: ${cfg._source}: 'stages' must be a non-empty list of mappings`);
  const results: TrainResult[] = [];
  let from = cfg.model_name_or_path;
  for (const [k, st] of cfg.stages.entries()) {
    if (!st || typeof st !== 'object' || Array.isArray(st))
      throw new Error(`pacer: ${cfg._source}: stage ${k + 1} must be a mapping of overrides`);
    for (const bad of ['stages', 'model_name_or_path', 'output_dir', 'trainer'])
      if (bad in st) throw new Error(`pacer: ${cfg._source}: stage ${k + 1} may not set '${bad}'`);
    const { _source, stages: _s, ...base } = cfg;
    const stageCfg = resolveConfig(
      { ...base, ...st, model_name_or_path: from, output_dir: join(cfg.output_dir, `stage-${k + 1}`) },
      `${_source} (stage ${k + 1})`,
    );
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`pacer: stage ${k + 1}/${cfg.stages.length}`);
    results.push(await run(stageCfg, opts));
    from = stageCfg.use_peft ? join(stageCfg.output_dir, 'merged') : stageCfg.output_dir;
  }
  return results;
}
