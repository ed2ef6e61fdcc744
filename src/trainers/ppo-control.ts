// PPO for control tasks (pacer's Gymnasium-style environments), following CleanRL's single-file agents
// vwxyzjn/cleanrl cleanrl/ppo.py (discrete, categorical policy) and cleanrl/ppo_continuous_action.py
// (continuous, Gaussian policy with a state-independent log-std): CleanRL's Agent (src/models/actor-critic.ts),
// Adam(eps 1e-5) with a linearly annealed learning rate, GAE, minibatch epochs, gradient clipping and early
// stopping on approx_kl, with CleanRL's option names in camelCase and its defaults per action space. The loss
// is src/objectives/ppo.ts. Per iteration:
//   1. roll out numSteps vector steps (numEnvs copies, Gymnasium SAME_STEP autoreset, see src/envs);
//   2. optionally relabel the rewards with `rewardFn` (one call per rollout), then normalise them;
//   3. GAE(γ, λ), bootstrapping truncated episodes from their final observation (CleanRL instead treats
//      truncation as termination; set bootstrapTruncated false for its behaviour);
//   4. updateEpochs passes over shuffled minibatches.
// Normalisation (ppo_continuous_action.py's wrappers, src/envs/normalize.ts) is applied once to the whole
// vector, as Gymnasium's vector wrappers do (CleanRL wraps each copy). Scores come from the environment's
// episode statistics, not from the (possibly relabelled, normalised) rewards.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from '../video/raster.js';
import {
  AdamW,
  Generator,
  clipGradNorm,
  loadSafetensors,
  noGrad,
  randn,
  saveSafetensors,
  scope,
  setThreads,
  tensor,
  type Tensor,
} from '../engine/index.js';
import { ActorCritic } from '../models/actor-critic.js';
import {
  type EnvId,
  type EpisodeStats,
  type EnvSnapshot,
  type RunningMeanStd,
  type VectorEnv,
  makeEnv,
  NumpyRandom,
  ObservationNormalizer,
  RewardNormalizer,
} from '../envs/index.js';
import {
  categoricalLogProbEntropy,
  explainedVariance,
  gae,
  gaussianLogProbEntropy,
  ppoLoss,
  sampleCategorical,
} from '../objectives/ppo.js';

export interface PPOControlOptions {
  envId: EnvId;
  seed: number;
  totalTimesteps: number;
  learningRate: number;
  numEnvs: number;
  numSteps: number;
  annealLr: boolean;
  gamma: number;
  gaeLambda: number;
  numMinibatches: number;
  updateEpochs: number;
  normAdv: boolean;
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  targetKl: number | null;
  /** Hidden layer widths of both MLPs. */
  hiddenSizes: number[];
  /** Initial value of the Gaussian policy's log-std (continuous actions). */
  initLogStd: number;
  normObs: boolean;
  normReward: boolean;
  clipObs: number;
  clipReward: number;
  bootstrapTruncated: boolean;
  /** CPU threads for the engine (setThreads); null leaves the engine's setting alone. */
  threads: number | null;
  /** Write a checkpoint every this many iterations into outputDir (0: never). */
  saveEveryIterations: number;
  outputDir: string | null;
  /** A checkpoint folder written by this trainer to continue from. */
  resumeFrom: string | null;
}

/** cleanrl/ppo.py's defaults (discrete actions). */
export const PPO_DISCRETE_DEFAULTS = {
  totalTimesteps: 500000,
  learningRate: 2.5e-4,
  numEnvs: 4,
  numSteps: 128,
  numMinibatches: 4,
  updateEpochs: 4,
  entCoef: 0.01,
  normObs: false,
  normReward: false,
} as const;

/** cleanrl/ppo_continuous_action.py's defaults (continuous actions). */
export const PPO_CONTINUOUS_DEFAULTS = {
  totalTimesteps: 1000000,
  learningRate: 3e-4,
  numEnvs: 1,
  numSteps: 2048,
  numMinibatches: 32,
  updateEpochs: 10,
  entCoef: 0.0,
  normObs: true,
  normReward: true,
} as const;

const COMMON_DEFAULTS = {
  seed: 1,
  annealLr: true,
  gamma: 0.99,
  gaeLambda: 0.95,
  normAdv: true,
  clipCoef: 0.2,
  clipVloss: true,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  targetKl: null,
  hiddenSizes: [64, 64],
  initLogStd: 0,
  clipObs: 10,
  clipReward: 10,
  bootstrapTruncated: true,
  threads: null,
  saveEveryIterations: 0,
  outputDir: null,
  resumeFrom: null,
} as const;

