// In-Context Preference Learning (Yu et al. 2024, arXiv 2410.17233; icpl-research/ICPL icpl/icpl.py) and its
// baselines, run side by side on one task. Per iteration of a reward-design arm:
//   1. generate: the proposer answers the conversation (system, task, and — after the first iteration —
//      the feedback message); the code is extracted, compiled in the sandbox and trained with PPO; an answer
//      that does not compile or whose reward fails while training is asked for again (up to maxAttempts
//      answers per iteration); once they run out, failed answers fill the remaining places as crashes
//      (score −10000, ICPL's DUMMY_FAILURE);
//   2. render each trained policy to a video;
//   3. feedback, by arm:
//        icpl     the preference source names the best and the worst; the feedback message (prompts.ts)
//                 shows the good then the bad program with their training statistics (task score hidden),
//                 the preference, and the history: after iteration k > 1 the previous good program's
//                 statistics and the proposer's description of how iter<k>-good differs from iter<k−1>-good;
//        eureka   the candidate with the best ground-truth score, its whole answer, and its statistics with
//                 the task score shown (ICPL's preference_type=no with use_sparse_reward; no history, as in
//                 Eureka);
//        bestofn  no feedback: every iteration samples from the first prompt (best-of-N with N = iterations ×
//                 samples);
//   the feedback message replaces the previous one (ICPL's user_list_only).
// Non-design arms: sparse (PPO on the sparse task reward alone) and handwritten (Gymnasium's own reward).
// Final score of an arm (ICPL's final evaluation): its best candidate by ground-truth score over all iterations
// (equal scores ordered by the ground-truth return, as the proxy orders them) is trained again on finalSeeds
// fresh seeds and evaluated greedily; the mean and std are reported, as for the
// sparse and hand-written rewards trained on the same seeds. Identical code with the same seed and budget is
// trained once and shared (the arms' first iterations coincide for a deterministic proposer).
// Everything is written under `out` (see writeCandidate and the summary), and report.ts renders report.html.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import {
  candidateKey,
  candidateVideo,
  trainCandidate,
  type CandidateResult,
  type RewardSpec,
  type TrainCandidateOptions,
} from './candidates.js';
import { CRASH_SCORE, bestOf, type PreferenceSource } from './preferences.js';
import {
  TEMPLATES,
  differenceMessages,
  envFeedback,
  extractCode,
  feedbackMessage,
  format,
  historyEntry,
  initialMessages,
  nameDifference,
  type ChatMessage,
} from './prompts.js';
import type { Proposer } from './proposers.js';
import { RewardSandbox } from './sandbox.js';
import type { RewardTask } from './tasks.js';
import { resolvePPOOptions, type PPOControlOptions } from '../trainers/ppo-control.js';

export const DESIGN_ARMS = ['icpl', 'eureka', 'bestofn'] as const;
export const ARMS = [...DESIGN_ARMS, 'sparse', 'handwritten'] as const;
export type Arm = (typeof ARMS)[number];
type DesignArm = (typeof DESIGN_ARMS)[number];

export interface ICPLOptions {
  task: RewardTask;
  iterations: number;
  samples: number;
  proposer: Proposer;
  preferences: PreferenceSource;
  arms: Arm[];
  seed: number;
  out: string;
  /** Answers asked for per iteration before failed ones fill the places (default 4 × samples). */
  maxAttempts?: number;
  video: boolean;
  /** Rollout videos: every Nth step (default 2), drawn at this scale of Gymnasium's window (default 0.5). */
  videoEvery?: number;
  videoScale?: number;
  evalEpisodes: number;
  /** Seeds the best reward of each arm is trained again on (0: report the best candidate's own score). */
  finalSeeds: number;
  ppo?: Partial<PPOControlOptions>;
  threads?: number | null;
  log?: (line: string) => void;
}

export interface CandidateRecord {
  /** Attempt folder, relative to out. */
  dir: string;
  response: string;
  code: string;
  ok: boolean;
  crashed: boolean;
  error: string | null;
  score: number;
  gymReturn: number;
  envSteps: number;
  seconds: number;
  /** ICPL's env feedback without the task score, and Eureka's with it ({response_index} open). */
  feedback: string;
  feedbackWithScore: string;
  /** Video, relative to out (null when none). */
  video: string | null;
}

export interface IterationRecord {
  iteration: number;
  candidates: CandidateRecord[];
  attempts: number;
  best: number | null;
  worst: number | null;
}

