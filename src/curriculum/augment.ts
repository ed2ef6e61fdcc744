// DeepVideo-R1's difficulty-aware augmentation (arXiv 2506.07464, Eq. 9), as a hook on the online
// trainer's prompts. A window keeps the rewards of the last W = 100 samples; for an item x seen
// before, ΔR(x) = mean(window) − mean group reward of x at its last visit.
//   ΔR > 0 (x is harder than what the policy currently solves): a partial hint — the first
//     `hint_fraction` of the best-reward completion seen for x — is added to the prompt
//     (`hint_template`, "{hint}" replaced; for conversations, appended to the last user message);
//   ΔR < 0 (x is easy): the prompt is perturbed with strength |ΔR| (the paper perturbs frames; the
//     mapping is not given). The default text perturbation masks a fraction `mask_max`·|ΔR| of the
//     prompt's non-space characters with `mask_char`; a custom `perturb` can be supplied in code
//     (e.g. frame noise for video prompts).
// Items never seen, or with |ΔR| below `min_delta`, pass through unchanged. Rewards still see the
// item's own columns (the reference answer does not change). State round-trips through checkpoints.
import { rng } from '../data/random.js';
import { k, validateOptions, type Spec, type ValuesOf } from '../util/spec.js';

export type PromptValue = string | Array<{ role: string; content: string }>;

/** augmentation_options, with defaults and docs. */
export const AUGMENT_OPTIONS = {
  window: k.int(100, 'rewards of the last W samples form the running mean', { min: 1 }),
  hint_fraction: k.num(0.5, 'share of the best completion given as a hint to hard items', { gt: 0, max: 1 }),
  hint_template: {
    ...k.str('\nHint: {hint}\n', "text appended to a hard item's prompt; {hint} is replaced"),
    check: (v: string) => (v.includes('{hint}') ? null : "must contain '{hint}'"),
  },
  mask_max: k.num(0.3, 'share of characters masked at strength 1 (default perturbation)', { min: 0, max: 1 }),
  mask_char: k.str('_', 'the masking character (default perturbation)'),
  min_delta: k.num(0, 'items with |ΔR| at or below this pass unchanged', { min: 0 }),
} satisfies Spec;
export type AugmentOptions = ValuesOf<typeof AUGMENT_OPTIONS>;
export const AUGMENT_DEFAULTS: AugmentOptions = validateOptions(AUGMENT_OPTIONS, {}, { where: '', owner: '' });

/** augmentation_options validated and completed with defaults. */
export function augmentOptions(raw: Record<string, unknown> | null, where = 'config'): AugmentOptions {
  return validateOptions(AUGMENT_OPTIONS, raw ?? {}, {
    where,
    owner: 'augmentation difficulty_aware',
    prefix: 'augmentation_options.',
  });
}

export interface AugmentState {
  window: number[];
  last: Record<string, { mean: number; best: string; bestReward: number }>;
  calls: number;
  seed: number;
}

export type Perturb = (prompt: PromptValue, strength: number, rand: () => number) => PromptValue;

export function maskCharacters(maskChar: string, maxFraction: number): Perturb {
  return (prompt, strength, rand) => {
    const frac = Math.min(1, maxFraction * strength);
    const mask = (s: string) => [...s].map((c) => (c.trim() && rand() < frac ? maskChar : c)).join('');
    if (typeof prompt === 'string') return mask(prompt);
    return prompt.map((m, i) =>
      i === prompt.length - 1 && m.role === 'user' ? { ...m, content: mask(m.content) } : m,
    );
  };
}

export class DifficultyAugmenter {
  readonly o: AugmentOptions;
  private st: AugmentState;
  private rand: () => number;
  private counts = { hinted: 0, perturbed: 0, total: 0 };
  constructor(
    options: Partial<AugmentOptions> = {},
    seed = 0,
    private readonly perturb?: Perturb,
  ) {
    this.o = augmentOptions(options as Record<string, unknown>);
    this.st = { window: [], last: {}, calls: 0, seed };
    this.rand = rng(seed);
    this.perturb ??= maskCharacters(this.o.mask_char, this.o.mask_max);
  }

  /** ΔR for an item (null when it has not been seen yet). */
  delta(index: number): number | null {
    const l = this.st.last[index];
    if (!l || this.st.window.length === 0) return null;
    return this.st.window.reduce((a, b) => a + b, 0) / this.st.window.length - l.mean;
  }

  /** The prompt to roll out for an item. */
  apply(index: number, prompt: PromptValue): PromptValue {
    this.counts.total++;
    const d = this.delta(index);
    if (d === null || Math.abs(d) <= this.o.min_delta) return prompt;
    if (d > 0) {
      const l = this.st.last[index];
      // a hint needs a path that did better than the item's group did on average
      if (!(l.bestReward > l.mean) || !l.best.trim()) return prompt;
      const hint = l.best.slice(0, Math.max(1, Math.floor(l.best.length * this.o.hint_fraction)));
      this.counts.hinted++;
      const text = this.o.hint_template.replace('{hint}', hint);
      if (typeof prompt === 'string') return prompt + text;
      const lastUser = prompt.map((m) => m.role).lastIndexOf('user');
      return prompt.map((m, i) => (i === lastUser ? { ...m, content: m.content + text } : m));
    }
    this.counts.perturbed++;
    return this.perturb!(prompt, -d, () => {
      this.st.calls++;
      return this.rand();
    });
  }

  /** Feedback after scoring: each item's group of completions and rewards. */
  update(groups: Array<{ index: number; completions: string[]; rewards: number[] }>): void {
    for (const g of groups) {
      const mean = g.rewards.reduce((a, b) => a + b, 0) / Math.max(1, g.rewards.length);
      let bi = 0;
      g.rewards.forEach((r, i) => {
        if (r > g.rewards[bi]) bi = i;
      });
      const prev = this.st.last[g.index];
      const keep = prev && prev.bestReward > g.rewards[bi];
      this.st.last[g.index] = {
        mean,
        best: keep ? prev.best : (g.completions[bi] ?? ''),
        bestReward: keep ? prev.bestReward : (g.rewards[bi] ?? 0),
      };
      this.st.window.push(...g.rewards);
    }
    if (this.st.window.length > this.o.window) this.st.window.splice(0, this.st.window.length - this.o.window);
  }

  metrics(): Record<string, number> {
    const n = Math.max(1, this.counts.total);
    const m = {
      'augment/hinted_frac': this.counts.hinted / n,
      'augment/perturbed_frac': this.counts.perturbed / n,
      'augment/window_reward_mean': this.st.window.reduce((a, b) => a + b, 0) / Math.max(1, this.st.window.length),
    };
    this.counts = { hinted: 0, perturbed: 0, total: 0 };
    return m;
  }

  state(): AugmentState {
    return JSON.parse(JSON.stringify(this.st));
  }
  load(s: AugmentState): void {
    this.st = JSON.parse(JSON.stringify(s));
    this.rand = rng(this.st.seed);
    for (let i = 0; i < this.st.calls; i++) this.rand();
  }
}
