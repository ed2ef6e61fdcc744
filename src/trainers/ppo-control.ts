// PPO for control tasks (pacer's Gymnasium-style environments), following CleanRL's single-file agents
// vwxyzjn/cleanrl cleanrl/ppo.py (discrete, categorical policy) and cleanrl/ppo_continuous_action.py
// (continuous, Gaussian policy with a state-independent log-std): the same network (separate actor and
// critic MLPs, 64-64 tanh, orthogonal init with gain √2, 0.01 on the policy output, 1 on the value
// output, zero biases), Adam(eps 1e-5) with a linearly annealed learning rate, GAE, minibatch epochs,
// gradient clipping and early stopping on approx_kl, with CleanRL's option names in camelCase and its
// defaults per action space. The loss is src/objectives/ppo.ts. Per iteration:
//   1. roll out numSteps vector steps (numEnvs copies, Gymnasium SAME_STEP autoreset, see src/envs);
//   2. optionally relabel the rewards with `rewardFn` (one call per rollout), then normalise them;
//   3. GAE(γ, λ), bootstrapping truncated episodes from their final observation (CleanRL instead treats
//      truncation as termination; set bootstrapTruncated false for its behaviour);
//   4. updateEpochs passes over shuffled minibatches.
// Normalisation (ppo_continuous_action.py's wrappers, applied once to the whole vector, as Gymnasium's
// vector wrappers do): observations by a running mean/variance (RunningMeanStd, count starting at 1e-4)
// and clipped to ±clipObs; rewards divided by the running std of the discounted return and clipped to
// ±clipReward (gymnasium.wrappers.NormalizeReward). Scores come from the environment's episode statistics.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdamW,
  Generator,
  Linear,
  Module,
  clipGradNorm,
  loadSafetensors,
  noGrad,
  randn,
  saveSafetensors,
  scope,
  setThreads,
  tensor,
  zeros,
  type Tensor,
} from '../engine/index.js';
import {
  type EnvId,
  type EpisodeStats,
  type EnvSnapshot,
  type VectorEnv,
  makeEnv,
  NumpyRandom,
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
      `pacer: PPO batch numEnvs·numSteps = ${r.numEnvs * r.numSteps} does not split into numMinibatches = ${r.numMinibatches}`,
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

// ------------------------------------------------------------------------------------------ normalisers
/** Running mean/variance by the parallel algorithm (gymnasium.wrappers.utils.RunningMeanStd). */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count = 1e-4;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.var = new Float64Array(dim).fill(1);
  }
  /** Update from n rows of dim values (row-major). */
  update(x: ArrayLike<number>, n: number): void {
    const d = this.dim;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[i * d + j];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[i * d + j] - m) ** 2;
      v /= n;
      const delta = m - this.mean[j];
      const tot = this.count + n;
      const m2 = this.var[j] * this.count + v * n + (delta * delta * this.count * n) / tot;
      this.mean[j] += (delta * n) / tot;
      this.var[j] = m2 / tot;
    }
    this.count += n;
  }
  toJSON() {
    return { mean: Array.from(this.mean), var: Array.from(this.var), count: this.count };
  }
  load(s: { mean: number[]; var: number[]; count: number }): void {
    this.mean.set(s.mean);
    this.var.set(s.var);
    this.count = s.count;
  }
}

// ------------------------------------------------------------------------------------------ the agent
/** torch.nn.init.orthogonal_: Q of the QR decomposition of a N(0, 1) matrix, signs fixed by diag(R), × gain. */
export function orthogonal(rows: number, cols: number, gain: number, gen: Generator): Tensor {
  const [r, c] = rows < cols ? [cols, rows] : [rows, cols];
  const a = noGrad(() => randn([r, c], { dtype: 'float64', generator: gen }).toArray());
  // Modified Gram-Schmidt on the c columns (length r) gives Q with a positive diagonal of R.
  const col = (j: number) => Array.from({ length: r }, (_, i) => a[i * c + j]);
  const q: number[][] = [];
  for (let j = 0; j < c; j++) {
    const v = col(j);
    for (const u of q) {
      const d = u.reduce((s, x, i) => s + x * v[i], 0);
      for (let i = 0; i < r; i++) v[i] -= d * u[i];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    q.push(v.map((x) => x / norm));
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (rows < cols ? q[i][j] : q[j][i]);
  return tensor(out, { shape: [rows, cols] });
}

function layer(inF: number, outF: number, gain: number, gen: Generator): Linear {
  const l = new Linear(inF, outF);
  noGrad(() => {
    l.weight.copy_(orthogonal(outF, inF, gain, gen));
    l.bias?.zero_();
  });
  return l;
}

class MLP extends Module {
  readonly layers: Linear[];
  constructor(sizes: number[], outGain: number, gen: Generator) {
    super();
    this.layers = sizes.slice(1).map((s, k) => {
      const last = k === sizes.length - 2;
      return this.addModule(String(k * 2), layer(sizes[k], s, last ? outGain : Math.SQRT2, gen));
    });
  }
  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, k) => {
      h = l.forward(h);
      if (k < this.layers.length - 1) h = h.tanh();
    });
    return h;
  }
}