/** The options filled with CleanRL's defaults for the environment's action space, validated. */
export function resolvePPOOptions(o: Partial<PPOControlOptions> & { envId: EnvId }): PPOControlOptions {
  const probe = makeEnv(o.envId);
  const base = probe.actionSpace.type === 'discrete' ? PPO_DISCRETE_DEFAULTS : PPO_CONTINUOUS_DEFAULTS;
  const known = new Set([...Object.keys(COMMON_DEFAULTS), ...Object.keys(base), 'envId']);
  for (const k of Object.keys(o))
    if (!known.has(k))
      throw new Error(`pacer: PPO option '${k}' is not known (expected one of ${[...known].join(', ')})`);
  const r = { ...COMMON_DEFAULTS, ...base, ...o } as PPOControlOptions;
  const posInt = ['totalTimesteps', 'numEnvs', 'numSteps', 'numMinibatches', 'updateEpochs'] as const;
  for (const k of posInt)
    if (!Number.isInteger(r[k]) || r[k] < 1)
      throw new RangeError(`pacer: PPO option ${k} must be a positive integer, got ${r[k]}`);
  if ((r.numEnvs * r.numSteps) % r.numMinibatches !== 0)
    throw new RangeError(
      `pacer: PPO batch numEnvs·numSteps = ${r.numEnvs * r.numSteps} does not split into ` +
        `numMinibatches = ${r.numMinibatches}`,
    );
  for (const k of ['gamma', 'gaeLambda'] as const)
    if (!(r[k] >= 0 && r[k] <= 1)) throw new RangeError(`pacer: PPO option ${k} must be in [0, 1], got ${r[k]}`);
  for (const k of ['learningRate', 'clipCoef', 'maxGradNorm', 'clipObs', 'clipReward'] as const)
    if (!(r[k] > 0)) throw new RangeError(`pacer: PPO option ${k} must be > 0, got ${r[k]}`);
  if (r.targetKl !== null && !(r.targetKl > 0)) throw new RangeError(`pacer: PPO option targetKl must be > 0 or null`);
  if (!r.hiddenSizes.every((h) => Number.isInteger(h) && h > 0))
    throw new RangeError(`pacer: PPO option hiddenSizes must be positive integers, got [${r.hiddenSizes}]`);
  if (r.saveEveryIterations > 0 && !r.outputDir)
    throw new Error('pacer: PPO option saveEveryIterations needs outputDir');
  return r;
}

// ------------------------------------------------------------------------------------------ the policy
/** log π(a|s), entropy and V(s) for a batch (actions int64 [B] or float [B, D]). */
function evaluateActions(agent: ActorCritic, x: Tensor, actions: Tensor) {
  const out = agent.actor.forward(x);
  const d = agent.logStd ? gaussianLogProbEntropy(out, agent.logStd, actions) : categoricalLogProbEntropy(out, actions);
  return { ...d, value: agent.value(x) };
}

/** Sample actions (the mode when deterministic) with their log-probs and values; no gradients. */
function act(agent: ActorCritic, x: Tensor, gen: Generator, deterministic = false) {
  return noGrad(() => {
    const out = agent.actor.forward(x);
    const ls = agent.logStd;
    let actions: Tensor;
    if (ls) actions = deterministic ? out : out.add(randn(out.shape, { generator: gen }).mul(ls.exp()));
    else actions = deterministic ? out.argmax(-1) : sampleCategorical(out, gen);
    const d = ls ? gaussianLogProbEntropy(out, ls, actions) : categoricalLogProbEntropy(out, actions);
    return { actions, logprob: d.logprob, value: agent.value(x) };
  });
}

