// Pairwise outcomes between n items, aggregated: wins[i·n + j] counts "i beat j" and ties[i·n + j]
// (i < j) counts ties between i and j, each weighted (a vote of weight w adds w). Every rating method
// here (Bradley–Terry, Davidson, bootstrap, active selection) reads these sums; the win-rate matrix
// is read from them directly: W_ij = (wins_ij + ½·ties_ij) / (wins_ij + wins_ji + ties_ij).

/** One judged pair: items a and b (indices), outcome 1 when a won, 0 when b won, 0.5 for a tie. */
export interface Comparison {
  a: number;
  b: number;
  outcome: 0 | 0.5 | 1;
  /** How much the comparison counts (default 1). */
  weight?: number;
}

export class PairCounts {
  readonly wins: Float64Array;
  readonly ties: Float64Array;
  constructor(readonly n: number) {
    this.wins = new Float64Array(n * n);
    this.ties = new Float64Array(n * n);
  }

  static from(n: number, comparisons: Iterable<Comparison>): PairCounts {
    const c = new PairCounts(n);
    for (const x of comparisons) c.add(x.a, x.b, x.outcome, x.weight ?? 1);
    return c;
  }

  add(a: number, b: number, outcome: number, w = 1): void {
    const n = this.n;
    if (!(a >= 0 && a < n && b >= 0 && b < n && Number.isInteger(a) && Number.isInteger(b)))
      throw new RangeError(`pacer: comparison between items ${a} and ${b}, but there are ${n} items`);
    if (a === b) throw new RangeError(`pacer: item ${a} compared with itself`);
    if (outcome === 1) this.wins[a * n + b] += w;
    else if (outcome === 0) this.wins[b * n + a] += w;
    else if (outcome === 0.5) this.ties[Math.min(a, b) * n + Math.max(a, b)] += w;
    else throw new RangeError(`pacer: outcome must be 1, 0.5 or 0, got ${outcome}`);
  }

  /** Ties between i and j (either order). */
  tie(i: number, j: number): number {
    return this.ties[Math.min(i, j) * this.n + Math.max(i, j)];
  }

  /** Comparisons between i and j. */
  total(i: number, j: number): number {
    const n = this.n;
    return this.wins[i * n + j] + this.wins[j * n + i] + this.tie(i, j);
  }

  /** Comparisons each item took part in. */
  perItem(): Float64Array {
    const out = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) for (let j = 0; j < this.n; j++) if (i !== j) out[i] += this.total(i, j);
    return out;
  }

  /** Win rate of i over j with ties as half wins, or null when they never met. */
  winRate(i: number, j: number): number | null {
    const t = this.total(i, j);
    return t > 0 ? (this.wins[i * this.n + j] + 0.5 * this.tie(i, j)) / t : null;
  }

  /** The n×n win-rate matrix (null on the diagonal and for pairs never compared). */
  winMatrix(): Array<Array<number | null>> {
    return Array.from({ length: this.n }, (_, i) =>
      Array.from({ length: this.n }, (_, j) => (i === j ? null : this.winRate(i, j))),
    );
  }

  /** Wins, ties and losses of each item. */
  record(): Array<{ wins: number; ties: number; losses: number }> {
    const n = this.n;
    return Array.from({ length: n }, (_, i) => {
      let wins = 0,
        ties = 0,
        losses = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        wins += this.wins[i * n + j];
        losses += this.wins[j * n + i];
        ties += this.tie(i, j);
      }
      return { wins, ties, losses };
    });
  }

  /**
   * Does the maximum-likelihood Bradley–Terry estimate exist? (Ford 1957: for every split of the
   * items into two non-empty sets, some item of each set beat — or tied — some item of the other;
   * i.e. the "beat or tied" graph is strongly connected.)
   */
  mleExists(): boolean {
    const n = this.n;
    if (n < 2) return n === 1;
    const reach = (forward: boolean) => {
      const seen = new Uint8Array(n);
      const stack = [0];
      seen[0] = 1;
      while (stack.length) {
        const i = stack.pop()!;
        for (let j = 0; j < n; j++) {
          if (seen[j] || j === i) continue;
          const edge = (forward ? this.wins[i * n + j] : this.wins[j * n + i]) > 0 || this.tie(i, j) > 0;
          if (edge) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
      return seen.every((s) => s === 1);
    };
    return reach(true) && reach(false);
  }
}
