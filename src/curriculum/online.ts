// Online curricula: samplers that choose what the policy practises next from feedback on what it
// just did. One interface: next(n) draws item indices; update(feedback) takes per-item results of
// the last batch (reward mean/variance over the group, mean |advantage|, pass rate); state() /
// load() round-trip through checkpoints; metrics() is logged as "curriculum/…".
//   uniform   — items uniformly at random.
//   staged    — levels in order: level k until its pass rate reaches `advance_at` (or steps run out).
//   SEC (arXiv 2505.14970) — arms = categories (difficulty levels); reward r(c) = mean |advantage| of
//     c's items in the batch; Q(c) ← α·r(c) + (1−α)·Q(c); categories drawn by softmax(Q/τ)
//     (α = 0.5, τ = 0.2 by default: unconfirmed by the paper, configurable).
//   DUMP (ZhentingWang/DUMP) — arms = data sources; a window of the last 300 mean |advantage| per
//     arm; UCB_j = mean_j + sqrt(2 ln(N+1)/(n_j+1)); sources drawn by softmax(UCB/0.1).
//   AdaRFT — target difficulty T ← clip(T + η·tanh(α·(r̄ − β)), d_min, d_max); the batch is the
//     items whose difficulty is closest to T (β 0.5, α 2, η 50, range [0, 100], T₀ 0).
//   balanced (arXiv 2504.03380) — uniform draws, keeping only items whose last group pass rate lies
//     in (low, high) (0.2, 0.8) once measured; items never seen are kept.
//   VCRL — prefers items with high group-reward variance (weight ∝ variance + 0.01) and replays
//     high-variance items from a memory bank (`replay_fraction` of each batch, bank of 256).
import { rng } from '../data/random.js';
import { ConfigError } from '../util/errors.js';
import { closest, k, validateOptions, type Spec, type ValuesOf } from '../util/spec.js';

export interface CurriculumItem {
  index: number;
  difficulty?: number;
  category?: string | number;
}
export interface ItemFeedback {
  index: number;
  rewardMean: number;
  rewardVar: number;
  meanAbsAdvantage: number;
  passRate: number;
}

export interface Sampler {
  readonly name: string;
  next(n: number): number[];
  update(feedback: ItemFeedback[]): void;
  metrics(): Record<string, number>;
  state(): unknown;
  load(state: unknown): void;
}

type Rand = { seed: number; calls: number };

/** A seeded random source whose position is part of the sampler state. */
export class SamplerRandom {
  private r: () => number;
  constructor(private s: Rand) {
    this.r = rng(s.seed);
    for (let i = 0; i < s.calls; i++) this.r();
  }
  next(): number {
    this.s.calls++;
    return this.r();
  }
  pick<T>(xs: T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  weighted(w: number[]): number {
    const total = w.reduce((a, b) => a + b, 0);
    let u = this.next() * total;
    for (let i = 0; i < w.length; i++) {
      u -= w[i];
      if (u <= 0) return i;
    }
    return w.length - 1;
  }
  get snapshot(): Rand {
    return { ...this.s };
  }
}

function softmax(xs: number[], tau: number): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp((x - m) / tau));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function groupBy(items: CurriculumItem[], key: (i: CurriculumItem) => string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const it of items) {
    const k = key(it);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(it.index);
  }
  return new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** A base for samplers: a seeded random source (`this.rand`: next, pick, weighted) and step count whose
 * positions round-trip through checkpoints; subclasses add `extra()` / `loadExtra()` for their own state. */
