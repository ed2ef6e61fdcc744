// The vector environment every pacer environment is: numEnvs copies of one task stepped together, with
// Gymnasium's API (gymnasium/vector/vector_env.py): reset() → obs, step(actions) → obs, reward,
// terminated, truncated, all arrays over the copies.
//   Seeding: copy i is seeded with seed + i, as SyncVectorEnv.reset(seed=s) does, and draws from NumPy's
//     generator (rng.ts), so initial states equal Gymnasium's for the same seed.
//   Time limit: truncated = (steps in the episode ≥ maxEpisodeSteps), as gymnasium.wrappers.TimeLimit
//     (it can be true together with terminated).
//   Autoreset: Gymnasium's SAME_STEP mode (AutoresetMode.SAME_STEP). When a copy's episode ends at a step,
//     that step's reward/terminated/truncated describe the ending, `finalObs[i]` holds the episode's last
//     observation and `obs[i]` already holds the first observation of the next episode (Gymnasium puts the
//     former in info["final_obs"]). No step is ever wasted on a reset, and a learner can bootstrap a
//     truncated episode from finalObs.
//   Ground truth: `episodes[i]` reports each finished episode's Gymnasium return, length, success and the
//     task's score (see each environment's header), kept apart from whatever reward a learner trains on.
import { createFrame, type Frame, type RGB } from '../video/raster.js';
import { NumpyRandom } from './rng.js';

export type Space =
  | { readonly type: 'discrete'; readonly n: number }
  | { readonly type: 'box'; readonly shape: readonly [number]; readonly low: number[]; readonly high: number[] };

export interface EpisodeStats {
  /** Sum of Gymnasium's reward over the episode. */
  return: number;
  length: number;
  /** Whether the task's goal was met (null for tasks without one, e.g. Pendulum). */
  success: boolean | null;
  /** The task's ground-truth score: the return or success (1/0), as the environment's `scoreKind` says. */
  score: number;
}

export interface StepResult {
  /** The observation of each copy (after an autoreset: the new episode's first). */
  obs: Float32Array[];
  /** Gymnasium's reward for the step. */
  reward: Float64Array;
  terminated: boolean[];
  truncated: boolean[];
  /** The last observation of an episode that ended at this step, else null. */
  finalObs: (Float32Array | null)[];
  /** The last state vector (see stateNames) of an episode that ended at this step, else null. */
  finalState: (number[] | null)[];
  /** Statistics of an episode that ended at this step, else null. */
  episodes: (EpisodeStats | null)[];
}

export interface EnvSnapshot {
  id: string;
  states: number[][];
  steps: number[];
  returns: number[];
  rngs: Array<{ state: string; inc: string }>;
}

export interface EnvOptions {
  seed?: number;
  numEnvs?: number;
}

export interface RenderOptions {
  /** Multiply Gymnasium's window size (600×400 or 500×500) by this; sizes are rounded to even pixels. */
  scale?: number;
}

/** Drawing in Gymnasium's pygame coordinates (pixels of the unscaled window, y up), onto a frame. */
export class Canvas {
  constructor(
    readonly frame: Frame,
    readonly scale: number,
  ) {}
  x(px: number): number {
    return px * this.scale;
  }
  y(py: number): number {
    return this.frame.height - py * this.scale;
  }
  pts(p: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
    return p.map(([a, b]) => [this.x(a), this.y(b)]);
  }
}

export abstract class VectorEnv {
  abstract readonly id: string;
  abstract readonly observationSpace: Space;
  abstract readonly actionSpace: Space;
  abstract readonly maxEpisodeSteps: number;
  /** Names of the Gymnasium state vector that setState()/getState() use. */
  abstract readonly stateNames: readonly string[];
  abstract readonly obsNames: readonly string[];
  abstract readonly scoreKind: 'return' | 'success';
  /** Gymnasium's window size in pixels. */
  abstract readonly screen: readonly [number, number];
  readonly numEnvs: number;
  readonly seed: number;
  protected rngs: NumpyRandom[];
  private readonly steps: Int32Array;
  private readonly returns: Float64Array;
  private started = false;
  private pool: ArrayBuffer | null = null;
  private poolAt = 0;

