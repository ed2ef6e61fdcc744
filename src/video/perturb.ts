// TEMPLE's temporal perturbations (Li et al., AAAI 2026; lscpku/TEMPLE inference/generator_base.py),
// on any ordered list of n clips (captions, frame groups) at magnitude m:
//   drop     keep max(1, ⌊n/m⌋) clips chosen at random, in their order
//   shuffle  cut the list into contiguous chunks of max(1, ⌊n/m⌋) clips and permute the chunks
//   reverse  the same chunks in reverse order
// Larger m is an easier (stronger) perturbation: TEMPLE's curriculum runs m = 16 → 8 → 4 → 2.
// perturbClips works on arrays; perturbFrames on a tensor's first axis (frames or clips).
import { type Tensor, tensor } from '../engine/index.js';
import { rng } from '../data/random.js';

export const PERTURBATION_TYPES = ['drop', 'shuffle', 'reverse'] as const;
export type PerturbationType = (typeof PERTURBATION_TYPES)[number];

export interface PerturbOptions {
  type: PerturbationType;
  magnitude: number;
  seed?: number;
}

/** Fisher–Yates with a uniform [0, 1) source. */
function shuffled<T>(xs: T[], u: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The kept indices, in their new order, of n clips under a perturbation (shuffle: a permutation). */
export function perturbIndices(
  n: number,
  type: PerturbationType,
  magnitude: number,
  shuffle: <T>(xs: T[]) => T[],
): number[] {
  if (!PERTURBATION_TYPES.includes(type))
    throw new RangeError(`pacer: perturbation type must be ${PERTURBATION_TYPES.join(', ')}, got '${type}'`);
  if (!Number.isInteger(magnitude) || magnitude < 1)
    throw new RangeError(`pacer: perturbation magnitude must be a positive integer, got ${magnitude}`);
  const size = Math.max(1, Math.floor(n / magnitude));
  const idx = Array.from({ length: n }, (_, i) => i);
  if (type === 'drop') {
    const keep = new Set(shuffle(idx).slice(0, size));
    return idx.filter((i) => keep.has(i));
  }
  const chunks: number[][] = [];
  for (let i = 0; i < n; i += size) chunks.push(idx.slice(i, i + size));
  return (type === 'reverse' ? chunks.reverse() : shuffle(chunks)).flat();
}

/** A list perturbed as TEMPLE perturbs clip lists (seeded). */
export function perturbClips<T>(items: readonly T[], o: PerturbOptions): T[] {
  const u = rng(o.seed ?? 0);
  return perturbIndices(items.length, o.type, o.magnitude, (xs) => shuffled(xs, u)).map((i) => items[i]);
}

/** The same on a tensor's first axis (frames [T, H, W, C], or clips). */
export function perturbFrames(frames: Tensor, o: PerturbOptions): Tensor {
  const u = rng(o.seed ?? 0);
  const order = perturbIndices(frames.shape[0], o.type, o.magnitude, (xs) => shuffled(xs, u));
  return frames.indexSelect(0, tensor(order, { dtype: 'int64' }));
}

/** Why TEMPLE's convert_to_swift.py drops a (chosen, rejected) narration pair, or null to keep it. */
export type PairDrop = 'not_shorter' | 'contained' | 'length_ratio';

/**
 * convert_to_swift.py's filters, in its order: a drop pair needs len(chosen) > len(rejected); any pair is
 * skipped when chosen is a substring of rejected (identical texts included); shuffle/reverse pairs need
 * each length ≤ 1.5× the other. Lengths are string lengths (Python's len on str).
 */
export function templeFilter(type: PerturbationType, chosen: string, rejected: string): PairDrop | null {
  const lc = [...chosen].length;
  const lr = [...rejected].length;
  if (type === 'drop' && lc <= lr) return 'not_shorter';
  if (rejected.includes(chosen)) return 'contained';
  if (type !== 'drop' && (lc > 1.5 * lr || lr > 1.5 * lc)) return 'length_ratio';
  return null;
}
