// `trainer: ppo_env` — PPO on a pacer environment through `pacer train`: the config (CleanRL's option names in
// snake_case, config.ts) runs the control PPO loop (ppo-control.ts) and the run is laid out as every pacer
// run is:
//   output_dir/metrics.jsonl      one record per PPO iteration: step (the iteration), global_step and
//                                 CleanRL's metric names (charts/episodic_return, losses/value_loss, …)
//   output_dir/checkpoint-N/      every save_every_iterations iterations and at the end (model, optimizer,
//                                 normalisers, environment and RNG states); resume_from_checkpoint: true
//                                 continues from the newest, exactly
//   output_dir/model.safetensors  the final actor-critic (CleanRL's Agent parameter names), with
//                                 obs_normalizer.json when norm_obs
//   output_dir/videos/rollout.mp4 a greedy episode of the final policy (capture_video)
//   output_dir/train_results.json the final metrics and the greedy evaluation (eval_episodes)
//   output_dir/report.html        return and score curves, losses, and the rollout video
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensors, scope } from '../engine/index.js';
import { RENDER_FPS } from '../envs/index.js';
import { Progress } from '../report/progress.js';
import { plotsFromMetrics, renderReport } from '../report/html.js';
import { videoPanel } from '../report/video.js';
import { encodeVideo } from '../video/encode.js';
import { writeFileAtomic } from '../util/atomic.js';
import { restoreMetrics } from './checkpoint.js';
import { ppoEnvOptions, type PPOEnvConfig } from './config.js';
import { prepareOutputDir, type LoopOptions, type TrainResult } from './loop.js';
import { evaluatePolicy, policyFrames, resolvePPOOptions, trainPPO, type PPOPolicy } from './ppo-control.js';

/** Files of a ppo_env run that a fresh run in the same folder replaces. */
const RUN_FILES = new RegExp(
  '^(checkpoint-\\d+|\\.checkpoint-\\d+\\.tmp|metrics\\.jsonl|train_results\\.json|report\\.html|' +
    'model\\.safetensors|obs_normalizer\\.json|videos)$',
);

/** Write a greedy episode of the policy as MP4 (every other step at scale 0.5, at Gymnasium's render_fps / 2). */
export async function writeRolloutVideo(
  policy: PPOPolicy,
  envId: PPOEnvConfig['env_id'],
  file: string,
  o: { seed?: number; every?: number; scale?: number } = {},
) {
  const every = o.every ?? 2;
  const { frames, episode } = policyFrames(policy, envId, { seed: o.seed, every, scale: o.scale ?? 0.5 });
  await encodeVideo(frames, file, { fps: Math.max(1, RENDER_FPS[envId] / every) });
  return episode.stats;
}

function saveFinal(cfg: PPOEnvConfig, policy: PPOPolicy): void {
  scope(() => saveSafetensors(join(cfg.output_dir, 'model.safetensors'), new Map(policy.agent.namedParameters())));
  if (policy.obsNorm)
    writeFileAtomic(join(cfg.output_dir, 'obs_normalizer.json'), `${JSON.stringify(policy.obsNorm.rms.toJSON())}\n`);
}

const PLOTS = [
  { title: 'Episodic return', keys: ['charts/episodic_return'] },
  { title: 'Episodic score (the task’s ground truth)', keys: ['charts/episodic_score'] },
  { title: 'Episode length', keys: ['charts/episodic_length'] },
  { title: 'Losses', keys: ['losses/policy_loss', 'losses/value_loss', 'losses/entropy'] },
  { title: 'KL and clipping', keys: ['losses/approx_kl', 'losses/clipfrac'] },
  { title: 'Learning rate', keys: ['charts/learning_rate'] },
];