export interface ArmRecord {
  arm: Arm;
  iterations: IterationRecord[];
  best: { iteration: number; index: number; score: number; code: string | null } | null;
  finalScores: number[];
  finalReturns: number[];
  envSteps: number;
  seconds: number;
}

interface Ctx {
  o: ICPLOptions;
  sandbox: RewardSandbox;
  cache: Map<string, { result: CandidateResult; video: string | null; dir: string }>;
  log: (line: string) => void;
}

const stats = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length));
  return { mean: xs.length ? m : Number.NaN, std: xs.length ? sd : Number.NaN };
};

/** Seed of the proposer's call: the same for every arm at the same iteration and round. */
const callSeed = (seed: number, iteration: number, round: number) => seed * 1_000_003 + iteration * 1009 + round;

function trainOptions(ctx: Ctx, seed: number): TrainCandidateOptions {
  return { seed, ppo: ctx.o.ppo, evalEpisodes: ctx.o.evalEpisodes, threads: ctx.o.threads };
}

/** Extract, compile, train (or reuse), render and save one answer. */
async function tryAnswer(ctx: Ctx, answer: string, dir: string): Promise<CandidateRecord> {
  const { o } = ctx;
  const code = extractCode(answer);
  const abs = join(o.out, dir);
  mkdirSync(abs, { recursive: true });
  writeFileAtomic(join(abs, 'response.txt'), answer);
  writeFileAtomic(join(abs, 'reward.js'), `${code}\n`);
  const spec: RewardSpec = { kind: 'code', code, sandbox: ctx.sandbox };
  const key = candidateKey(o.task, spec, trainOptions(ctx, o.seed));
  let hit = ctx.cache.get(key);
  if (!hit) {
    const result = await trainCandidate(o.task, spec, trainOptions(ctx, o.seed));
    let video: string | null = null;
    if (result.ok && o.video && result.policy) {
      video = join(dir, 'rollout.mp4');
      await candidateVideo(o.task, result.policy, join(o.out, video), {
        seed: o.seed,
        every: o.videoEvery,
        scale: o.videoScale,
      });
    }
    result.policy?.agent.dispose();
    result.policy = null;
    hit = { result, video, dir };
    ctx.cache.set(key, hit);
  } else if (hit.video) {
    copyFileSync(join(o.out, hit.video), join(abs, 'rollout.mp4'));
  }
  const r = hit.result;
  const hidden = r.stats.filter((s) => s.name !== 'task_score');
  const errorFeedback = format(TEMPLATES.execution_error_feedback, {
    traceback_msg: (r.error ?? '').replace(/[{}]/g, (c) => c + c),
  });
  const rec: CandidateRecord = {
    dir,
    response: answer,
    code,
    ok: r.ok,
    crashed: !r.ok,
    error: r.error,
    score: r.ok ? r.score : CRASH_SCORE,
    gymReturn: r.gymReturn,
    envSteps: r.envSteps,
    seconds: r.seconds,
    feedback: r.ok ? envFeedback(hidden) : errorFeedback,
    feedbackWithScore: r.ok ? envFeedback(r.stats) : errorFeedback,
    video: hit.video ? join(dir, 'rollout.mp4') : null,
  };
  const { response: _r, ...meta } = rec;
  writeFileAtomic(
    join(abs, 'result.json'),
    `${JSON.stringify({ ...meta, stats: r.stats, reused_from: hit.dir === dir ? null : hit.dir }, null, 1)}\n`,
  );
  writeFileAtomic(join(abs, 'env_feedback.txt'), rec.feedback);
  writeFileAtomic(join(abs, 'metrics.jsonl'), r.history.map((m) => `${JSON.stringify(m)}\n`).join(''));
  return rec;
}

/** Step 1: up to `samples` candidates that train, asked for again while attempts remain; crashes fill the rest. */
async function generate(ctx: Ctx, arm: DesignArm, it: number, messages: ChatMessage[]) {
  const { o } = ctx;
  const K = o.samples;
  const limit = o.maxAttempts ?? 4 * K;
  const ok: CandidateRecord[] = [];
  const failed: CandidateRecord[] = [];
  let attempts = 0;
  for (let round = 0; ok.length < K && attempts < limit; round++) {
    const want = Math.min(K - ok.length, limit - attempts);
    const answers = await o.proposer.complete(messages, want, callSeed(o.seed, it, round));
    for (const answer of answers.slice(0, want)) {
      const rec = await tryAnswer(ctx, answer, join(arm, `iter${it}`, `attempt${attempts}`));
      attempts++;
      (rec.ok ? ok : failed).push(rec);
      const what = rec.ok
        ? `score ${rec.score.toFixed(2)}, return ${rec.gymReturn.toFixed(1)}`
        : `failed: ${rec.error}`;
      ctx.log(`${arm} iteration ${it} attempt ${attempts}: ${what}`);
    }
  }
  return { candidates: [...ok, ...failed.slice(0, K - ok.length)], attempts };
}

