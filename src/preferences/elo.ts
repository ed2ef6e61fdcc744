// Online Elo, for reference next to the Bradley–Terry fit (it depends on the order of the votes,
// which is why Chatbot Arena moved to BT in Dec 2023). FastChat's compute_elo: every item starts at
// 1000; for a vote between a and b, E_a = 1 / (1 + 10^((R_b − R_a)/400)), S_a = 1, ½ or 0, and
// R_a += K·(S_a − E_a), R_b += K·(1 − S_a − E_b), with K = 4.
import type { Comparison } from './counts.js';

export interface EloOptions {
  k?: number;
  scale?: number;
  base?: number;
  init?: number;
}

export function onlineElo(n: number, comparisons: readonly Comparison[], o: EloOptions = {}): Float64Array {
  const K = o.k ?? 4,
    scale = o.scale ?? 400,
    base = o.base ?? 10;
  const R = new Float64Array(n).fill(o.init ?? 1000);
  for (const c of comparisons) {
    const ra = R[c.a],
      rb = R[c.b];
    const ea = 1 / (1 + base ** ((rb - ra) / scale));
    const eb = 1 / (1 + base ** ((ra - rb) / scale));
    const w = c.weight ?? 1;
    R[c.a] += w * K * (c.outcome - ea);
    R[c.b] += w * K * (1 - c.outcome - eb);
  }
  return R;
}