/** CleanRL's Agent: critic and actor MLPs (names critic.*, actor.* / actor_mean.*, actor_logstd). */
export class ActorCritic extends Module {
  readonly critic: MLP;
  readonly actor: MLP;
  readonly logStd: Tensor | null;
  constructor(
    readonly obsDim: number,
    readonly action: { type: 'discrete'; n: number } | { type: 'box'; dim: number },
    hidden: number[],
    gen: Generator,
    initLogStd = 0,
  ) {
    super();
    const out = action.type === 'discrete' ? action.n : action.dim;
    this.critic = this.addModule('critic', new MLP([obsDim, ...hidden, 1], 1.0, gen));
    this.actor = this.addModule(
      action.type === 'discrete' ? 'actor' : 'actor_mean',
      new MLP([obsDim, ...hidden, out], 0.01, gen),
    );
    this.logStd = action.type === 'box' ? this.param('actor_logstd', zeros([1, out]).add_(initLogStd)) : null;
  }
  value(x: Tensor): Tensor {
    return this.critic.forward(x).squeeze(-1);
  }
  /** log π(a|s), entropy and V(s) for a batch (actions int64 [B] or float [B, D]). */
  evaluate(x: Tensor, actions: Tensor): { logprob: Tensor; entropy: Tensor; value: Tensor } {
    const out = this.actor.forward(x);
    const d = this.logStd ? gaussianLogProbEntropy(out, this.logStd, actions) : categoricalLogProbEntropy(out, actions);
    return { ...d, value: this.value(x) };
  }
  /** Sample actions (or take the mode when deterministic) with their log-probs and values; no gradients. */
  act(x: Tensor, gen: Generator, deterministic = false): { actions: Tensor; logprob: Tensor; value: Tensor } {
    return noGrad(() => {
      const out = this.actor.forward(x);
      let actions: Tensor;
      if (this.logStd) {
        actions = deterministic ? out : out.add(randn(out.shape, { generator: gen }).mul(this.logStd.exp()));
      } else actions = deterministic ? out.argmax(-1) : sampleCategorical(out, gen);
      const d = this.logStd
        ? gaussianLogProbEntropy(out, this.logStd, actions)
        : categoricalLogProbEntropy(out, actions);
      return { actions, logprob: d.logprob, value: this.value(x) };
    });
  }
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
  dones: Uint8Array;
  batch: RolloutBatch | null;
  episodes: Array<EpisodeStats & { globalStep: number }>;
}

interface Run {
  o: PPOControlOptions;
  env: VectorEnv;
  agent: ActorCritic;
  gen: Generator;
  obsRms: RunningMeanStd | null;
  retRms: RunningMeanStd | null;
  discounted: Float64Array;
  nextObs: Float32Array[];
  globalStep: number;
  actDim: number;
}

function normalise(run: Run, raw: Float32Array[], update: boolean): Float32Array {
  const d = run.env.obsDim;
  const out = new Float32Array(raw.length * d);
  raw.forEach((o, i) => out.set(o, i * d));
  const rms = run.obsRms;
  if (!rms) return out;
  if (update) rms.update(out, raw.length);
  const c = run.o.clipObs;
  for (let k = 0; k < out.length; k++) {
    const j = k % d;
    const v = (out[k] - rms.mean[j]) / Math.sqrt(rms.var[j] + 1e-8);
    out[k] = Math.min(Math.max(v, -c), c);
  }
  return out;
}