  constructor(opts: EnvOptions) {
    const seed = opts.seed ?? 0;
    const n = opts.numEnvs ?? 1;
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`pacer: makeEnv option seed must be a non-negative integer, got ${seed}`);
    if (!Number.isInteger(n) || n < 1 || n > 4096)
      throw new RangeError(`pacer: makeEnv option numEnvs must be an integer in [1, 4096], got ${n}`);
    this.seed = seed;
    this.numEnvs = n;
    this.rngs = Array.from({ length: n }, (_, i) => new NumpyRandom(seed + i));
    this.steps = new Int32Array(n);
    this.returns = new Float64Array(n);
  }

  // ---- what each environment defines (copy i of the vector)
  /** Draw copy i's initial state from this.rngs[i]. */
  protected abstract resetEnv(i: number): void;
  /** Advance copy i by one (validated) action: an index, or shape[0] numbers; returns Gymnasium's reward. */
  protected abstract stepEnv(i: number, action: number | ArrayLike<number>): number;
  /** Whether copy i's last step reached a terminal state. */
  protected abstract terminal(i: number): boolean;
  protected abstract writeObs(i: number, out: Float32Array): void;
  /** The goal test at the end of copy i's episode (null when the task has none). */
  protected abstract success(i: number, terminated: boolean, truncated: boolean): boolean | null;
  protected abstract readState(i: number): number[];
  protected abstract writeState(i: number, s: number[]): void;
  protected abstract draw(i: number, c: Canvas): void;

  get obsDim(): number {
    return this.observationSpace.type === 'box' ? this.observationSpace.shape[0] : 1;
  }

  /** Start a new episode in every copy (re-seeding them with seed + i when a seed is given). */
  reset(opts: { seed?: number } = {}): { obs: Float32Array[] } {
    if (opts.seed !== undefined) {
      if (!Number.isSafeInteger(opts.seed) || opts.seed < 0)
        throw new RangeError(`pacer: reset option seed must be a non-negative integer, got ${opts.seed}`);
      this.rngs = Array.from({ length: this.numEnvs }, (_, i) => new NumpyRandom((opts.seed as number) + i));
    }
    const obs = this.allocObs();
    for (let i = 0; i < this.numEnvs; i++) {
      this.resetEnv(i);
      this.steps[i] = 0;
      this.returns[i] = 0;
      this.writeObs(i, obs[i]);
    }
    this.started = true;
    return { obs };
  }

  step(actions: ArrayLike<number | ArrayLike<number>>): StepResult {
    if (!this.started) throw new Error(`pacer: ${this.id}: call reset() before step()`);
    const acts = this.parseActions(actions);
    const n = this.numEnvs;
    // fresh arrays every step (callers may keep them), filled by plain loops: Array.from and fill() cost
    // more than the dynamics of the classic tasks
    const { obs, reward } = this.fresh();
    const terminatedArr: boolean[] = new Array(n);
    const truncatedArr: boolean[] = new Array(n);
    const finalObs: (Float32Array | null)[] = new Array(n);
    const finalState: (number[] | null)[] = new Array(n);
    const episodes: (EpisodeStats | null)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = this.stepEnv(i, acts[i]);
      const terminated = this.terminal(i);
      this.steps[i]++;
      this.returns[i] += r;
      const truncated = this.steps[i] >= this.maxEpisodeSteps;
      reward[i] = r;
      terminatedArr[i] = terminated;
      truncatedArr[i] = truncated;
      finalObs[i] = null;
      finalState[i] = null;
      episodes[i] = null;
      this.writeObs(i, obs[i]);
      if (terminated || truncated) {
        const success = this.success(i, terminated, truncated);
        const ret = this.returns[i];
        const score = this.scoreKind === 'return' ? ret : success ? 1 : 0;
        episodes[i] = { return: ret, length: this.steps[i], success, score };
        finalObs[i] = new Float32Array(obs[i]);
        finalState[i] = this.readState(i);
        this.resetEnv(i);
        this.steps[i] = 0;
        this.returns[i] = 0;
        this.writeObs(i, obs[i]);
      }
    }
    return { obs, reward, terminated: terminatedArr, truncated: truncatedArr, finalObs, finalState, episodes };
  }

  /**
   * Set each copy's Gymnasium state vector (see stateNames), as assigning env.unwrapped.state does in
   * Gymnasium: the episode's step count and return run on. Returns the observations of the new states.
   */
  setState(states: ArrayLike<ArrayLike<number>>): { obs: Float32Array[] } {
    if (!this.started) throw new Error(`pacer: ${this.id}: call reset() before setState()`);
    if (states.length !== this.numEnvs)
      throw new RangeError(`pacer: ${this.id}.setState needs ${this.numEnvs} state vectors, got ${states.length}`);
    const k = this.stateNames.length;
    for (let i = 0; i < this.numEnvs; i++) {
      const s = Array.from(states[i] ?? [], Number);
      if (s.length !== k || !s.every(Number.isFinite))
        throw new RangeError(
          `pacer: ${this.id}.setState: state ${i} must be ${k} finite numbers ` +
            `[${this.stateNames.join(', ')}], got [${s}]`,
        );
    }
    const obs = this.allocObs();
    for (let i = 0; i < this.numEnvs; i++) {
      this.writeState(i, Array.from(states[i], Number));
      this.writeObs(i, obs[i]);
    }
    return { obs };
  }

  /** Each copy's Gymnasium state vector. */
  getState(): number[][] {
    if (!this.started) throw new Error(`pacer: ${this.id}: call reset() before getState()`);
    return Array.from({ length: this.numEnvs }, (_, i) => this.readState(i));
  }

  /**
   * Everything that determines the future of the vector (state vectors, episode step counts and returns,
   * generator states), as plain JSON, for checkpoints. Environments whose state is not a vector throw.
   */
  snapshot(): EnvSnapshot {
    if (!this.started) throw new Error(`pacer: ${this.id}: call reset() before snapshot()`);
    return {
      id: this.id,
      states: this.getState(),
      steps: Array.from(this.steps),
      returns: Array.from(this.returns),
      rngs: this.rngs.map((r) => r.getState()),
    };
  }

  restore(s: EnvSnapshot): void {
    if (s.id !== this.id || s.states.length !== this.numEnvs)
      throw new Error(
        `pacer: ${this.id}.restore: the snapshot is of ${s.id} with ${s.states.length} copies, ` +
          `this vector has ${this.numEnvs}`,
      );
    this.started = true;
    this.setState(s.states);
    this.steps.set(s.steps);
    this.returns.set(s.returns);
    s.rngs.forEach((r, i) => this.rngs[i].setState(r));
  }

  /** Copy i's current state drawn as Gymnasium's rgb_array render does (RGB frame). */
  render(i = 0, opts: RenderOptions = {}): Frame {
    if (!this.started) throw new Error(`pacer: ${this.id}: call reset() before render()`);
    if (!Number.isInteger(i) || i < 0 || i >= this.numEnvs)
      throw new RangeError(`pacer: ${this.id}.render: env index ${i} is outside [0, ${this.numEnvs})`);
    const scale = opts.scale ?? 1;
    if (!(scale > 0 && scale <= 4)) throw new RangeError(`pacer: render option scale must be in (0, 4], got ${scale}`);
    const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
    const c = new Canvas(createFrame(even(this.screen[0]), even(this.screen[1]), WHITE), scale);
    this.draw(i, c);
    return c.frame;
  }

  /**
   * Fresh memory for a step's observations and rewards: views on a pooled buffer that holds POOL_STEPS steps
   * (a new buffer when it is used up; old views keep theirs alive), so a step allocates views, not buffers.
   */
  private fresh(): { obs: Float32Array[]; reward: Float64Array } {
    const d = this.obsDim;
    const n = this.numEnvs;
    const bytes = 8 * n + 4 * n * d + ((4 * n * d) % 8);
    if (!this.pool || this.poolAt + bytes > this.pool.byteLength) {
      this.pool = new ArrayBuffer(bytes * POOL_STEPS);
      this.poolAt = 0;
    }
    const reward = new Float64Array(this.pool, this.poolAt, n);
    const at = this.poolAt + 8 * n;
    const obs: Float32Array[] = new Array(n);
    for (let i = 0; i < n; i++) obs[i] = new Float32Array(this.pool, at + i * d * 4, d);
    this.poolAt += bytes;
    return { obs, reward };
  }

  private allocObs(): Float32Array[] {
    return this.fresh().obs;
  }

  /** Check the actions; nested ones are passed on as given (no copy), flat ones are split per copy. */
  private parseActions(actions: ArrayLike<number | ArrayLike<number>>): ArrayLike<number | ArrayLike<number>> {
    const n = this.numEnvs;
    const sp = this.actionSpace;
    if (!actions || actions.length === undefined)
      throw new TypeError(`pacer: ${this.id}.step needs an array of ${n} actions`);
    if (sp.type === 'discrete') {
      if (actions.length !== n)
        throw new RangeError(`pacer: ${this.id}.step needs ${n} actions, got ${actions.length}`);
      for (let i = 0; i < n; i++) {
        const a = actions[i];
        if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= sp.n)
          throw new RangeError(`pacer: ${this.id} action ${i} must be an integer in [0, ${sp.n}), got ${String(a)}`);
      }
      return actions;
    }
    const d = sp.shape[0];
    const bad = (i: number, a: unknown) =>
      new RangeError(`pacer: ${this.id} action ${i} must be ${d} finite numbers, got ${String(a)}`);
    if (typeof actions[0] === 'number') {
      if (actions.length !== n * d)
        throw new RangeError(
          `pacer: ${this.id}.step needs ${n} actions of ${d} numbers (nested, or flat ${n * d}), got ${actions.length}`,
        );
      return Array.from({ length: n }, (_, i) => {
        const v = Array.from({ length: d }, (_, j) => actions[i * d + j] as number);
        if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(i, v);
        return v;
      });
    }
    if (actions.length !== n)
      throw new RangeError(
        `pacer: ${this.id}.step needs ${n} actions of ${d} numbers (nested, or flat ${n * d}), got ${actions.length}`,
      );
    for (let i = 0; i < n; i++) {
      const a = actions[i] as ArrayLike<number>;
      if (!a || typeof a !== 'object' || a.length !== d) throw bad(i, a);
      for (let j = 0; j < d; j++) if (typeof a[j] !== 'number' || !Number.isFinite(a[j])) throw bad(i, a);
    }
    return actions;
  }
}

/** Steps of observations and rewards per pooled buffer (see VectorEnv.fresh). */
const POOL_STEPS = 64;

export const WHITE: RGB = [255, 255, 255];
export const BLACK: RGB = [0, 0, 0];

/** Gymnasium's angle_normalize (pendulum.py): x wrapped into [−π, π). */
export function angleNormalize(x: number): number {
  const m = (x + Math.PI) % (2 * Math.PI);
  return (m < 0 ? m + 2 * Math.PI : m) - Math.PI;
}