export abstract class BaseSampler implements Sampler {
  abstract readonly name: string;
  protected rand: SamplerRandom;
  protected steps = 0;
  constructor(
    protected readonly items: CurriculumItem[],
    seed: number,
  ) {
    if (items.length === 0) throw new Error('pacer: a curriculum needs at least one item');
    this.rand = new SamplerRandom({ seed, calls: 0 });
  }
  abstract next(n: number): number[];
  update(_f: ItemFeedback[]): void {
    this.steps++;
  }
  metrics(): Record<string, number> {
    return {};
  }
  protected extra(): unknown {
    return null;
  }
  protected loadExtra(_s: unknown): void {}
  state(): unknown {
    return { rand: this.rand.snapshot, steps: this.steps, extra: this.extra() };
  }
  load(s: unknown): void {
    const st = s as { rand: Rand; steps: number; extra: unknown };
    this.rand = new SamplerRandom(st.rand);
    this.steps = st.steps;
    this.loadExtra(st.extra);
  }
}

export class UniformSampler extends BaseSampler {
  readonly name = 'uniform';
  next(n: number): number[] {
    return Array.from({ length: n }, () => this.rand.pick(this.items).index);
  }
}

export class StagedSampler extends BaseSampler {
  readonly name = 'staged';
  private level = 0;
  private readonly levels: number[][];
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly advanceAt = 0.8,
  ) {
    super(items, seed);
    this.levels = [...groupBy(items, (i) => String(i.difficulty ?? i.category ?? 0).padStart(8, '0')).values()];
  }
  next(n: number): number[] {
    return Array.from({ length: n }, () => this.rand.pick(this.levels[this.level]));
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    const inLevel = new Set(this.levels[this.level]);
    const mine = f.filter((x) => inLevel.has(x.index));
    if (
      mine.length &&
      mine.reduce((a, x) => a + x.passRate, 0) / mine.length >= this.advanceAt &&
      this.level < this.levels.length - 1
    )
      this.level++;
  }
  override metrics(): Record<string, number> {
    return { 'curriculum/level': this.level };
  }
  protected override extra(): unknown {
    return { level: this.level };
  }
  protected override loadExtra(s: unknown): void {
    this.level = (s as { level: number }).level;
  }
}

export class SECSampler extends BaseSampler {
  readonly name = 'sec';
  private readonly arms: Map<string, number[]>;
  private q: number[];
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly alpha = 0.5,
    private readonly tau = 0.2,
  ) {
    super(items, seed);
    this.arms = groupBy(items, (i) => String(i.category ?? i.difficulty ?? 0));
    this.q = [...this.arms.keys()].map(() => 0);
  }
  private armOf = (idx: number): number => {
    let k = 0;
    for (const ids of this.arms.values()) {
      if (ids.includes(idx)) return k;
      k++;
    }
    return -1;
  };
  next(n: number): number[] {
    const p = softmax(this.q, this.tau);
    const arms = [...this.arms.values()];
    return Array.from({ length: n }, () => this.rand.pick(arms[this.rand.weighted(p)]));
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    const sums = this.q.map(() => [0, 0]);
    for (const x of f) {
      const a = this.armOf(x.index);
      if (a >= 0) {
        sums[a][0] += x.meanAbsAdvantage;
        sums[a][1]++;
      }
    }
    this.q = this.q.map((q, a) => (sums[a][1] ? this.alpha * (sums[a][0] / sums[a][1]) + (1 - this.alpha) * q : q));
  }
  override metrics(): Record<string, number> {
    const p = softmax(this.q, this.tau);
    return Object.fromEntries(
      [...this.arms.keys()].flatMap((k, a) => [
        [`curriculum/q/${k}`, this.q[a]],
        [`curriculum/p/${k}`, p[a]],
      ]),
    );
  }
  protected override extra(): unknown {
    return { q: this.q };
  }
  protected override loadExtra(s: unknown): void {
    this.q = (s as { q: number[] }).q;
  }
}

