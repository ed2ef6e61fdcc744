// A study recipe's summary: each arm runs once per seed and reports numbers; summary.json holds, for every
// arm and metric, the mean and the sample standard deviation (n − 1 in the denominator; 0 for one seed) over
// the seeds, with the per-seed values, so `arms.<arm>.<metric>.mean` is what notes and READMEs quote.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite } from '../util/atomic.js';
import type { RecipeOptions, RecipeResult } from './recipe.js';

export interface ArmRun {
  arm: string;
  seed: number;
  metrics: Record<string, number>;
}

export interface MetricStats {
  mean: number;
  std: number;
  /** The per-seed values in the order of `seeds`. */
  values: number[];
}

export interface StudySummary {
  recipe: string;
  seeds: number[];
  arms: Record<string, Record<string, MetricStats>>;
  [extra: string]: unknown;
}

/** Mean and sample std (n − 1; 0 for one value) of finite numbers; NaN mean when there are none. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  if (!v.length) return { mean: Number.NaN, std: Number.NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0 };
}

/** Group runs by arm and metric; every arm must have run on every seed exactly once. */
export function summarizeArms(recipe: string, seeds: number[], runs: ArmRun[]): StudySummary {
  const arms: StudySummary['arms'] = {};
  for (const arm of [...new Set(runs.map((r) => r.arm))]) {
    const mine = seeds.map((s) => {
      const hit = runs.filter((r) => r.arm === arm && r.seed === s);
      if (hit.length !== 1) throw new RangeError(`pacer: ${recipe}: arm '${arm}' has ${hit.length} runs for seed ${s}`);
      return hit[0].metrics;
    });
    const keys = [...new Set(mine.flatMap((m) => Object.keys(m)))];
    arms[arm] = Object.fromEntries(
      keys.map((k) => {
        const values = mine.map((m) => m[k] ?? Number.NaN);
        return [k, { ...meanStd(values), values }];
      }),
    );
  }
  return { recipe, seeds, arms };
}

/** Write summary.json atomically (NaN, which JSON cannot hold, becomes null). */
export function writeSummary(file: string, s: StudySummary): void {
  const text = JSON.stringify(s, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  atomicWrite(file, (fd) => writeFileSync(fd, `${text}\n`));
}

/** An earlier run's summary in `file` when it was made with this configuration and these seeds (else null). */
export function reusableSummary(
  file: string,
  spec: unknown,
  seeds: number[],
): (StudySummary & Record<string, any>) | null {
  if (!existsSync(file)) return null;
  const old = JSON.parse(readFileSync(file, 'utf8'));
  const same = JSON.stringify(old.spec) === JSON.stringify(spec) && JSON.stringify(old.seeds) === JSON.stringify(seeds);
  return same ? old : null;
}

/** A recipe's headline numbers: `<arm><sep><metric>` → mean over seeds, for the metrics each arm has. */
export function armMeans(
  s: { arms: Record<string, Record<string, { mean: number | null }>> },
  metrics: readonly string[],
  sep = '.',
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [arm, ms] of Object.entries(s.arms))
    for (const k of metrics) if (ms[k]) out[`${arm}${sep}${k}`] = ms[k].mean ?? Number.NaN;
  return out;
}

/** A study's cache folder: PACER_CACHE (default ~/.cache/pacer)/recipes/<recipe>/<hash of configuration and seeds>. */
export function studyDir(recipe: string, spec: unknown, seeds: readonly number[]): string {
  const key = createHash('sha256').update(JSON.stringify({ recipe, spec, seeds })).digest('hex').slice(0, 12);
  const root = process.env.PACER_CACHE ?? join(homedir(), '.cache', 'pacer');
  return join(root, 'recipes', recipe, key);
}

/**
 * A per-seed study's run(): an earlier summary.json of this configuration and these seeds is reused (unless
 * --force); else every seed runs in turn, then summary.json (the arms' mean/std plus `extra`) and report.html
 * are written. `headline` gives the CLI's numbers.
 */
export async function runSeedStudy<S extends { runs: ArmRun[] }>(
  o: RecipeOptions,
  x: {
    recipe: string;
    spec: unknown;
    seed: (seed: number, dir: string) => Promise<S>;
    extra?: (seeds: S[]) => Record<string, unknown>;
    report: (summary: StudySummary, seeds: S[]) => string;
    headline: (s: StudySummary) => Record<string, number>;
  },
): Promise<RecipeResult> {
  const dir = o.out ?? studyDir(x.recipe, x.spec, o.seeds);
  const file = join(dir, 'summary.json');
  const old = o.force ? null : reusableSummary(file, x.spec, o.seeds);
  if (old) return { dir, cached: true, metrics: x.headline(old) };
  mkdirSync(dir, { recursive: true });
  const seeds: S[] = [];
  for (const seed of o.seeds) seeds.push(await x.seed(seed, dir));
  const runs = seeds.flatMap((s) => s.runs);
  const summary = { ...summarizeArms(x.recipe, o.seeds, runs), spec: x.spec, ...(x.extra?.(seeds) ?? {}) };
  writeSummary(file, summary);
  atomicWrite(join(dir, 'report.html'), (fd) => writeFileSync(fd, x.report(summary, seeds)));
  return { dir, cached: false, metrics: x.headline(summary) };
}
