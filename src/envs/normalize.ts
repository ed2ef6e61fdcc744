// Observation and reward normalisation for vector environments, as Gymnasium's wrappers compute them
// (gymnasium/wrappers/utils.py RunningMeanStd; wrappers/vector NormalizeObservation, NormalizeReward), with
// the clipping CleanRL's ppo_continuous_action.py adds:
//   RunningMeanStd: parallel-algorithm moments, starting from mean 0, var 1, count 1e-4;
//   observations: o' = clip((o − μ)/√(σ² + 1e-8), ±clip), the statistics updated with each batch first;
//   rewards: G_i ← G_i·γ·(1 − terminated_i) + r_i per copy, statistics of G updated with each batch,
//            r' = clip(r/√(Var G + 1e-8), ±clip) (no mean subtracted, as Gymnasium).
/** Running mean/variance by the parallel algorithm (gymnasium.wrappers.utils.RunningMeanStd). */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count = 1e-4;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.var = new Float64Array(dim).fill(1);
  }
  /** Update from n rows of dim values (row-major). */
  update(x: ArrayLike<number>, n: number): void {
    const d = this.dim;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += x[i * d + j];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[i * d + j] - m) ** 2;
      v /= n;
      const delta = m - this.mean[j];
      const tot = this.count + n;
      const m2 = this.var[j] * this.count + v * n + (delta * delta * this.count * n) / tot;
      this.mean[j] += (delta * n) / tot;
      this.var[j] = m2 / tot;
    }
    this.count += n;
  }
  toJSON(): { mean: number[]; var: number[]; count: number } {
    return { mean: Array.from(this.mean), var: Array.from(this.var), count: this.count };
  }
  load(s: { mean: number[]; var: number[]; count: number }): void {
    this.mean.set(s.mean);
    this.var.set(s.var);
    this.count = s.count;
  }
}

export class ObservationNormalizer {
  readonly rms: RunningMeanStd;
  constructor(
    readonly dim: number,
    readonly clip = 10,
  ) {
    this.rms = new RunningMeanStd(dim);
  }
  /** The observations of a batch (one array per copy) normalised into one row-major array; update first if asked. */
  normalize(obs: ArrayLike<number>[], update: boolean): Float32Array {
    const d = this.dim;
    const out = new Float32Array(obs.length * d);
    obs.forEach((o, i) => out.set(o, i * d));
    if (update) this.rms.update(out, obs.length);
    for (let k = 0; k < out.length; k++) {
      const j = k % d;
      const v = (out[k] - this.rms.mean[j]) / Math.sqrt(this.rms.var[j] + 1e-8);
      out[k] = Math.min(Math.max(v, -this.clip), this.clip);
    }
    return out;
  }
}

export class RewardNormalizer {
  readonly rms = new RunningMeanStd(1);
  readonly returns: Float64Array;
  constructor(
    readonly numEnvs: number,
    readonly gamma: number,
    readonly clip = 10,
  ) {
    this.returns = new Float64Array(numEnvs);
  }
  /** Normalise one batch of rewards in place (time-major [numSteps·numEnvs]), step by step in order. */
  normalize(rewards: Float64Array, terminated: ArrayLike<number>, numSteps: number): void {
    const N = this.numEnvs;
    for (let t = 0; t < numSteps; t++) {
      for (let i = 0; i < N; i++) {
        const at = t * N + i;
        this.returns[i] = this.returns[i] * this.gamma * (1 - terminated[at]) + rewards[at];
      }
      this.rms.update(this.returns, N);
      const scale = Math.sqrt(this.rms.var[0] + 1e-8);
      for (let i = 0; i < N; i++) {
        const at = t * N + i;
        rewards[at] = Math.min(Math.max(rewards[at] / scale, -this.clip), this.clip);
      }
    }
  }
  toJSON(): { rms: ReturnType<RunningMeanStd['toJSON']>; returns: number[] } {
    return { rms: this.rms.toJSON(), returns: Array.from(this.returns) };
  }
  load(s: { rms: ReturnType<RunningMeanStd['toJSON']>; returns: number[] }): void {
    this.rms.load(s.rms);
    this.returns.set(s.returns);
  }
}