/** Actions as the environment takes them: indices, or vectors clipped to the box (gymnasium ClipAction). */
function envActions(run: Run, a: Float32Array): Array<number | number[]> {
  const sp = run.env.actionSpace;
  const n = run.env.numEnvs;
  if (sp.type === 'discrete') return Array.from(a);
  const d = run.actDim;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, j) => Math.min(Math.max(a[i * d + j], sp.low[j]), sp.high[j])),
  );
}

function collect(run: Run, withStates: boolean): Rollout {
  const { env } = run;
  const T = run.o.numSteps;
  const N = env.numEnvs;
  const d = env.obsDim;
  const k = env.stateNames.length;
  const ro: Rollout = {
    obs: new Float32Array(T * N * d),
    actions: new Float32Array(T * N * run.actDim),
    logprobs: new Float32Array(T * N),
    values: new Float32Array(T * N),
    nextValues: new Float32Array(T * N),
    rewards: new Float64Array(T * N),
    terminated: new Uint8Array(T * N),
    envTerminated: new Uint8Array(T * N),
    dones: new Uint8Array(T * N),
    batch: null,
    episodes: [],
  };
  const states = withStates ? new Float64Array(T * N * k) : null;
  const nextStates = withStates ? new Float64Array(T * N * k) : null;
  const truncated = new Uint8Array(T * N);
  const finals: Array<{ at: number; obs: Float32Array }> = [];
  let obs = normalise(run, run.nextObs, false);
  for (let t = 0; t < T; t++) {
    ro.obs.set(obs, t * N * d);
    if (states) states.set(env.getState().flat(), t * N * k);
    const step = scope(() => {
      const x = tensor(obs, { shape: [N, d] });
      const r = run.agent.act(x, run.gen);
      return { a: r.actions.float().data() as Float32Array, lp: r.logprob.data(), v: r.value.data() };
    });
    ro.actions.set(step.a, t * N * run.actDim);
    ro.logprobs.set(step.lp as Float32Array, t * N);
    ro.values.set(step.v as Float32Array, t * N);
    const r = env.step(envActions(run, step.a));
    run.globalStep += N;
    const next = env.getState();
    for (let i = 0; i < N; i++) {
      const at = t * N + i;
      ro.rewards[at] = r.reward[i];
      ro.terminated[at] = r.terminated[i] ? 1 : 0;
      ro.envTerminated[at] = ro.terminated[at];
      truncated[at] = r.truncated[i] ? 1 : 0;
      ro.dones[at] = r.terminated[i] || r.truncated[i] ? 1 : 0;
      if (nextStates) nextStates.set(r.finalState[i] ?? next[i], at * k);
      const fo = r.finalObs[i];
      if (fo && !r.terminated[i]) finals.push({ at, obs: fo });
      const ep = r.episodes[i];
      if (ep) ro.episodes.push({ ...ep, globalStep: run.globalStep });
    }
    run.nextObs = r.obs;
    obs = normalise(run, r.obs, true);
    if (t > 0) ro.nextValues.set(step.v as Float32Array, (t - 1) * N);
  }
  finishValues(run, ro, obs, finals);
  if (states && nextStates)
    ro.batch = {
      numSteps: T,
      numEnvs: N,
      stateNames: env.stateNames,
      states,
      nextStates,
      actions: Float64Array.from(ro.actions),
      actionDim: run.actDim,
      envRewards: Float64Array.from(ro.rewards),
      terminated: ro.envTerminated,
      truncated,
    };
  return ro;
}

/** V(s_{t+1}) for the last step, and for truncated episodes the value of their final observation. */
function finishValues(run: Run, ro: Rollout, lastObs: Float32Array, finals: Array<{ at: number; obs: Float32Array }>) {
  const N = run.env.numEnvs;
  const d = run.env.obsDim;
  const T = run.o.numSteps;
  scope(() => {
    const v = noGrad(() => run.agent.value(tensor(lastObs, { shape: [N, d] })).data()) as Float32Array;
    ro.nextValues.set(v, (T - 1) * N);
    if (!run.o.bootstrapTruncated) {
      for (const f of finals) ro.terminated[f.at] = 1; // CleanRL: truncation counts as termination
      return;
    }
    if (finals.length === 0) return;
    const x = normalise(
      run,
      finals.map((f) => f.obs),
      false,
    );
    const fv = noGrad(() => run.agent.value(tensor(x, { shape: [finals.length, d] })).data()) as Float32Array;
    finals.forEach((f, k) => {
      ro.nextValues[f.at] = fv[k];
    });
  });
}