/** ICPL's difference of two good programs, named iter<k>-good and iter<k−1>-good. */
async function difference(ctx: Ctx, k: number, code: string, previous: string, seed: number): Promise<string> {
  const msgs = differenceMessages(code, previous, ctx.o.task.description);
  const [text] = await ctx.o.proposer.complete(msgs, 1, seed);
  return nameDifference(text ?? '', `iter${k}-good`, `iter${k - 1}-good`);
}

async function designArm(ctx: Ctx, arm: DesignArm): Promise<IterationRecord[]> {
  const { o } = ctx;
  const first = initialMessages(o.task.observationCode, o.task.description);
  let messages = first;
  let history = '';
  const goods: CandidateRecord[] = [];
  const out: IterationRecord[] = [];
  for (let it = 1; it <= o.iterations; it++) {
    const dir = join(o.out, arm, `iter${it}`);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'prompt.json'), `${JSON.stringify(messages, null, 1)}\n`);
    const { candidates, attempts } = await generate(ctx, arm, it, messages);
    const rec: IterationRecord = { iteration: it, candidates, attempts, best: null, worst: null };
    out.push(rec);
    writeFileAtomic(join(dir, 'candidates.json'), `${JSON.stringify(candidates.map((c) => c.dir))}\n`);
    if (arm === 'bestofn' || !candidates.some((c) => c.ok) || candidates.length < 2) continue;
    let feedback: string;
    if (arm === 'icpl') {
      const q = {
        run: o.out,
        arm,
        iteration: it,
        task: o.task.description,
        candidates: candidates.map((c, i) => ({
          index: i,
          code: c.code,
          video: c.video ? join(o.out, c.video) : null,
          score: c.score,
          gymReturn: c.gymReturn,
          crashed: c.crashed,
        })),
      };
      const pref = await o.preferences.choose(q);
      rec.best = pref.best;
      rec.worst = pref.worst;
      const [good, bad] = [candidates[pref.best], candidates[pref.worst]];
      goods.push(good);
      const k = goods.length;
      if (k > 1) {
        const diff = await difference(ctx, k, good.code, goods[k - 2].code, callSeed(o.seed, it, 999));
        history += historyEntry(k, goods[k - 2].feedback, diff);
      }
      const shown = [good, bad].map((c) => ({ text: c.code, feedback: c.feedback }));
      feedback = feedbackMessage({ shown, preference: true, history: { iterations: k, text: history } });
      writeFileAtomic(join(dir, 'preference.json'), `${JSON.stringify({ ...pref, source: o.preferences.name })}\n`);
      writeFileAtomic(join(o.out, arm, 'history.txt'), history);
    } else {
      const best = bestOf(candidates);
      rec.best = best;
      const shown = [{ text: candidates[best].response, feedback: candidates[best].feedbackWithScore }];
      feedback = feedbackMessage({ shown, preference: false, history: null });
    }
    writeFileAtomic(join(dir, 'feedback.txt'), feedback);
    messages = [first[0], first[1], { role: 'user', content: feedback }];
  }
  return out;
}

/** Train a reward on each final seed; scores and returns. */
async function finalRuns(ctx: Ctx, spec: RewardSpec) {
  const scores: number[] = [];
  const returns: number[] = [];
  let envSteps = 0;
  for (let i = 0; i < ctx.o.finalSeeds; i++) {
    const r = await trainCandidate(ctx.o.task, spec, trainOptions(ctx, 1000 + ctx.o.seed * 10 + i));
    r.policy?.agent.dispose();
    scores.push(r.ok ? r.score : 0);
    returns.push(r.ok ? r.gymReturn : Number.NaN);
    envSteps += r.envSteps;
  }
  return { scores, returns, envSteps };
}

