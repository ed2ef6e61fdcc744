// Offline curricula for preference and SFT training.
//   Curry-DPO (Pattnaik et al. 2024, arXiv 2403.07230): order pairs easy -> hard, by a difficulty
//   column (low = easy) or by the reference model's margin logπ_ref(y_w) − logπ_ref(y_l)
//   (large = easy).
//   Pacing functions (competence-based curricula, Platanios et al. 2019): at step t of T the
//   sampler draws only from the easiest fraction c(t) of the ordered data:
//     linear c = c0 + (1 − c0)·t/T;  root c = sqrt(c0² + (1 − c0²)·t/T);
//     geometric c = 2^(log2(c0)·(1 − t/T));  step c = c0 before T/2, 1 after.
//   Staged training (TEMPLE's r16 -> r8 -> r4 -> r2 schedule is one): `stages`, each starting
//   from the previous stage's weights (see trainers/stages.ts).

export interface CurriculumConfig {
  type: 'curry';
  by: 'difficulty' | 'reference_margin';
  /** Pacing: restrict sampling to the easiest fraction of data, growing to 1 at full_at·total steps. */
  pacing?: 'none' | 'linear' | 'root' | 'geometric' | 'step';
  start_fraction?: number;
  full_at?: number;
}

interface Orderable {
  where: string;
  extra: Record<string, unknown>;
  ref?: { chosen?: number; rejected?: number };
}

export function parseCurriculum(raw: unknown, src: string): CurriculumConfig | null {
  if (raw === null || raw === undefined) return null;
  const c = raw as Record<string, unknown>;
  const bad = (m: string) => {
    throw new Error(`pacer: ${src}: curriculum: ${m}`);
  };
  if (typeof c !== 'object') bad('must be a mapping');
  for (const k of Object.keys(c))
    if (!['type', 'by', 'pacing', 'start_fraction', 'full_at'].includes(k)) bad(`unknown key '${k}'`);
  if (c.type !== 'curry') bad(`type must be 'curry', got '${String(c.type)}'`);
  if (!['difficulty', 'reference_margin'].includes(c.by as string))
    bad(`by must be 'difficulty' or 'reference_margin', got '${String(c.by)}'`);
  if (c.pacing !== undefined && !['none', 'linear', 'root', 'geometric', 'step'].includes(c.pacing as string))
    bad(`pacing must be none, linear, root, geometric or step`);
  const sf = c.start_fraction ?? 0.25;
  if (typeof sf !== 'number' || !(sf > 0 && sf <= 1)) bad(`start_fraction must be in (0, 1]`);
  const fa = c.full_at ?? 1;
  if (typeof fa !== 'number' || !(fa > 0 && fa <= 1)) bad(`full_at must be in (0, 1]`);
  return {
    type: 'curry',
    by: c.by as CurriculumConfig['by'],
    pacing: (c.pacing as CurriculumConfig['pacing']) ?? 'none',
    start_fraction: sf as number,
    full_at: fa as number,
  };
}

/** Fraction of the ordered data available at step t of T. */
export function pacingFraction(
  kind: NonNullable<CurriculumConfig['pacing']>,
  t: number,
  T: number,
  start: number,
): number {
  const x = Math.min(1, Math.max(0, t / Math.max(1, T)));
  switch (kind) {
    case 'none':
      return 1;
    case 'linear':
      return Math.min(1, start + (1 - start) * x);
    case 'root':
      return Math.min(1, Math.sqrt(start * start + (1 - start * start) * x));
    case 'geometric':
      return Math.min(1, 2 ** (Math.log2(start) * (1 - x)));
    case 'step':
      return x < 0.5 ? start : 1;
  }
}

/** Items in training order: as given, or easy -> hard by the curriculum (stable). */
export function orderItems<T extends Orderable>(items: T[], cfg: { curriculum: unknown; _source: string }): T[] {
  const c = parseCurriculum(cfg.curriculum, cfg._source);
  if (!c) return items;
  const key = (it: T): number => {
    if (c.by === 'difficulty') {
      const d = it.extra.difficulty;
      if (typeof d !== 'number' || !Number.isFinite(d))
        throw new Error(`pacer: ${it.where}: curriculum by difficulty needs a numeric 'difficulty' column`);
      return d;
    }
    if (it.ref?.chosen === undefined || it.ref?.rejected === undefined)
      throw new Error(
        `pacer: ${it.where}: curriculum by reference_margin needs reference log-probs (a dpo run that is not ` +
          `reference_free)`,
      );
    return -(it.ref.chosen - it.ref.rejected);
  };
  return items
    .map((it, i) => [key(it), i, it] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((x) => x[2]);
}