async function finish(
  cfg: PPOEnvConfig,
  policy: PPOPolicy,
  history: Array<Record<string, number>>,
  summary: Record<string, unknown>,
) {
  saveFinal(cfg, policy);
  const sections: Array<{ title: string; html: string }> = [];
  if (cfg.capture_video) {
    mkdirSync(join(cfg.output_dir, 'videos'), { recursive: true });
    const file = join(cfg.output_dir, 'videos', 'rollout.mp4');
    const ep = await writeRolloutVideo(policy, cfg.env_id, file, { seed: cfg.seed + 20_000 });
    summary.video = 'videos/rollout.mp4';
    summary.video_episode_return = ep?.return;
    if (cfg.report) {
      const title = `greedy episode: return ${ep ? ep.return.toFixed(2) : '—'}, score ${ep?.score ?? '—'}`;
      sections.push({ title: 'Rollout', html: await videoPanel(file, { title, clip: 'webm' }) });
    }
  }
  writeFileAtomic(join(cfg.output_dir, 'train_results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (!cfg.report) return;
  const config = Object.fromEntries(Object.entries(cfg).filter(([key]) => !key.startsWith('_')));
  const html = renderReport({
    title: `pacer ppo_env ${cfg.env_id} — ${cfg.output_dir}`,
    intro: 'PPO (CleanRL ppo.py / ppo_continuous_action.py); x axis: PPO iteration.',
    summary,
    config,
    plots: plotsFromMetrics(history, PLOTS),
    sections,
  });
  writeFileAtomic(join(cfg.output_dir, 'report.html'), html);
}

/** Train a ppo_env config; see the file header. */
export async function trainPPOEnv(cfg: PPOEnvConfig, opts: LoopOptions = {}): Promise<TrainResult> {
  const from = prepareOutputDir(cfg, RUN_FILES);
  const o = ppoEnvOptions(cfg);
  const metricsFile = join(cfg.output_dir, 'metrics.jsonl');
  let iteration = 0;
  let history: Array<Record<string, number>> = [];
  mkdirSync(cfg.output_dir, { recursive: true });
  if (from) {
    iteration = JSON.parse(readFileSync(join(from, 'trainer_state.json'), 'utf8')).iteration;
    history = restoreMetrics(metricsFile, iteration);
    (opts.log ?? ((s: string) => process.stderr.write(`${s}\n`)))(
      `pacer: resumed from ${from} at iteration ${iteration}`,
    );
  } else writeFileSync(metricsFile, '');
  const full = resolvePPOOptions(o);
  const bar = new Progress(Math.floor(full.totalTimesteps / (full.numEnvs * full.numSteps)), 'ppo_env', opts.progress);
  const run = await trainPPO(
    {
      ...o,
      outputDir: cfg.output_dir,
      saveEveryIterations: cfg.save_every_iterations,
      resumeFrom: from,
    },
    {
      onIteration: (m) => {
        iteration++;
        const rec = { step: iteration, ...m };
        history.push(rec);
        appendFileSync(metricsFile, `${JSON.stringify(rec)}\n`);
        const ret = m['charts/episodic_return'];
        bar.update(iteration, Number.isFinite(ret) ? `return ${ret.toFixed(1)}` : '');
      },
    },
  );
  const evalEps = cfg.eval_episodes > 0 ? evaluatePolicy(run.policy, cfg.env_id, { episodes: cfg.eval_episodes }) : [];
  const mean = (f: (e: (typeof evalEps)[number]) => number) =>
    evalEps.length ? evalEps.reduce((s, e) => s + f(e), 0) / evalEps.length : Number.NaN;
  const evalMetrics = evalEps.length
    ? { eval_episodic_return: mean((e) => e.return), eval_episodic_score: mean((e) => e.score) }
    : null;
  const last = history[history.length - 1] ?? {};
  const summary: Record<string, unknown> = {
    trainer: 'ppo_env',
    env_id: cfg.env_id,
    iterations: iteration,
    global_step: run.globalStep,
    final_episodic_return: last['charts/episodic_return'],
    ...(evalMetrics ?? {}),
  };
  await finish(cfg, run.policy, history, summary);
  return { globalStep: run.globalStep, history, outputDir: cfg.output_dir, finalMetrics: last, evalMetrics };
}