export class DUMPSampler extends BaseSampler {
  readonly name = 'dump';
  private readonly arms: Map<string, number[]>;
  private windows: number[][];
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly window = 300,
    private readonly tau = 0.1,
  ) {
    super(items, seed);
    this.arms = groupBy(items, (i) => String(i.category ?? i.difficulty ?? 0));
    this.windows = [...this.arms.keys()].map(() => []);
  }
  private ucb(): number[] {
    const N = this.windows.reduce((a, w) => a + w.length, 0);
    return this.windows.map(
      (w) =>
        (w.length ? w.reduce((a, b) => a + b, 0) / w.length : 0) + Math.sqrt((2 * Math.log(N + 1)) / (w.length + 1)),
    );
  }
  next(n: number): number[] {
    const p = softmax(this.ucb(), this.tau);
    const arms = [...this.arms.values()];
    return Array.from({ length: n }, () => this.rand.pick(arms[this.rand.weighted(p)]));
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    const keys = [...this.arms.values()];
    for (const x of f) {
      const a = keys.findIndex((ids) => ids.includes(x.index));
      if (a < 0) continue;
      this.windows[a].push(x.meanAbsAdvantage);
      if (this.windows[a].length > this.window) this.windows[a].shift();
    }
  }
  override metrics(): Record<string, number> {
    return Object.fromEntries([...this.arms.keys()].map((k, a) => [`curriculum/ucb/${k}`, this.ucb()[a]]));
  }
  protected override extra(): unknown {
    return { windows: this.windows };
  }
  protected override loadExtra(s: unknown): void {
    this.windows = (s as { windows: number[][] }).windows;
  }
}

export class AdaRFTSampler extends BaseSampler {
  readonly name = 'adarft';
  target: number;
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly o = { beta: 0.5, alpha: 2, eta: 50, min: 0, max: 100, t0: 0 },
  ) {
    super(items, seed);
    if (items.some((i) => typeof i.difficulty !== 'number'))
      throw new Error('pacer: AdaRFT needs a numeric difficulty for every item');
    this.target = o.t0;
  }
  next(n: number): number[] {
    // the n items closest to the target difficulty (ties broken at random)
    const scored = this.items.map(
      (it) => [Math.abs(it.difficulty! - this.target), this.rand.next(), it.index] as const,
    );
    scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return Array.from({ length: n }, (_, i) => scored[i % scored.length][2]);
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    if (!f.length) return;
    const rbar = f.reduce((a, x) => a + x.rewardMean, 0) / f.length;
    this.target = Math.min(
      this.o.max,
      Math.max(this.o.min, this.target + this.o.eta * Math.tanh(this.o.alpha * (rbar - this.o.beta))),
    );
  }
  override metrics(): Record<string, number> {
    return { 'curriculum/target_difficulty': this.target };
  }
  protected override extra(): unknown {
    return { target: this.target };
  }
  protected override loadExtra(s: unknown): void {
    this.target = (s as { target: number }).target;
  }
}

export class BalancedSampler extends BaseSampler {
  readonly name = 'balanced';
  private pass = new Map<number, number>();
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly low = 0.2,
    private readonly high = 0.8,
  ) {
    super(items, seed);
  }
  private eligible(): number[] {
    const ok = this.items
      .filter((it) => {
        const p = this.pass.get(it.index);
        return p === undefined || (p > this.low && p < this.high);
      })
      .map((i) => i.index);
    return ok.length ? ok : this.items.map((i) => i.index);
  }
  next(n: number): number[] {
    const e = this.eligible();
    return Array.from({ length: n }, () => this.rand.pick(e));
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    for (const x of f) this.pass.set(x.index, x.passRate);
  }
  override metrics(): Record<string, number> {
    return { 'curriculum/eligible_fraction': this.eligible().length / this.items.length };
  }
  protected override extra(): unknown {
    return { pass: [...this.pass] };
  }
  protected override loadExtra(s: unknown): void {
    this.pass = new Map((s as { pass: [number, number][] }).pass);
  }
}

