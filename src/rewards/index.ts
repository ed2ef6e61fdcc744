/**
 * The reward library by name, for configs and the reward server: "NAME" or "NAME:key=value:…".
 *
 * @module pacer/rewards
 */

import { accuracyReward, exactMatchReward, multipleChoiceReward, yesNoReward } from './accuracy.js';
import { creditsProblem, hierarchicalLabelReward, parseCredits } from './hierarchical-label.js';
import {
  thinkAnswerFormatReward,
  reasoningPatternReward,
  lengthPenaltyReward,
  overlongPenaltyReward,
} from './format.js';
import { iouReward, temporalIoUReward, gaussianPointRewardFn } from './spatial.js';
import { partialMatchReward, hierarchicalReward } from './partial.js';
import type { NamedReward, RewardFunction } from './types.js';
import { remoteReward } from './remote.js';
import { rewardModelReward } from './model.js';
import { ConfigError } from '../util/errors.js';
import { closest, k, validateOptions, type Spec, type ValuesOf } from '../util/spec.js';

/** Option builders for defineReward: opt.num(default, doc, range), opt.int, opt.str, opt.bool, opt.choice, … */
export { k as opt };
export type { KeySpec, Spec, ValuesOf } from '../util/spec.js';

export * from './types.js';
export * from './accuracy.js';
export * from './format.js';
export * from './spatial.js';
export * from './partial.js';
export * from './hierarchical-label.js';
export * from './router.js';
export * from './compose.js';
export * from './remote.js';
export * from './model.js';
export * from './worker.js';

/**
 * A reward by name: a factory from its options (parsed from "name:key=value:…") to the function.
 * `options` declares each option's type, default and doc; options are validated (unknown keys
 * named with the closest valid one, numbers and booleans parsed) before the factory runs. A factory
 * without `options` (a custom reward registered in code) receives the raw strings.
 */
export type RewardFactory = ((o: Record<string, any>, name: string) => RewardFunction) & { options?: Spec };

/** Attach an option spec to a reward factory. */
export function defineReward<S extends Spec>(
  options: S,
  make: (o: ValuesOf<S>, name: string) => RewardFunction,
): RewardFactory {
  return Object.assign((o: Record<string, any>, name: string) => make(o as ValuesOf<S>, name), { options });
}

/**
 * Register a reward under `name` so configs can use it (`reward_funcs: [name, "name:key=value"]`) with
 * its options typed, defaulted and checked like the built-in ones. `make` receives the options and
 * returns the function; it runs in the trainer's process. Built-in names cannot be replaced;
 * registering a name twice is an error unless `replace` is set. Returns the factory (as REWARDS[name]).
 */
export function registerReward<S extends Spec>(
  name: string,
  options: S,
  make: (o: ValuesOf<S>, name: string) => RewardFunction,
  o: { replace?: boolean } = {},
): RewardFactory {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
    throw new ConfigError(`pacer: reward name '${name}' must be letters, digits, '_' or '-' (no ':', ',' or '=')`);
  if (BUILT_IN.has(name)) throw new ConfigError(`pacer: reward '${name}' is a built-in and cannot be replaced`);
  if (REWARDS[name] && !o.replace)
    throw new ConfigError(`pacer: reward '${name}' is already registered (pass { replace: true })`);
  REWARDS[name] = defineReward(options, make);
  return REWARDS[name];
}

const column = k.strOrNull(null, "the dataset column holding the reference (default: the reward's usual column)");

