// Typed option specs, in the manner of TRL's config dataclasses (a field, its type, its default and
// `metadata={"help": …}`): every key has a type, a default, a one-line doc, and optional range,
// choices and a condition under which it acts. One spec gives the TypeScript type (ValuesOf), the
// validation (validateOptions: unknown keys named with the closest valid one, types, ranges,
// conditions) and the documentation (specHelp). Used by the trainer configs and by nested options
// (curriculum samplers, rewards, augmentation).
import { ConfigError } from './errors.js';

export type SpecType = 'number' | 'int' | 'bool' | 'string' | 'path' | 'list' | 'map' | 'any';

export interface KeySpec<T = unknown> {
  readonly type: SpecType;
  readonly default: T;
  readonly doc: string;
  readonly nullable?: boolean;
  /** Inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** Exclusive bounds. */
  readonly gt?: number;
  readonly lt?: number;
  readonly choices?: readonly string[];
  /** Must be given (no default). */
  readonly required?: boolean;
  /** A key that only acts under a condition: setting it while the condition is false is an error. */
  readonly when?: { test: (c: Record<string, unknown>) => boolean; doc: string };
  /** Further checks on a given value (null: fine; a string: what is wrong). */
  readonly check?: (v: T) => string | null;
  /** Phantom: the value type. */
  readonly __value?: T;
}

export type Spec = Record<string, KeySpec<any>>;
export type ValuesOf<S extends Spec> = { -readonly [K in keyof S]: S[K] extends KeySpec<infer T> ? T : never };

interface Range {
  min?: number;
  max?: number;
  gt?: number;
  lt?: number;
}

const mk = <T>(type: SpecType, def: T, doc: string, extra: Partial<KeySpec<T>> = {}): KeySpec<T> => ({
  type,
  default: def,
  doc,
  ...extra,
});

/** Spec builders: k.num(default, doc, range), k.choice(choices, default, doc), … */
export const k = {
  num: (def: number, doc: string, r: Range = {}) => mk<number>('number', def, doc, r),
  numOrNull: (def: number | null, doc: string, r: Range = {}) =>
    mk<number | null>('number', def, doc, { ...r, nullable: true }),
  int: (def: number, doc: string, r: Range = {}) => mk<number>('int', def, doc, r),
  intOrNull: (def: number | null, doc: string, r: Range = {}) =>
    mk<number | null>('int', def, doc, { ...r, nullable: true }),
  bool: (def: boolean, doc: string) => mk<boolean>('bool', def, doc),
  str: (def: string, doc: string) => mk<string>('string', def, doc),
  strOrNull: (def: string | null, doc: string) => mk<string | null>('string', def, doc, { nullable: true }),
  choice: <const C extends readonly string[]>(choices: C, def: C[number], doc: string) =>
    mk<C[number]>('string', def, doc, { choices }),
  choiceOrNull: <const C extends readonly string[]>(choices: C, def: C[number] | null, doc: string) =>
    mk<C[number] | null>('string', def, doc, { choices, nullable: true }),
  /** A path (resolved against the config file's folder). */
  path: (doc: string) => mk<string>('path', '', doc, { required: true }),
  pathOrNull: (def: string | null, doc: string) => mk<string | null>('path', def, doc, { nullable: true }),
  /** A value checked by `check` (lists, mappings, unions). */
  any: <T>(type: 'list' | 'map' | 'any', def: T, doc: string, check?: (v: T) => string | null) =>
    mk<T>(type, def, doc, { nullable: def === null, check }),
};

/** The same key, acting only when `test` holds (documented as `doc`). */
export function when<T>(s: KeySpec<T>, test: (c: Record<string, unknown>) => boolean, doc: string): KeySpec<T> {
  return { ...s, when: { test, doc } };
}

