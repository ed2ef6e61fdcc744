// `pacer icpl`: In-Context Preference Learning — an LLM (or the offline proposer) writes reward functions,
// PPO trains a policy on each, the policies are rendered, preferences pick the best and the worst, and the
// feedback goes back to the proposer; with Eureka, no-feedback best-of-N, sparse-only and hand-written
// baselines in the same run (src/reward-design/icpl.ts).
import { resolve } from 'node:path';
import { runICPL, ARMS, type Arm } from '../../reward-design/icpl.js';
import { OfflineProposer, OFFLINE_NOTICE } from '../../reward-design/offline-proposer.js';
import {
  filePreferences,
  proxyPreferences,
  studioPreferences,
  type PreferenceSource,
} from '../../reward-design/preferences.js';
import { LLMProposer, type Proposer } from '../../reward-design/proposers.js';
import { writeICPLReport } from '../../reward-design/report.js';
import { rewardTask, TASKS, type RewardTask } from '../../reward-design/tasks.js';
import { UsageError, defineCommand, int, num, oneOf, output, str } from '../command.js';

function proposerOf(v: Record<string, unknown>, task: RewardTask): Proposer {
  const kind = oneOf(v.proposer, 'proposer', ['llm', 'offline'] as const, v['llm-url'] ? 'llm' : 'offline');
  if (kind === 'offline') {
    for (const k of ['llm-url', 'llm-model', 'temperature'])
      if (v[k] !== undefined) throw new UsageError(`--${k} is for --proposer llm`);
    return new OfflineProposer(task);
  }
  const url = str(v['llm-url']);
  if (!url)
    throw new UsageError('--proposer llm needs --llm-url (an OpenAI-compatible server), or use --proposer offline');
  const keyEnv = str(v['llm-key-env']) ?? 'OPENAI_API_KEY';
  return new LLMProposer({
    url,
    model: str(v['llm-model']),
    apiKey: process.env[keyEnv],
    temperature: num(v.temperature, 'temperature') ?? 1.0,
    maxN: v['llm-max-n'] === undefined ? undefined : int(v['llm-max-n'], 'llm-max-n', 1),
  });
}

function preferencesOf(v: Record<string, unknown>): PreferenceSource {
  const kind = oneOf(v.preferences, 'preferences', ['proxy', 'file', 'studio'] as const, 'proxy');
  if (kind !== 'file' && v['preference-file'] !== undefined)
    throw new UsageError('--preference-file needs --preferences file');
  if (kind !== 'studio' && v['studio-url'] !== undefined)
    throw new UsageError('--studio-url needs --preferences studio');
  if (kind === 'proxy') return proxyPreferences();
  if (kind === 'file') {
    const f = str(v['preference-file']);
    if (!f)
      throw new UsageError('--preferences file needs --preference-file F (JSON lines {"iteration", "best", "worst"})');
    return filePreferences(f);
  }
  const url = str(v['studio-url']);
  if (!url) throw new UsageError('--preferences studio needs --studio-url URL');
  return studioPreferences({
    url,
    token: process.env[str(v['studio-token-env']) ?? 'PACER_STUDIO_TOKEN'],
    timeoutMs: int(v['studio-timeout'], 'studio-timeout', 3600) * 1000,
  });
}

function armsOf(v: unknown): Arm[] {
  const arms = String(v ?? ARMS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of arms)
    if (!(ARMS as readonly string[]).includes(a))
      throw new UsageError(`--arms: unknown arm '${a}' (one of ${ARMS.join(', ')})`);
  if (arms.length === 0) throw new UsageError('--arms needs at least one arm');
  return [...new Set(arms)] as Arm[];
}