// ------------------------------------------------------------------------------------------ rollouts
/** One rollout as the reward function sees it: time-major arrays, index (t·numEnvs + i)·width + j. */
export interface RolloutBatch {
  numSteps: number;
  numEnvs: number;
  stateNames: readonly string[];
  /** Gymnasium state vector before each step. */
  states: Float64Array;
  /** State vector after the step (an ended episode's final state, not the next episode's first). */
  nextStates: Float64Array;
  actions: Float64Array;
  actionDim: number;
  envRewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

/** Replaces the environment's reward for a whole rollout (ICPL's LLM-written rewards go here). */
export type RewardFn = (batch: RolloutBatch) => Float64Array | Promise<Float64Array>;

interface Rollout {
  obs: Float32Array; // [T·N·d], normalised as the agent saw them
  actions: Float32Array; // [T·N·actDim] (indices for discrete)
  logprobs: Float32Array;
  values: Float32Array;
  nextValues: Float32Array;
  rewards: Float64Array;
  /** For GAE: terminal (no bootstrap); truncations too when bootstrapTruncated is off. */
  terminated: Uint8Array;
  envTerminated: Uint8Array;
  truncated: Uint8Array;
  dones: Uint8Array;
  states: Float64Array | null;
  nextStates: Float64Array | null;
  /** Truncated episodes' final observations (normalised) and their rollout index. */
  finals: Array<{ at: number; obs: Float32Array }>;
  episodes: Array<EpisodeStats & { globalStep: number }>;
}

interface Run {
  o: PPOControlOptions;
  env: VectorEnv;
  agent: ActorCritic;
  gen: Generator;
  obsNorm: ObservationNormalizer | null;
  rewardNorm: RewardNormalizer | null;
  nextObs: Float32Array[];
  globalStep: number;
  actDim: number;
}

/** The agent's view of a batch of observations (normalised when normObs), row-major. */
function view(run: Run, obs: Float32Array[], update: boolean): Float32Array {
  if (run.obsNorm) return run.obsNorm.normalize(obs, update);
  const d = run.env.obsDim;
  const out = new Float32Array(obs.length * d);
  obs.forEach((o, i) => out.set(o, i * d));
  return out;
}

/** Actions as the environment takes them: indices, or vectors clipped to the box (gymnasium ClipAction). */
function envActions(run: Run, a: Float32Array): Array<number | number[]> {
  const sp = run.env.actionSpace;
  if (sp.type === 'discrete') return Array.from(a);
  const d = run.actDim;
  return Array.from({ length: run.env.numEnvs }, (_, i) =>
    Array.from({ length: d }, (_, j) => Math.min(Math.max(a[i * d + j], sp.low[j]), sp.high[j])),
  );
}

function emptyRollout(run: Run, withStates: boolean): Rollout {
  const n = run.o.numSteps * run.env.numEnvs;
  const k = run.env.stateNames.length;
  return {
    obs: new Float32Array(n * run.env.obsDim),
    actions: new Float32Array(n * run.actDim),
    logprobs: new Float32Array(n),
    values: new Float32Array(n),
    nextValues: new Float32Array(n),
    rewards: new Float64Array(n),
    terminated: new Uint8Array(n),
    envTerminated: new Uint8Array(n),
    truncated: new Uint8Array(n),
    dones: new Uint8Array(n),
    states: withStates ? new Float64Array(n * k) : null,
    nextStates: withStates ? new Float64Array(n * k) : null,
    finals: [],
    episodes: [],
  };
}

/** numSteps vector steps with the current policy (CleanRL's rollout phase). */
function collect(run: Run, withStates: boolean): Rollout {
  const { env } = run;
  const N = env.numEnvs;
  const d = env.obsDim;
  const k = env.stateNames.length;
  const ro = emptyRollout(run, withStates);
  let obs = view(run, run.nextObs, false);
  for (let t = 0; t < run.o.numSteps; t++) {
    ro.obs.set(obs, t * N * d);
    ro.states?.set(env.getState().flat(), t * N * k);
    const step = scope(() => {
      const r = act(run.agent, tensor(obs, { shape: [N, d] }), run.gen);
      return { a: r.actions.float().data() as Float32Array, lp: r.logprob.data(), v: r.value.data() };
    });
    ro.actions.set(step.a, t * N * run.actDim);
    ro.logprobs.set(step.lp as Float32Array, t * N);
    ro.values.set(step.v as Float32Array, t * N);
    if (t > 0) ro.nextValues.set(step.v as Float32Array, (t - 1) * N);
    const r = env.step(envActions(run, step.a));
    run.globalStep += N;
    const next = ro.nextStates ? env.getState() : null;
    for (let i = 0; i < N; i++) {
      const at = t * N + i;
      ro.rewards[at] = r.reward[i];
      ro.terminated[at] = ro.envTerminated[at] = r.terminated[i] ? 1 : 0;
      ro.truncated[at] = r.truncated[i] ? 1 : 0;
      ro.dones[at] = r.terminated[i] || r.truncated[i] ? 1 : 0;
      ro.nextStates?.set(r.finalState[i] ?? (next as number[][])[i], at * k);
      const fo = r.finalObs[i];
      if (fo && !r.terminated[i]) ro.finals.push({ at, obs: view(run, [fo], false) });
      const ep = r.episodes[i];
      if (ep) ro.episodes.push({ ...ep, globalStep: run.globalStep });
    }
    run.nextObs = r.obs;
    obs = view(run, r.obs, true);
  }
  finishValues(run, ro, obs);
  return ro;
}

/** V(s_{t+1}) for the last step, and for truncated episodes the value of their final observation. */
function finishValues(run: Run, ro: Rollout, lastObs: Float32Array): void {
  const N = run.env.numEnvs;
  const d = run.env.obsDim;
  scope(() => {
    const v = noGrad(() => run.agent.value(tensor(lastObs, { shape: [N, d] })).data()) as Float32Array;
    ro.nextValues.set(v, (run.o.numSteps - 1) * N);
    if (!run.o.bootstrapTruncated) {
      for (const f of ro.finals) ro.terminated[f.at] = 1; // CleanRL: truncation counts as termination
      return;
    }
    if (ro.finals.length === 0) return;
    const x = new Float32Array(ro.finals.length * d);
    ro.finals.forEach((f, i) => x.set(f.obs, i * d));
    const fv = noGrad(() => run.agent.value(tensor(x, { shape: [ro.finals.length, d] })).data()) as Float32Array;
    ro.finals.forEach((f, i) => {
      ro.nextValues[f.at] = fv[i];
    });
  });
}

function rolloutBatch(run: Run, ro: Rollout): RolloutBatch {
  return {
    numSteps: run.o.numSteps,
    numEnvs: run.env.numEnvs,
    stateNames: run.env.stateNames,
    states: ro.states as Float64Array,
    nextStates: ro.nextStates as Float64Array,
    actions: Float64Array.from(ro.actions),
    actionDim: run.actDim,
    envRewards: Float64Array.from(ro.rewards),
    terminated: ro.envTerminated,
    truncated: ro.truncated,
  };
}

function checkRewards(r: Float64Array, n: number): Float64Array {
  if (!(r instanceof Float64Array) || r.length !== n)
    throw new Error(
      `pacer: PPO rewardFn must return a Float64Array of ${n} rewards (numSteps·numEnvs), got ${r?.length}`,
    );
  for (let k = 0; k < n; k++)
    if (!Number.isFinite(r[k]))
      throw new Error(`pacer: PPO rewardFn returned a non-finite reward ${r[k]} at index ${k}`);
  return r;
}

// ------------------------------------------------------------------------------------------ the update
function shuffled(n: number, rng: NumpyRandom): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** updateEpochs passes of minibatch PPO steps over one rollout; CleanRL's logged metrics. */
function update(run: Run, ro: Rollout, opt: AdamW, shuffleRng: NumpyRandom): Record<string, number> {
  const o = run.o;
  const B = o.numSteps * run.env.numEnvs;
  const mb = B / o.numMinibatches;
  const v = gae(
    { rewards: ro.rewards, values: ro.values, nextValues: ro.nextValues, terminated: ro.terminated, dones: ro.dones },
    o.numSteps,
    run.env.numEnvs,
    o.gamma,
    o.gaeLambda,
  );
  const cfg = {
    clipCoef: o.clipCoef,
    clipVloss: o.clipVloss,
    entCoef: o.entCoef,
    vfCoef: o.vfCoef,
    normAdv: o.normAdv,
  };
  const params = run.agent.parameters();
  let last: Record<string, number> = {};
  const clipfracs: number[] = [];
  scope(() => {
    const bObs = tensor(ro.obs, { shape: [B, run.env.obsDim] });
    const discrete = run.env.actionSpace.type === 'discrete';
    const bAct = discrete ? tensor(ro.actions).long() : tensor(ro.actions, { shape: [B, run.actDim] });
    const cols = [ro.logprobs, v.advantages, v.returns, ro.values].map((a) => tensor(Float32Array.from(a)));
    for (let epoch = 0; epoch < o.updateEpochs; epoch++) {
      const perm = shuffled(B, shuffleRng);
      for (let start = 0; start < B; start += mb) {
        scope(() => {
          const ix = tensor(BigInt64Array.from(perm.subarray(start, start + mb), (x) => BigInt(x)));
          const [oldLogprob, advantages, returns, oldValue] = cols.map((c) => c.indexSelect(0, ix));
          const e = evaluateActions(run.agent, bObs.indexSelect(0, ix), bAct.indexSelect(0, ix));
          const x = { newLogprob: e.logprob, newValue: e.value, entropy: e.entropy };
          const out = ppoLoss({ ...x, oldLogprob, advantages, oldValue, returns }, cfg);
          opt.zeroGrad();
          out.loss.backward();
          clipGradNorm(params, o.maxGradNorm);
          opt.step();
          last = out.metrics;
          clipfracs.push(out.metrics['losses/clipfrac']);
        });
      }
      if (o.targetKl !== null && last['losses/approx_kl'] > o.targetKl) break;
    }
  });
  return {
    ...last,
    'losses/clipfrac': clipfracs.reduce((a, b) => a + b, 0) / clipfracs.length,
    'losses/explained_variance': explainedVariance(ro.values, v.returns),
  };
}

// ------------------------------------------------------------------------------------------ checkpoints
interface TrainerState {
  iteration: number;
  globalStep: number;
  options: PPOControlOptions;
  obsNorm: ReturnType<RunningMeanStd['toJSON']> | null;
  rewardNorm: ReturnType<RewardNormalizer['toJSON']> | null;
  nextObs: number[][];
  env: EnvSnapshot | null;
  shuffleRng: { state: string; inc: string };
  generator: string;
  optimizerStep: number;
  history: Array<Record<string, number>>;
  episodes: Array<EpisodeStats & { globalStep: number }>;
}

const SAME_FOR_RESUME = ['envId', 'seed', 'numEnvs', 'numSteps', 'hiddenSizes', 'normObs', 'normReward'] as const;

/** checkpoint-<iteration>/ with model.safetensors, optimizer.safetensors, trainer_state.json; written then renamed. */
function writePPOCheckpoint(run: Run, opt: AdamW, st: Omit<TrainerState, 'env' | 'generator' | 'optimizerStep'>) {
  const dir = run.o.outputDir as string;
  const final = join(dir, `checkpoint-${st.iteration}`);
  const tmp = join(dir, `.checkpoint-${st.iteration}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let env: EnvSnapshot | null = null;
  try {
    env = run.env.snapshot();
  } catch {
    env = null; // LunarLander: a Box2D world is not a vector; resume resets the environments
  }
  scope(() => {
    saveSafetensors(join(tmp, 'model.safetensors'), new Map(run.agent.namedParameters()));
    saveSafetensors(join(tmp, 'optimizer.safetensors'), opt.stateDict().tensors);
    const generator = Buffer.from(Uint8Array.from(run.gen.getState().toArray())).toString('hex');
    const full: TrainerState = { ...st, env, generator, optimizerStep: opt.stepCount };
    writeFileSync(join(tmp, 'trainer_state.json'), `${JSON.stringify(full)}\n`);
  });
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return final;
}

function readPPOCheckpoint(run: Run, opt: AdamW, dir: string): TrainerState {
  const file = join(dir, 'trainer_state.json');
  if (!existsSync(file)) throw new Error(`pacer: ${dir} is not a PPO checkpoint (no trainer_state.json)`);
  const st = JSON.parse(readFileSync(file, 'utf8')) as TrainerState;
  for (const k of SAME_FOR_RESUME)
    if (JSON.stringify(st.options[k]) !== JSON.stringify(run.o[k]))
      throw new Error(
        `pacer: cannot resume from ${dir}: option ${k} was ${JSON.stringify(st.options[k])}, ` +
          `now ${JSON.stringify(run.o[k])}`,
      );
  scope(() => {
    run.agent.loadStateDict(loadSafetensors(join(dir, 'model.safetensors')));
    const tensors = loadSafetensors(join(dir, 'optimizer.safetensors'));
    opt.loadStateDict({ step: st.optimizerStep, options: opt.groups.map((g) => ({ ...g.options })), tensors });
    run.gen.setState(tensor(Uint8Array.from(Buffer.from(st.generator, 'hex'))));
  });
  if (st.obsNorm) run.obsNorm?.rms.load(st.obsNorm);
  if (st.rewardNorm) run.rewardNorm?.load(st.rewardNorm);
  run.globalStep = st.globalStep;
  if (st.env) {
    run.env.restore(st.env);
    run.nextObs = st.nextObs.map((o) => Float32Array.from(o));
  } else run.nextObs = run.env.reset({ seed: run.o.seed + st.globalStep }).obs;
  return st;
}

// ------------------------------------------------------------------------------------------ the loop
export interface PPOHooks {
  /** Replaces the environment's reward (called once per rollout, before reward normalisation). */
  rewardFn?: RewardFn;
  /** Called after every iteration with CleanRL's metric names (charts/…, losses/…) and the live policy. */
  onIteration?: (metrics: Record<string, number>, policy: PPOPolicy) => void;
}

/** A trained policy with the observation normaliser it was trained with. */
export class PPOPolicy {
  constructor(
    readonly agent: ActorCritic,
    readonly obsNorm: ObservationNormalizer | null,
  ) {}
  /** Actions for raw observations (one per env): sampled, or the mode when deterministic. */
  act(obs: Float32Array[], gen: Generator, deterministic = false): Array<number | number[]> {
    const d = this.agent.obsDim;
    let x: Float32Array;
    if (this.obsNorm) x = this.obsNorm.normalize(obs, false);
    else {
      x = new Float32Array(obs.length * d);
      obs.forEach((o, i) => x.set(o, i * d));
    }
    return scope(() => {
      const a = act(this.agent, tensor(x, { shape: [obs.length, d] }), gen, deterministic)
        .actions.float()
        .toArray();
      if (this.agent.action.type === 'discrete') return a;
      const D = this.agent.action.dim;
      return obs.map((_, i) => a.slice(i * D, (i + 1) * D));
    });
  }
}

export interface PPOResult {
  policy: PPOPolicy;
  options: PPOControlOptions;
  history: Array<Record<string, number>>;
  episodes: Array<EpisodeStats & { globalStep: number }>;
  globalStep: number;
  lastCheckpoint: string | null;
}

function setup(o: PPOControlOptions): { run: Run; opt: AdamW; shuffleRng: NumpyRandom } {
  if (o.threads !== null) setThreads(o.threads);
  const env = makeEnv(o.envId, { seed: o.seed, numEnvs: o.numEnvs });
  const gen = new Generator(o.seed);
  const sp = env.actionSpace;
  const action = sp.type === 'discrete' ? sp : { type: 'box' as const, dim: sp.shape[0] };
  const agent = new ActorCritic(env.obsDim, action, o.hiddenSizes, gen, o.initLogStd);
  const opt = new AdamW(agent.parameters(), { lr: o.learningRate, eps: 1e-5, weightDecay: 0 });
  const run: Run = {
    o,
    env,
    agent,
    gen,
    obsNorm: o.normObs ? new ObservationNormalizer(env.obsDim, o.clipObs) : null,
    rewardNorm: o.normReward ? new RewardNormalizer(o.numEnvs, o.gamma, o.clipReward) : null,
    nextObs: env.reset().obs,
    globalStep: 0,
    actDim: sp.type === 'discrete' ? 1 : sp.shape[0],
  };
  run.obsNorm?.normalize(run.nextObs, true);
  return { run, opt, shuffleRng: new NumpyRandom(o.seed) };
}

function iterationMetrics(run: Run, ro: Rollout, lr: number, t: number[]): Record<string, number> {
  const eps = ro.episodes;
  const mean = (f: (e: EpisodeStats) => number) => (eps.length ? eps.reduce((s, e) => s + f(e), 0) / eps.length : NaN);
  return {
    global_step: run.globalStep,
    'charts/learning_rate': lr,
    'charts/episodes': eps.length,
    'charts/episodic_return': mean((e) => e.return),
    'charts/episodic_length': mean((e) => e.length),
    'charts/episodic_score': mean((e) => e.score),
    'charts/SPS': Math.round((run.o.numSteps * run.env.numEnvs) / ((t[2] - t[0]) / 1000)),
    'time/rollout_s': (t[1] - t[0]) / 1000,
    'time/update_s': (t[2] - t[1]) / 1000,
  };
}

/** Train PPO on a pacer environment; see the file header. */
export async function trainPPO(
  options: Partial<PPOControlOptions> & { envId: EnvId },
  hooks: PPOHooks = {},
): Promise<PPOResult> {
  const o = resolvePPOOptions(options);
  const { run, opt, shuffleRng } = setup(o);
  const iterations = Math.floor(o.totalTimesteps / (o.numEnvs * o.numSteps));
  let history: Array<Record<string, number>> = [];
  let episodes: Array<EpisodeStats & { globalStep: number }> = [];
  let first = 1;
  let lastCheckpoint: string | null = null;
  const policy = new PPOPolicy(run.agent, run.obsNorm);
  if (o.resumeFrom) {
    const st = readPPOCheckpoint(run, opt, o.resumeFrom);
    shuffleRng.setState(st.shuffleRng);
    ({ history, episodes } = st);
    first = st.iteration + 1;
  }
  for (let it = first; it <= iterations; it++) {
    const t0 = performance.now();
    const lr = o.annealLr ? (1.0 - (it - 1.0) / iterations) * o.learningRate : o.learningRate;
    opt.groups[0].options.lr = lr;
    const ro = collect(run, !!hooks.rewardFn);
    if (hooks.rewardFn) ro.rewards.set(checkRewards(await hooks.rewardFn(rolloutBatch(run, ro)), ro.rewards.length));
    run.rewardNorm?.normalize(ro.rewards, ro.envTerminated, o.numSteps);
    const t1 = performance.now();
    const m = update(run, ro, opt, shuffleRng);
    const rec = { ...iterationMetrics(run, ro, lr, [t0, t1, performance.now()]), ...m };
    history.push(rec);
    episodes.push(...ro.episodes);
    hooks.onIteration?.(rec, policy);
    if (o.saveEveryIterations > 0 && (it % o.saveEveryIterations === 0 || it === iterations))
      lastCheckpoint = writePPOCheckpoint(run, opt, {
        iteration: it,
        globalStep: run.globalStep,
        options: o,
        obsNorm: run.obsNorm?.rms.toJSON() ?? null,
        rewardNorm: run.rewardNorm?.toJSON() ?? null,
        nextObs: run.nextObs.map((x) => Array.from(x)),
        shuffleRng: shuffleRng.getState(),
        history,
        episodes,
      });
  }
  opt.dispose();
  return { policy, options: o, history, episodes, globalStep: run.globalStep, lastCheckpoint };
}

/**
 * Frames of one episode of a policy on a fresh copy of the environment (seeded `seed`), every `every`-th
 * step from the first observation, drawn at `scale`; `episode` holds the episode's statistics once the
 * generator is done. Frames are made as they are consumed (a long episode is never held in memory).
 */
export function policyFrames(
  policy: PPOPolicy,
  envId: EnvId,
  o: { seed?: number; every?: number; scale?: number; deterministic?: boolean } = {},
): { frames: IterableIterator<Frame>; episode: { stats: EpisodeStats | null } } {
  const out: { stats: EpisodeStats | null } = { stats: null };
  const every = Math.max(1, Math.floor(o.every ?? 1));
  function* frames(): IterableIterator<Frame> {
    const env = makeEnv(envId, { seed: o.seed ?? 10_000, numEnvs: 1 });
    const g = new Generator(o.seed ?? 10_000);
    let { obs } = env.reset();
    for (let t = 0; t < env.maxEpisodeSteps; t++) {
      if (t % every === 0) yield env.render(0, { scale: o.scale ?? 1 });
      const r = env.step(policy.act(obs, g, o.deterministic ?? true));
      if (r.episodes[0]) {
        out.stats = r.episodes[0];
        return;
      }
      obs = r.obs;
    }
  }
  return { frames: frames(), episode: out };
}

/** Run a policy for `episodes` episodes on fresh environments (seeded seed, seed + 1, …); their statistics. */
export function evaluatePolicy(
  policy: PPOPolicy,
  envId: EnvId,
  o: { episodes?: number; seed?: number; deterministic?: boolean } = {},
): EpisodeStats[] {
  const n = o.episodes ?? 10;
  const env = makeEnv(envId, { seed: o.seed ?? 10_000, numEnvs: n });
  const gen = new Generator(o.seed ?? 10_000);
  let { obs } = env.reset();
  const done: Array<EpisodeStats | null> = new Array(n).fill(null);
  for (let t = 0; t < env.maxEpisodeSteps && done.includes(null); t++) {
    const r = env.step(policy.act(obs, gen, o.deterministic ?? true));
    r.episodes.forEach((e, i) => {
      if (e && !done[i]) done[i] = e;
    });
    obs = r.obs;
  }
  return done as EpisodeStats[];
}