/** A copy of a spec with other defaults (e.g. a trainer's own learning rate). */
export function withDefaults<S extends Spec>(spec: S, defaults: { [K in keyof S]?: ValuesOf<S>[K] }): S {
  const out: Spec = { ...spec };
  for (const [key, v] of Object.entries(defaults)) out[key] = { ...spec[key], default: v };
  return out as S;
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/**
 * The closest of `names` to `key` when it is a likely slip: a small edit distance (typos), or most
 * words in common (max_length → max_prompt_length). Shared words count more than edits.
 */
export function closest(key: string, names: string[]): string | null {
  const words = (s: string) => new Set(s.split('_').filter(Boolean));
  const kw = words(key);
  let best: { name: string; score: number } | null = null;
  for (const n of names) {
    const d = editDistance(key, n);
    const nw = words(n);
    const shared = [...kw].filter((w) => nw.has(w)).length;
    const union = new Set([...kw, ...nw]).size;
    const likely = d <= Math.max(2, Math.floor(Math.max(key.length, n.length) / 3)) || shared / union >= 0.5;
    const score = d - 3 * shared;
    if (likely && (!best || score < best.score)) best = { name: n, score };
  }
  return best?.name ?? null;
}

const describeRange = (s: KeySpec) =>
  [
    s.min !== undefined ? `>= ${s.min}` : '',
    s.gt !== undefined ? `> ${s.gt}` : '',
    s.max !== undefined ? `<= ${s.max}` : '',
    s.lt !== undefined ? `< ${s.lt}` : '',
  ]
    .filter(Boolean)
    .join(' and ');

/** Why a value does not fit its spec, or null. */
export function checkValue(s: KeySpec, v: unknown): string | null {
  if (v === null) return s.nullable ? null : 'must not be null';
  const show = JSON.stringify(v);
  switch (s.type) {
    case 'number':
    case 'int': {
      const what = s.type === 'int' ? 'an integer' : 'a number';
      if (typeof v !== 'number' || !Number.isFinite(v) || (s.type === 'int' && !Number.isInteger(v)))
        return `must be ${what}, got ${show}`;
      const bad =
        (s.min !== undefined && v < s.min) ||
        (s.max !== undefined && v > s.max) ||
        (s.gt !== undefined && v <= s.gt) ||
        (s.lt !== undefined && v >= s.lt);
      if (bad) return `must be ${describeRange(s)}, got ${v}`;
      break;
    }
    case 'bool':
      if (typeof v !== 'boolean') return `must be true or false, got ${show}`;
      break;
    case 'string':
    case 'path':
      if (typeof v !== 'string') return `must be a string, got ${show}`;
      if (s.choices && !s.choices.includes(v)) return `must be one of ${s.choices.join(', ')}, got '${v}'`;
      break;
    case 'list':
      if (!Array.isArray(v) && s.check === undefined) return `must be a list, got ${show}`;
      break;
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) return `must be a mapping of keys to values, got ${show}`;
      break;
  }
  return s.check ? s.check(v as never) : null;
}

export interface OptionsContext {
  /** Where the options come from, for messages (a file, "demo", …). */
  where: string;
  /** What the options configure, e.g. "trainer 'grpo'" or "curriculum sampler 'sec'". */
  owner: string;
  /** Prefix for nested keys in messages, e.g. "curriculum_options.". */
  prefix?: string;
  /** Explains a key this owner does not read but another does (e.g. "it is read by dpo, kto"). */
  elsewhere?: (key: string) => string | null;
  /** Values outside the spec that conditions may test (e.g. the trainer's name). */
  context?: Record<string, unknown>;
}

/** Validate raw options against a spec and fill the defaults; errors name the key and the owner. */
export function validateOptions<S extends Spec>(
  spec: S,
  raw: Record<string, unknown>,
  ctx: OptionsContext,
): ValuesOf<S> {
  const fail = (key: string, msg: string) =>
    new ConfigError(`pacer: ${ctx.where}: '${ctx.prefix ?? ''}${key}' ${msg}`, {
      file: ctx.where,
      key: `${ctx.prefix ?? ''}${key}`,
    });
  const valid = Object.keys(spec);
  for (const key of Object.keys(raw)) {
    if (key in spec) continue;
    const near = closest(key, valid);
    const other = ctx.elsewhere?.(key);
    const hint = near ? ` (did you mean '${ctx.prefix ?? ''}${near}'?)` : '';
    throw other
      ? fail(key, `does not apply to ${ctx.owner} (${other})${hint}`)
      : fail(key, `is not a key of ${ctx.owner}${hint}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    if (raw[key] === undefined) {
      if (s.required) throw fail(key, `is required for ${ctx.owner}: ${s.doc}`);
      out[key] = s.default !== null && typeof s.default === 'object' ? structuredClone(s.default) : s.default;
      continue;
    }
    const why = checkValue(s, raw[key]);
    if (why) throw fail(key, why);
    out[key] = raw[key];
  }
  for (const [key, s] of Object.entries(spec))
    if (s.when && raw[key] !== undefined && !s.when.test({ ...ctx.context, ...out }))
      throw fail(key, `has no effect unless ${s.when.doc}`);
  return out as ValuesOf<S>;
}

/** Documentation of a spec: one entry per key with its type, default, range and doc. */
export function specHelp(spec: Spec, indent = '  '): string {
  return Object.entries(spec)
    .map(([key, s]) => {
      const type = s.choices ? s.choices.join(' | ') : s.type;
      const dflt = s.required ? 'required' : `default ${JSON.stringify(s.default)}`;
      const range = describeRange(s);
      const extra = [range, s.when ? `only with ${s.when.doc}` : ''].filter(Boolean).join('; ');
      const head = `${indent}${key}: ${type}${s.nullable ? ' | null' : ''} (${dflt}${extra ? `; ${extra}` : ''})`;
      return `${head}\n${indent}    ${s.doc}`;
    })
    .join('\n');
}