export const icpl = defineCommand({
  name: 'icpl',
  summary: 'rewards written by an LLM and refined by preferences over rollout videos (ICPL), with baselines',
  usage:
    'pacer icpl --env ENV --out DIR [--iterations 5] [--samples 6] [--proposer llm|offline] [--llm-url URL]\n' +
    '       [--llm-model M] [--preferences proxy|file|studio] [--arms icpl,eureka,bestofn,sparse,handwritten] …',
  description: `In-Context Preference Learning (Yu et al. 2024; icpl-research/ICPL). Each iteration the proposer
writes --samples reward functions (JavaScript, run in an isolated sandbox) from ICPL's prompts: the
environment's code, the task, and — after the first iteration — the preferred and the rejected reward with
their training statistics and the history of how the preferred rewards changed. PPO trains a policy on each
reward; each policy is rendered to a video; the preference source names the best and the worst.

Proposers: an OpenAI-compatible chat endpoint (--llm-url, --llm-model; the API key is read from the
environment variable --llm-key-env, default OPENAI_API_KEY; 'pacer serve model' works too), or
--proposer offline: pacer's grammar-based writer, which is not an LLM (it exercises the loop without one).
Preferences: proxy (ICPL's proxy human: best = highest ground-truth score, worst = lowest, a crash never
worst), file (JSON lines {"iteration": 1, "best": 2, "worst": 4}, 0-based candidates), or studio (a person
in the preference studio; the HTTP contract is documented in src/reward-design/preferences.ts).

Arms: icpl; eureka (the best by ground-truth score is fed back with its score shown); bestofn (no feedback,
iterations x samples draws from the first prompt); sparse (PPO on the sparse task reward alone);
handwritten (Gymnasium's own reward). Each arm's best reward is trained again on --final-seeds seeds and
scored by greedy evaluation (the task's success rate).
Tasks: ${Object.values(TASKS)
    .map((t) => `${t.alias} (${t.envId})`)
    .join(', ')}.
Writes DIR/<arm>/iter<k>/attempt<j>/ (response.txt, reward.js, result.json with the training statistics,
metrics.jsonl with PPO's metrics, env_feedback.txt, rollout.mp4),
the prompts and feedback messages, DIR/summary.json and DIR/report.html.`,
  options: {
    env: {
      type: 'string',
      arg: 'ENV',
      help: 'the task: an alias (mountaincar-continuous, acrobot, …) or Gymnasium id',
    },
    out: { type: 'string', arg: 'DIR', help: 'output folder (must not hold another run)' },
    iterations: { type: 'string', arg: 'N', help: 'ICPL iterations', default: '5' },
    samples: { type: 'string', arg: 'K', help: 'reward functions trained per iteration', default: '6' },
    proposer: { type: 'string', arg: 'P', help: 'llm or offline', default: 'llm with --llm-url, else offline' },
    'llm-url': { type: 'string', arg: 'URL', help: 'OpenAI-compatible server (…/v1/chat/completions)' },
    'llm-model': { type: 'string', arg: 'M', help: "model name sent to the server (default: the server's)" },
    'llm-key-env': {
      type: 'string',
      arg: 'VAR',
      help: 'environment variable with the API key',
      default: 'OPENAI_API_KEY',
    },
    'llm-max-n': { type: 'string', arg: 'N', help: 'completions per request (for servers that cap n)' },
    temperature: { type: 'string', arg: 'T', help: 'sampling temperature of the LLM', default: '1.0' },
    preferences: { type: 'string', arg: 'S', help: 'proxy, file or studio', default: 'proxy' },
    'preference-file': { type: 'string', arg: 'F', help: 'answers for --preferences file' },
    'studio-url': { type: 'string', arg: 'URL', help: 'the preference studio for --preferences studio' },
    'studio-token-env': {
      type: 'string',
      arg: 'VAR',
      help: "variable with the studio's token",
      default: 'PACER_STUDIO_TOKEN',
    },
    'studio-timeout': { type: 'string', arg: 'S', help: 'seconds to wait for each answer', default: '3600' },
    arms: { type: 'string', arg: 'LIST', help: 'arms to run', default: ARMS.join(',') },
    seed: { type: 'string', arg: 'N', help: 'seed of PPO and the proposer', default: '0' },
    timesteps: { type: 'string', arg: 'N', help: "PPO environment steps per candidate (default: the task's budget)" },
    'eval-episodes': { type: 'string', arg: 'N', help: 'greedy evaluation episodes per policy', default: '10' },
    'final-seeds': {
      type: 'string',
      arg: 'N',
      help: "seeds each arm's best reward is retrained on (0: none)",
      default: '3',
    },
    'max-attempts': {
      type: 'string',
      arg: 'N',
      help: 'answers per iteration before crashes fill in',
      default: '4 x samples',
    },
    'no-video': { type: 'boolean', help: 'do not render rollout videos' },
    'video-every': { type: 'string', arg: 'N', help: 'render every Nth step', default: '2' },
    'video-scale': { type: 'string', arg: 'S', help: "scale of Gymnasium's window", default: '0.5' },
    threads: { type: 'string', arg: 'N', help: 'CPU threads for PPO', default: '1' },
    json: { type: 'boolean', help: 'print the summary as one JSON object' },
  },
  async run(v) {
    const env = str(v.env);
    const outDir = str(v.out);
    if (!env) throw new UsageError('icpl needs --env (e.g. mountaincar-continuous)');
    if (!outDir) throw new UsageError('icpl needs --out DIR');
    let task: RewardTask;
    try {
      task = rewardTask(env);
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^pacer: /, ''));
    }
    const proposer = proposerOf(v, task);
    const scale = num(v['video-scale'], 'video-scale') ?? 0.5;
    if (!(scale > 0 && scale <= 2)) throw new UsageError(`--video-scale must be in (0, 2], got ${scale}`);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    if (!proposer.isLLM) log(`pacer icpl: ${OFFLINE_NOTICE} — this run does not use an LLM`);
    const o = {
      task,
      iterations: int(v.iterations, 'iterations', 5),
      samples: int(v.samples, 'samples', 6, 2),
      proposer,
      preferences: preferencesOf(v),
      arms: armsOf(v.arms),
      seed: int(v.seed, 'seed', 0, 0),
      out: resolve(outDir),
      maxAttempts: v['max-attempts'] === undefined ? undefined : int(v['max-attempts'], 'max-attempts', 1),
      video: !v['no-video'],
      videoEvery: int(v['video-every'], 'video-every', 2),
      videoScale: scale,
      evalEpisodes: int(v['eval-episodes'], 'eval-episodes', 10),
      finalSeeds: int(v['final-seeds'], 'final-seeds', 3, 0),
      ppo: v.timesteps === undefined ? undefined : { totalTimesteps: int(v.timesteps, 'timesteps', 1) },
      threads: int(v.threads, 'threads', 1),
      log,
    };
    const { arms, summary } = await runICPL(o);
    await writeICPLReport(o, arms, summary);
    output(!!v.json, summary, () => {
      if (!proposer.isLLM) console.log(`proposer: ${proposer.description}`);
      for (const a of arms) {
        const xs = a.finalScores;
        const m = xs.reduce((p, q) => p + q, 0) / Math.max(1, xs.length);
        console.log(`${a.arm}: final score ${m.toFixed(3)} over ${xs.length} seed(s), ${a.envSteps} env steps`);
      }
      console.log(`wrote ${o.out}/summary.json and report.html`);
    });
    return 0;
  },
});
