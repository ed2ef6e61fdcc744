// A project's settings: what is asked (the task), how many people answer each item, how pairs are
// chosen and how ratings are fitted. Kept as JSON in the project's own database; given as JSON on
// the API or as flags on the CLI, validated here with errors that name the setting.
import { TIE_MODELS, type TieModel } from '../preferences/bradley-terry.js';

export const TASK_KINDS = ['pairwise', 'best_worst', 'ranking', 'likert'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const PAIR_MODES = ['all', 'active'] as const;

export interface ProjectSettings {
  /** pairwise (A/B/tie/both bad), best_worst of K, ranking (ties allowed), likert (1–7). */
  task: TaskKind;
  title: string;
  /** Markdown shown above every task. */
  guidelines: string;
  /** Annotators per task. */
  overlap: number;
  /** pairwise: every pair of every prompt ('all'), or the most informative next ('active'). */
  pairs: (typeof PAIR_MODES)[number];
  /** active: at most this many pair tasks (null: as many as there are pairs). */
  budget: number | null;
  /** How ratings count ties: half wins (Arena) or Davidson's model. */
  ties: TieModel;
  /** Virtual ties per item against the mean in the rating fit (0: the plain MLE). */
  prior: number;
  /** Active selection's fairness floor (share of the mean comparison count). */
  fairness: number;
  /** Seconds a served task stays reserved for its annotator. */
  lease_s: number;
  /** Every N-th task served is a gold item when one is left. */
  gold_every: number;
  allow_tie: boolean;
  allow_both_bad: boolean;
  /** Show which system made each candidate after the vote. */
  reveal: boolean;
}

export const DEFAULT_SETTINGS: ProjectSettings = {
  task: 'pairwise',
  title: '',
  guidelines: '',
  overlap: 1,
  pairs: 'all',
  budget: null,
  ties: 'half',
  prior: 1,
  fairness: 0.5,
  lease_s: 600,
  gold_every: 5,
  allow_tie: true,
  allow_both_bad: true,
  reveal: true,
};

type Check = (v: unknown) => string | null;
const int =
  (min: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min ? null : `an integer >= ${min}`;
const num =
  (min: number, max = Infinity): Check =>
  (v) =>
    typeof v === 'number' && v >= min && v <= max ? null : `a number in [${min}, ${max}]`;
const oneOf =
  (xs: readonly string[]): Check =>
  (v) =>
    xs.includes(v as string) ? null : `one of ${xs.join(', ')}`;
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const text =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length <= max ? null : `a string of at most ${max} characters`;

const CHECKS: Record<keyof ProjectSettings, Check> = {
  task: oneOf(TASK_KINDS),
  title: text(200),
  guidelines: text(20_000),
  overlap: int(1),
  pairs: oneOf(PAIR_MODES),
  budget: (v) => (v === null ? null : int(1)(v)),
  ties: oneOf(TIE_MODELS),
  prior: num(0, 1e6),
  fairness: num(0, 1),
  lease_s: int(1),
  gold_every: int(1),
  allow_tie: bool,
  allow_both_bad: bool,
  reveal: bool,
};

/** Validate settings (unknown keys refused), filling defaults from `base`. */
export function parseSettings(raw: Record<string, unknown>, base: ProjectSettings = DEFAULT_SETTINGS): ProjectSettings {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in CHECKS))
      throw new Error(`pacer: unknown project setting '${k}' (known: ${Object.keys(CHECKS).join(', ')})`);
    const bad = CHECKS[k as keyof ProjectSettings](v);
    if (bad) throw new Error(`pacer: project setting '${k}' must be ${bad}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  const s = out as unknown as ProjectSettings;
  if (s.pairs === 'active' && s.task !== 'pairwise')
    throw new Error(`pacer: project setting 'pairs: active' needs task 'pairwise' (got '${s.task}')`);
  return s;
}