export class VCRLSampler extends BaseSampler {
  readonly name = 'vcrl';
  private variance = new Map<number, number>();
  private bank: number[] = [];
  constructor(
    items: CurriculumItem[],
    seed: number,
    private readonly replayFraction = 0.25,
    private readonly bankSize = 256,
  ) {
    super(items, seed);
  }
  next(n: number): number[] {
    const replay = this.bank.length ? Math.floor(n * this.replayFraction) : 0;
    const out = Array.from({ length: replay }, () => this.rand.pick(this.bank));
    const w = this.items.map((it) => (this.variance.get(it.index) ?? 0.25) + 0.01);
    while (out.length < n) out.push(this.items[this.rand.weighted(w)].index);
    return out;
  }
  override update(f: ItemFeedback[]): void {
    super.update(f);
    for (const x of f) {
      this.variance.set(x.index, x.rewardVar);
      if (x.rewardVar > 0.1 && !this.bank.includes(x.index)) {
        this.bank.push(x.index);
        if (this.bank.length > this.bankSize) this.bank.shift();
      }
    }
  }
  override metrics(): Record<string, number> {
    return { 'curriculum/bank_size': this.bank.length };
  }
  protected override extra(): unknown {
    return { variance: [...this.variance], bank: this.bank };
  }
  protected override loadExtra(s: unknown): void {
    const x = s as { variance: [number, number][]; bank: number[] };
    this.variance = new Map(x.variance);
    this.bank = x.bank;
  }
}