/** gymnasium.wrappers.NormalizeReward over the vector, in time order: r / √(Var[discounted return] + 1e-8). */
function normaliseRewards(run: Run, ro: Rollout): void {
  const rms = run.retRms;
  if (!rms) return;
  const N = run.env.numEnvs;
  const c = run.o.clipReward;
  for (let t = 0; t < run.o.numSteps; t++) {
    for (let i = 0; i < N; i++) {
      const at = t * N + i;
      run.discounted[i] = run.discounted[i] * run.o.gamma * (1 - ro.envTerminated[at]) + ro.rewards[at];
    }
    rms.update(run.discounted, N);
    for (let i = 0; i < N; i++) {
      const at = t * N + i;
      const v = ro.rewards[at] / Math.sqrt(rms.var[0] + 1e-8);
      ro.rewards[at] = Math.min(Math.max(v, -c), c);
    }
  }
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
    const bAct =
      run.env.actionSpace.type === 'discrete'
        ? tensor(ro.actions).long()
        : tensor(ro.actions, { shape: [B, run.actDim] });
    const cols = [ro.logprobs, v.advantages, v.returns, ro.values].map((a) => tensor(Float32Array.from(a)));
    for (let epoch = 0; epoch < o.updateEpochs; epoch++) {
      const perm = shuffled(B, shuffleRng);
      for (let start = 0; start < B; start += mb) {
        scope(() => {
          const ix = tensor(BigInt64Array.from(perm.subarray(start, start + mb), (x) => BigInt(x)));
          const [oldLp, adv, ret, oldV] = cols.map((c) => c.indexSelect(0, ix));
          const e = run.agent.evaluate(bObs.indexSelect(0, ix), bAct.indexSelect(0, ix));
          const out = ppoLoss(
            {
              newLogprob: e.logprob,
              oldLogprob: oldLp,
              advantages: adv,
              newValue: e.value,
              oldValue: oldV,
              returns: ret,
              entropy: e.entropy,
            },
            cfg,
          );
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
  obsRms: ReturnType<RunningMeanStd['toJSON']> | null;
  retRms: ReturnType<RunningMeanStd['toJSON']> | null;
  discounted: number[];
  nextObs: number[][];
  env: EnvSnapshot | null;
  shuffleRng: { state: string; inc: string };
  generator: string;
  history: Array<Record<string, number>>;
  episodes: Array<EpisodeStats & { globalStep: number }>;
}

const SAME_FOR_RESUME = ['envId', 'seed', 'numEnvs', 'numSteps', 'hiddenSizes', 'normObs', 'normReward'] as const;

function hex(b: ArrayLike<number>): string {
  return Buffer.from(Uint8Array.from(b)).toString('hex');
}

/** checkpoint-<iteration>/ with model.safetensors, optimizer.safetensors, trainer_state.json; written then renamed. */
function writePPOCheckpoint(run: Run, opt: AdamW, st: Omit<TrainerState, 'env' | 'generator'>): string {
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
    const generator = hex(run.gen.getState().toArray());
    const full: TrainerState = { ...st, env, generator };
    writeFileSync(join(tmp, 'trainer_state.json'), `${JSON.stringify({ ...full, optimizer_step: opt.stepCount })}\n`);
  });
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return final;
}

function readPPOCheckpoint(run: Run, opt: AdamW, dir: string): TrainerState {
  const file = join(dir, 'trainer_state.json');
  if (!existsSync(file)) throw new Error(`pacer: ${dir} is not a PPO checkpoint (no trainer_state.json)`);
  const st = JSON.parse(readFileSync(file, 'utf8')) as TrainerState & { optimizer_step: number };
  for (const k of SAME_FOR_RESUME)
    if (JSON.stringify(st.options[k]) !== JSON.stringify(run.o[k]))
      throw new Error(
        `pacer: cannot resume from ${dir}: option ${k} was ${JSON.stringify(st.options[k])}, now ${JSON.stringify(run.o[k])}`,
      );
  scope(() => {
    run.agent.loadStateDict(loadSafetensors(join(dir, 'model.safetensors')));
    const tensors = loadSafetensors(join(dir, 'optimizer.safetensors'));
    opt.loadStateDict({ step: st.optimizer_step, options: opt.groups.map((g) => ({ ...g.options })), tensors });
    run.gen.setState(tensor(Uint8Array.from(Buffer.from(st.generator, 'hex'))));
  });
  if (st.obsRms) run.obsRms?.load(st.obsRms);
  if (st.retRms) run.retRms?.load(st.retRms);
  run.discounted.set(st.discounted);
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
    readonly obsRms: RunningMeanStd | null,
    readonly clipObs: number,
  ) {}
  /** Actions for raw observations (one per env): sampled, or the mode when deterministic. */
  act(obs: Float32Array[], gen: Generator, deterministic = false): Array<number | number[]> {
    const d = this.agent.obsDim;
    const x = new Float32Array(obs.length * d);
    obs.forEach((o, i) => x.set(o, i * d));
    if (this.obsRms)
      for (let k = 0; k < x.length; k++) {
        const j = k % d;
        const v = (x[k] - this.obsRms.mean[j]) / Math.sqrt(this.obsRms.var[j] + 1e-8);
        x[k] = Math.min(Math.max(v, -this.clipObs), this.clipObs);
      }
    return scope(() => {
      const a = this.agent
        .act(tensor(x, { shape: [obs.length, d] }), gen, deterministic)
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
    obsRms: o.normObs ? new RunningMeanStd(env.obsDim) : null,
    retRms: o.normReward ? new RunningMeanStd(1) : null,
    discounted: new Float64Array(o.numEnvs),
    nextObs: [],
    globalStep: 0,
    actDim: sp.type === 'discrete' ? 1 : sp.shape[0],
  };
  run.nextObs = env.reset().obs;
  if (run.obsRms) normalise(run, run.nextObs, true);
  return { run, opt, shuffleRng: new NumpyRandom(o.seed) };
}

function iterationMetrics(run: Run, ro: Rollout, m: Record<string, number>, lr: number, t0: number) {
  const eps = ro.episodes;
  const mean = (f: (e: EpisodeStats) => number) => (eps.length ? eps.reduce((s, e) => s + f(e), 0) / eps.length : NaN);
  return {
    global_step: run.globalStep,
    'charts/learning_rate': lr,
    'charts/episodes': eps.length,
    'charts/episodic_return': mean((e) => e.return),
    'charts/episodic_length': mean((e) => e.length),
    'charts/episodic_score': mean((e) => e.score),
    'charts/SPS': Math.round((run.o.numSteps * run.env.numEnvs) / ((performance.now() - t0) / 1000)),
    ...m,
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
  const policy = new PPOPolicy(run.agent, run.obsRms, o.clipObs);
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
    if (hooks.rewardFn) ro.rewards.set(checkRewards(await hooks.rewardFn(ro.batch as RolloutBatch), ro.rewards.length));
    normaliseRewards(run, ro);
    const t1 = performance.now();
    const m = update(run, ro, opt, shuffleRng);
    const times = { 'time/rollout_s': (t1 - t0) / 1000, 'time/update_s': (performance.now() - t1) / 1000 };
    const rec = { ...iterationMetrics(run, ro, m, lr, t0), ...times };
    history.push(rec);
    episodes.push(...ro.episodes);
    hooks.onIteration?.(rec, policy);
    if (o.saveEveryIterations > 0 && (it % o.saveEveryIterations === 0 || it === iterations)) {
      const state = {
        iteration: it,
        globalStep: run.globalStep,
        options: o,
        obsRms: run.obsRms?.toJSON() ?? null,
        retRms: run.retRms?.toJSON() ?? null,
        discounted: Array.from(run.discounted),
        nextObs: run.nextObs.map((x) => Array.from(x)),
        shuffleRng: shuffleRng.getState(),
        history,
        episodes,
      };
      lastCheckpoint = writePPOCheckpoint(run, opt, state);
    }
  }
  opt.dispose();
  return { policy, options: o, history, episodes, globalStep: run.globalStep, lastCheckpoint };
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
