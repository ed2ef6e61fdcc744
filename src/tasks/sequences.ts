// Error-compounding sequence tasks for studies of exposure bias (IFT), generated from a seed and
// scored by checking, not by string match where several answers are right:
//   running sum   prompt "31415=" → completion "34894": s_i = (s_{i−1} + d_i) mod 10, so every output
//                 digit depends on the one before it — one early mistake spoils the rest of the line;
//   frozen lake   prompt "SFFF/FHFH/FFFH/HFFG=" (rows of a square map: S start, G goal, H hole,
//                 F ice) → a shortest safe path of moves "DDRDRR" (L, R, U, D), scored by executing it:
//                 the answer is right when the walk stays on the map, never enters a hole, and ends on G.
// Both use a character tokenizer over TASK_CHARS (writeTinyArithmeticModel's `chars`).
import { rng } from '../data/random.js';

export const TASK_CHARS = '0123456789=SFHG/LRUD';

export interface SeqProblem {
  prompt: string;
  /** A reference answer (the canonical one, e.g. the BFS path). */
  target: string;
  /** A length measure (digits, or the map's side). */
  size: number;
}

/** Running sums mod 10 of n random digits. */
export function runningSum(n: number, r: () => number): SeqProblem {
  const d = Array.from({ length: n }, () => Math.floor(r() * 10));
  let s = 0;
  const out = d.map((x) => (s = (s + x) % 10));
  return { prompt: `${d.join('')}=`, target: out.join(''), size: n };
}

export function runningSumCorrect(p: SeqProblem, completion: string): boolean {
  return completion.trim().startsWith(p.target) && completion.trim().length === p.target.length;
}

const MOVES: Record<string, [number, number]> = { L: [0, -1], R: [0, 1], U: [-1, 0], D: [1, 0] };

/** BFS from the top-left start to the bottom-right goal; moves tried in the order D, R, U, L. */
function shortestPath(map: string[]): string | null {
  const n = map.length;
  const prev = new Map<number, [number, string]>();
  const seen = new Set([0]);
  const queue = [0];
  while (queue.length) {
    const cur = queue.shift()!;
    if (cur === n * n - 1) break;
    for (const m of 'DRUL') {
      const [dy, dx] = MOVES[m];
      const y = Math.floor(cur / n) + dy;
      const x = (cur % n) + dx;
      const next = y * n + x;
      if (y < 0 || x < 0 || y >= n || x >= n || map[y][x] === 'H' || seen.has(next)) continue;
      seen.add(next);
      prev.set(next, [cur, m]);
      queue.push(next);
    }
  }
  if (!seen.has(n * n - 1)) return null;
  let path = '';
  for (let c = n * n - 1; c !== 0; c = prev.get(c)![0]) path = prev.get(c)![1] + path;
  return path;
}

/** A random n×n map with a safe path (holes with probability pHole, S and G kept free). */
export function frozenLake(n: number, pHole: number, r: () => number): SeqProblem {
  for (;;) {
    const map = Array.from({ length: n }, (_, y) =>
      Array.from({ length: n }, (_, x) => {
        if (y === 0 && x === 0) return 'S';
        if (y === n - 1 && x === n - 1) return 'G';
        return r() < pHole ? 'H' : 'F';
      }).join(''),
    );
    const path = shortestPath(map);
    if (path) return { prompt: `${map.join('/')}=`, target: path, size: n };
  }
}

/** Execute moves on the map in the prompt: right when it ends on G without leaving the map or falling in. */
export function frozenLakeSolved(p: SeqProblem, completion: string): boolean {
  const map = p.prompt.replace(/=$/, '').split('/');
  const n = map.length;
  let [y, x] = [0, 0];
  const moves = completion.trim();
  if (!/^[LRUD]+$/.test(moves)) return false;
  for (const m of moves) {
    y += MOVES[m][0];
    x += MOVES[m][1];
    if (y < 0 || x < 0 || y >= n || x >= n || map[y][x] === 'H') return false;
  }
  return map[y][x] === 'G';
}

/** Distinct problems from a generator (by prompt), seeded; `exclude` keeps test prompts out. */
export function makeSeqProblems(
  count: number,
  gen: (r: () => number) => SeqProblem,
  seed: number,
  exclude = new Set<string>(),
): SeqProblem[] {
  const r = rng(seed);
  const out: SeqProblem[] = [];
  const seen = new Set(exclude);
  for (let tries = 0; out.length < count && tries < count * 50; tries++) {
    const p = gen(r);
    if (seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push(p);
  }
  return out;
}