export const SAMPLERS = ['uniform', 'staged', 'sec', 'dump', 'adarft', 'balanced', 'vcrl'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

const unit = { gt: 0, max: 1 };

/** Each sampler's options (curriculum_options), with defaults and docs. */
export const SAMPLER_OPTIONS = {
  uniform: {},
  staged: { advance_at: k.num(0.8, 'pass rate of the current level that moves to the next', unit) },
  sec: {
    alpha: k.num(0.5, 'step size of the Q update Q <- alpha*r + (1-alpha)*Q', unit),
    tau: k.num(0.2, 'softmax temperature over the arms', { gt: 0 }),
  },
  dump: {
    window: k.int(300, 'recent |advantage| values kept per arm', { min: 1 }),
    tau: k.num(0.1, 'softmax temperature over the UCB scores', { gt: 0 }),
  },
  adarft: {
    beta: k.num(0.5, 'target reward: the target difficulty rises when the mean reward is above it'),
    alpha: k.num(2, 'sensitivity inside tanh', { gt: 0 }),
    eta: k.num(50, 'step size of the target difficulty', { gt: 0 }),
    min: k.num(0, 'lowest target difficulty'),
    max: k.num(100, 'highest target difficulty'),
    t0: k.num(0, 'initial target difficulty'),
  },
  balanced: {
    low: k.num(0.2, 'keep items whose last pass rate is above this', { min: 0, lt: 1 }),
    high: k.num(0.8, '… and below this', { gt: 0, max: 1 }),
  },
  vcrl: {
    replay_fraction: k.num(0.25, 'share of each batch replayed from the high-variance memory bank', { min: 0, max: 1 }),
    bank_size: k.int(256, 'memory bank size', { min: 1 }),
  },
} satisfies Record<SamplerName, Spec>;

/**
 * A sampler by name (`curriculum_sampler: NAME` in a config): its options (`curriculum_options`, a spec
 * of typed keys with defaults and docs, validated when the config loads) and how to make it.
 */
export interface SamplerEntry<S extends Spec = Spec> {
  options: S;
  make: (items: CurriculumItem[], seed: number, options: ValuesOf<S>) => Sampler;
  /** Checks across options once each is valid: what is wrong (naming the options), or null. */
  check?: (options: ValuesOf<S>) => string | null;
}

const REGISTRY = new Map<string, SamplerEntry>();

/**
 * Register a curriculum sampler under `name` so configs can use it (curriculum_sampler: name) with its
 * options checked like the built-in ones. Built-in names cannot be replaced; registering a name twice
 * is an error unless `replace` is set.
 */
export function registerSampler<S extends Spec>(name: string, entry: SamplerEntry<S>, o: { replace?: boolean } = {}) {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
    throw new ConfigError(`pacer: sampler name '${name}' must be letters, digits, '_' or '-'`);
  const builtIn = (SAMPLERS as readonly string[]).includes(name) && REGISTRY.has(name);
  if (REGISTRY.has(name) && (builtIn || !o.replace))
    throw new ConfigError(
      `pacer: curriculum sampler '${name}' is already registered` +
        (builtIn ? ' (a built-in)' : ' (pass { replace: true })'),
    );
  REGISTRY.set(name, entry as unknown as SamplerEntry);
}

/** The names a config may give as curriculum_sampler: the built-ins, then registered ones. */
export function samplerNames(): string[] {
  return [...REGISTRY.keys()];
}

const addBuiltIn = <S extends Spec>(
  name: SamplerName,
  make: SamplerEntry<S>['make'],
  check?: SamplerEntry<S>['check'],
) => registerSampler(name, { options: SAMPLER_OPTIONS[name] as unknown as S, make, check });
addBuiltIn('uniform', (items, seed) => new UniformSampler(items, seed));
addBuiltIn<typeof SAMPLER_OPTIONS.staged>('staged', (items, seed, o) => new StagedSampler(items, seed, o.advance_at));
addBuiltIn<typeof SAMPLER_OPTIONS.sec>('sec', (items, seed, o) => new SECSampler(items, seed, o.alpha, o.tau));
addBuiltIn<typeof SAMPLER_OPTIONS.dump>('dump', (items, seed, o) => new DUMPSampler(items, seed, o.window, o.tau));
addBuiltIn<typeof SAMPLER_OPTIONS.adarft>(
  'adarft',
  (items, seed, o) => new AdaRFTSampler(items, seed, { ...o }),
  (o) => (o.min <= o.max ? null : `curriculum_options.min (${o.min}) must not exceed max (${o.max})`),
);
addBuiltIn<typeof SAMPLER_OPTIONS.balanced>(
  'balanced',
  (items, seed, o) => new BalancedSampler(items, seed, o.low, o.high),
  (o) => (o.low < o.high ? null : `curriculum_options.low (${o.low}) must be below high (${o.high})`),
);
addBuiltIn<typeof SAMPLER_OPTIONS.vcrl>(
  'vcrl',
  (items, seed, o) => new VCRLSampler(items, seed, o.replay_fraction, o.bank_size),
);

function entryOf(name: string, where: string): SamplerEntry {
  const entry = REGISTRY.get(name);
  if (entry) return entry;
  const near = closest(name, samplerNames());
  throw new ConfigError(
    `pacer: ${where}: unknown curriculum sampler '${name}'${near ? ` (did you mean '${near}'?)` : ''} ` +
      `(expected ${samplerNames().join(', ')}, or a name given to registerSampler)`,
    { file: where, key: 'curriculum_sampler' },
  );
}

/** A sampler's options validated (unknown keys named, ranges checked) and completed with defaults. */
export function samplerOptions(name: string, raw: Record<string, unknown> | null, where = 'config') {
  const entry = entryOf(name, where);
  const o = validateOptions(entry.options, raw ?? {}, {
    where,
    owner: `curriculum sampler '${name}'`,
    prefix: 'curriculum_options.',
  });
  const why = entry.check?.(o);
  if (why) throw new ConfigError(`pacer: ${where}: ${why}`, { file: where, key: 'curriculum_options' });
  return o as Record<string, any>;
}

/** The sampler a config names (built-in or registered), with its options validated. */
export function makeSampler(
  name: string,
  items: CurriculumItem[],
  seed: number,
  options: Record<string, unknown> = {},
): Sampler {
  return entryOf(name, 'config').make(items, seed, samplerOptions(name, options));
}
