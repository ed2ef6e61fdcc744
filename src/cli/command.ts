// A CLI command is one record (as TRL's cli/commands/): its name (the words after `pacer`), a
// one-line summary for `pacer --help`, a description, its options (each with its own help line,
// which `--help` prints) and its body. src/cli/registry.ts lists the commands; src/cli/index.ts
// only dispatches and maps errors to exit codes.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DTYPES, type DType } from '../engine/index.js';

/** A mistake in how a command was called (exit code 2, with a pointer to --help). */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in help ('N', 'DIR', …); string options only. */
  arg?: string;
  help: string;
  /** Shown in help as "(default …)"; parsing does not apply it (the body does). */
  default?: string;
  multiple?: boolean;
  short?: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** The words after `pacer`, e.g. 'bench engine'. */
  name: string;
  /** One line for `pacer --help`. */
  summary: string;
  /** Usage line(s) after "usage: ". */
  usage: string;
  /** Paragraphs printed between the usage and the options. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Accept positional arguments (e.g. train's CONFIG.yaml). */
  positionals?: boolean;
  /**
   * The command's own options end at the first positional argument (or `--`); it and everything after
   * it are passed through untouched as positionals (launch's worker command and its options).
   */
  passThrough?: boolean;
  run(values: OptionValues, positionals: string[]): Promise<number | undefined> | number | undefined;
}

export function defineCommand(c: Command): Command {
  return c;
}

/** The command's --help text, with its options listed from their specs. */
export function commandHelp(c: Command): string {
  const rows = Object.entries(c.options).map(([k, o]) => {
    const flag = `--${k}${o.type === 'string' ? ` ${o.arg ?? 'X'}` : ''}`;
    return [flag, `${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`];
  });
  const w = Math.min(28, Math.max(0, ...rows.map((r) => r[0].length)));
  const lines = rows.map(([f, h]) => `  ${f.padEnd(w)}  ${h}`);
  return [
    `pacer ${c.name} — ${c.summary}`,
    '',
    `usage: ${c.usage}`,
    ...(c.description ? ['', c.description] : []),
    ...(lines.length ? ['', 'options:', ...lines, `  ${'--help'.padEnd(w)}  this text`] : []),
  ].join('\n');
}

/** Parse argv against a command's options (strict: unknown options are usage errors). */
export function parseCommandArgs(c: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [k, o] of Object.entries(c.options))
    options[k] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  if (c.passThrough) {
    const at = firstPositional(argv, options);
    const rest = argv.slice(at + (argv[at] === '--' ? 1 : 0));
    const r = parseArgs({ args: argv.slice(0, at), options, allowPositionals: false, strict: true });
    return { values: r.values as OptionValues, positionals: rest };
  }
  const r = parseArgs({ args: argv, options, allowPositionals: !!c.positionals, strict: true });
  return { values: r.values as OptionValues, positionals: r.positionals };
}

/** Index of the first argument that is not an option or an option's value ('--' counts). */
function firstPositional(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--' || !a.startsWith('-')) return i;
    const name = a.replace(/^--?/, '').split('=')[0];
    if (!a.includes('=') && options[name]?.type === 'string') i++;
  }
  return argv.length;
}

// ---- option value helpers (errors name the option)

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function int(v: unknown, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

export function intList(v: unknown, name: string, dflt: string): number[] {
  return String(v ?? dflt)
    .split(',')
    .map((t) => int(t.trim(), name, 1));
}

export function dtypeOpt(v: unknown): DType {
  const d = (v ?? 'float32') as DType;
  if (!DTYPES.includes(d)) throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}, got '${v}'`);
  return d;
}

/** --threads, defaulting to the machine's cores. */
export function threadsOpt(v: unknown): number {
  return int(v, 'threads', availableParallelism());
}

export function oneOf<T extends string>(v: unknown, name: string, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

/** Print a command's JSON result line, or its readable form. */
export function output(json: boolean, result: unknown, readable: () => void): void {
  if (json) console.log(JSON.stringify(result));
  else readable();
}