export const REWARDS: Record<string, RewardFactory> = {
  accuracy: defineReward({ column }, (o) => accuracyReward({ column: o.column ?? undefined })),
  exact_match: defineReward({ column, case_sensitive: k.bool(false, 'compare case-sensitively') }, (o) =>
    exactMatchReward({ column: o.column ?? undefined, caseSensitive: o.case_sensitive }),
  ),
  multiple_choice: defineReward({ column }, (o) => multipleChoiceReward({ column: o.column ?? undefined })),
  yes_no: defineReward({ column }, (o) => yesNoReward({ column: o.column ?? undefined })),
  think_answer: defineReward({}, () => thinkAnswerFormatReward()),
  reasoning_pattern: defineReward({}, () => reasoningPatternReward()),
  length: defineReward({ budget: { ...k.int(0, 'token budget', { min: 1 }), required: true } }, (o) =>
    lengthPenaltyReward({ budget: o.budget }),
  ),
  overlong: defineReward(
    {
      max_length: { ...k.int(0, 'maximum completion tokens', { min: 1 }), required: true },
      cache: { ...k.int(0, 'soft zone before max_length where the penalty ramps up', { min: 0 }), required: true },
    },
    (o) => overlongPenaltyReward({ maxLength: o.max_length, cache: o.cache }),
  ),
  iou: defineReward({ column }, (o) => iouReward({ column: o.column ?? undefined })),
  temporal_iou: defineReward(
    { column, duration_column: k.strOrNull(null, 'a column of video lengths (s): answers outside [0, it] score 0') },
    (o) => temporalIoUReward({ column: o.column ?? undefined, durationColumn: o.duration_column ?? undefined }),
  ),
  gaussian_point: defineReward({ column, alpha: k.num(0.5, 'Gaussian width relative to the box', { gt: 0 }) }, (o) =>
    gaussianPointRewardFn({ column: o.column ?? undefined, alpha: o.alpha }),
  ),
  partial_match: defineReward({ column }, (o) => partialMatchReward({ column: o.column ?? undefined })),
  hierarchical: defineReward({ column, separator: k.str('/', 'separator between taxonomy levels') }, (o) =>
    hierarchicalReward({ column: o.column ?? undefined, separator: o.separator }),
  ),
  hierarchical_label: defineReward(
    {
      taxonomy: {
        ...k.path('taxonomy JSON ({"name", "children"} nested; pacer video make --world anomaly writes one)'),
      },
      column: k.str('class', 'the dataset column naming the reference node (or holding its path)'),
      options_column: k.str('option_classes', "a column listing each option letter's node (multiple choice)"),
      exact: k.num(1, 'reward for naming the reference node itself', { min: 0 }),
      credits: {
        ...k.str(
          '0.25;0.5',
          "rewards for sharing 1, 2, … leading taxonomy levels with the reference (';'-separated, the last repeats)",
        ),
        check: creditsProblem,
      },
    },
    (o) =>
      hierarchicalLabelReward({
        taxonomy: o.taxonomy,
        column: o.column,
        optionsColumn: o.options_column,
        exact: o.exact,
        credits: parseCredits(o.credits),
      }),
  ),
  reward_model: defineReward(
    { path: { ...k.str('', "a folder written by 'pacer train' with trainer: reward"), required: true } },
    (o) => rewardModelReward(o.path),
  ),
  remote: defineReward(
    {
      url: { ...k.str('', 'the /get_reward endpoint, e.g. http://127.0.0.1:5000/get_reward'), required: true },
      token_env: k.str('PACER_REWARD_TOKEN', 'environment variable holding the bearer token'),
      label: k.str('answer', 'the dataset column sent as labels'),
      timeout: k.num(30, 'seconds per request', { gt: 0 }),
      retries: k.int(3, 'retries with exponential backoff', { min: 0 }),
    },
    (o) =>
      remoteReward({
        url: o.url,
        tokenEnv: o.token_env,
        labelColumn: o.label,
        timeoutMs: o.timeout * 1000,
        retries: o.retries,
      }),
  ),
};

const BUILT_IN = new Set(Object.keys(REWARDS));

/** Typed values of string options ("512" -> 512, "true" -> true) as their spec says. */
function parseOptionStrings(spec: Spec, raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const type = spec[key]?.type;
    if (type === 'number' || type === 'int') out[key] = v.trim() === '' ? v : Number(v);
    else if (type === 'bool') out[key] = v === 'true' ? true : v === 'false' ? false : v;
    else out[key] = v;
  }
  return out;
}

/** Split "name:key=value:…" into the name and its options (values may contain ':' — URLs). */
export function parseRewardSpec(part: string): { name: string; options: Record<string, string> } {
  const [name, ...frags] = part.split(':');
  const kv: string[] = [];
  for (const f of frags) {
    if (!f.includes('=') && kv.length) kv[kv.length - 1] += ':' + f;
    else kv.push(f);
  }
  const options: Record<string, string> = {};
  for (const x of kv) {
    const j = x.indexOf('=');
    if (j <= 0) throw new ConfigError(`pacer: reward option '${x}' must be key=value (in '${part}')`);
    options[x.slice(0, j)] = x.slice(j + 1);
  }
  return { name, options };
}

/** A reward's validated options (defaults filled), or an error naming the option and the reward. */
export function rewardOptions(name: string, raw: Record<string, string>, where = 'reward_funcs'): Record<string, any> {
  const make = REWARDS[name];
  if (!make) {
    const near = closest(name, Object.keys(REWARDS));
    const hint = near ? ` (did you mean '${near}'?)` : '';
    throw new ConfigError(`pacer: unknown reward '${name}'${hint} (available: ${Object.keys(REWARDS).join(', ')})`);
  }
  if (!make.options) return raw;
  return validateOptions(make.options, parseOptionStrings(make.options, raw), {
    where,
    owner: `reward '${name}'`,
    prefix: `${name}:`,
  });
}

/** Parse "accuracy,overlong:max_length=512:cache=128" with optional weights into named rewards. */
export function rewardsFromSpec(spec: string, weights?: number[]): NamedReward[] {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError('pacer: no reward named');
  if (weights && weights.length !== parts.length)
    throw new ConfigError(`pacer: ${weights.length} weights for ${parts.length} rewards`);
  return parts.map((p, i) => {
    const { name, options } = parseRewardSpec(p);
    return { name, fn: REWARDS[name](rewardOptions(name, options), name), weight: weights?.[i] ?? 1, spec: p };
  });
}