async function runArm(ctx: Ctx, arm: Arm): Promise<ArmRecord> {
  const t0 = performance.now();
  const rec: ArmRecord = {
    arm,
    iterations: [],
    best: null,
    finalScores: [],
    finalReturns: [],
    envSteps: 0,
    seconds: 0,
  };
  if (arm === 'sparse' || arm === 'handwritten') {
    const spec: RewardSpec = { kind: arm };
    const seeds = Math.max(1, ctx.o.finalSeeds);
    const f = await finalRuns({ ...ctx, o: { ...ctx.o, finalSeeds: seeds } }, spec);
    Object.assign(rec, { finalScores: f.scores, finalReturns: f.returns, envSteps: f.envSteps });
  } else {
    rec.iterations = await designArm(ctx, arm);
    const all = rec.iterations.flatMap((it) =>
      it.candidates.map((c, index) => ({ c, index, iteration: it.iteration })),
    );
    rec.envSteps = rec.iterations.reduce((s, it) => s + it.candidates.reduce((a, c) => a + c.envSteps, 0), 0);
    const ok = all.filter((x) => x.c.ok);
    const top = ok.length ? ok[bestOf(ok.map((x) => x.c))] : undefined;
    if (top) {
      rec.best = { iteration: top.iteration, index: top.index, score: top.c.score, code: top.c.code };
      if (ctx.o.finalSeeds > 0) {
        const f = await finalRuns(ctx, { kind: 'code', code: top.c.code, sandbox: ctx.sandbox });
        Object.assign(rec, { finalScores: f.scores, finalReturns: f.returns });
        rec.envSteps += f.envSteps;
      } else Object.assign(rec, { finalScores: [top.c.score], finalReturns: [top.c.gymReturn] });
    }
  }
  rec.seconds = (performance.now() - t0) / 1000;
  const s = stats(rec.finalScores);
  ctx.log(`${arm}: final score ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)} over ${rec.finalScores.length} seed(s)`);
  return rec;
}

export interface ICPLResult {
  arms: ArmRecord[];
  summary: Record<string, unknown>;
}

/** Run the arms; writes every candidate and summary.json under o.out (report.ts writes the report). */
export async function runICPL(o: ICPLOptions): Promise<ICPLResult> {
  if (!(o.iterations >= 1 && o.samples >= 2)) throw new Error('pacer: icpl needs iterations >= 1 and samples >= 2');
  const ppo = resolvePPOOptions({ envId: o.task.envId, ...o.task.ppo, ...(o.ppo ?? {}) });
  if (ppo.totalTimesteps < ppo.numEnvs * ppo.numSteps)
    throw new Error(
      `pacer: icpl: ${ppo.totalTimesteps} PPO timesteps per candidate is less than one rollout ` +
        `(numEnvs·numSteps = ${ppo.numEnvs * ppo.numSteps}); give at least that many`,
    );
  if (existsSync(join(o.out, 'summary.json')))
    throw new Error(`pacer: ${o.out} already holds an icpl run (summary.json); choose another --out`);
  mkdirSync(o.out, { recursive: true });
  const ctx: Ctx = { o, sandbox: new RewardSandbox(), cache: new Map(), log: o.log ?? (() => {}) };
  const t0 = performance.now();
  try {
    const arms: ArmRecord[] = [];
    for (const arm of o.arms) arms.push(await runArm(ctx, arm));
    const summary = summarize(o, arms, (performance.now() - t0) / 1000, ctx.sandbox.layers);
    writeFileAtomic(join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    return { arms, summary };
  } finally {
    ctx.sandbox.close();
  }
}

function summarize(o: ICPLOptions, arms: ArmRecord[], seconds: number, layers: string[]): Record<string, unknown> {
  return {
    task: o.task.envId,
    description: o.task.description,
    proposer: o.proposer.description,
    proposer_is_llm: o.proposer.isLLM,
    preferences: o.preferences.name,
    iterations: o.iterations,
    samples: o.samples,
    seed: o.seed,
    final_seeds: o.finalSeeds,
    eval_episodes: o.evalEpisodes,
    sandbox_layers: layers,
    seconds,
    arms: Object.fromEntries(
      arms.map((a) => {
        const s = stats(a.finalScores);
        const iters = a.iterations.map((it) => ({
          iteration: it.iteration,
          scores: it.candidates.map((c) => (c.ok ? c.score : null)),
          returns: it.candidates.map((c) => (c.ok ? c.gymReturn : null)),
          attempts: it.attempts,
          best: it.best,
          worst: it.worst,
        }));
        const row = {
          final_score_mean: s.mean,
          final_score_std: s.std,
          final_scores: a.finalScores,
          final_returns: a.finalReturns,
          best_candidate: a.best,
          env_steps: a.envSteps,
          seconds: a.seconds,
          iterations: iters,
        };
        return [a.arm, row];
      }),
    ),
  };
}
