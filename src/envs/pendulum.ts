// Pendulum-v1, as gymnasium/envs/classic_control/pendulum.py: a rod (m = 1, l = 1, g = 10) swung up by a
// torque u clipped to [−2, 2]; θ = 0 is upright.
//   cost = angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²;  reward = −cost (from the state before the step)
//   θ̇' = clip(θ̇ + (3g/(2l)·sinθ + 3/(m·l²)·u)·dt, −8, 8);  θ' = θ + θ̇'·dt, dt = 0.05 (semi-implicit Euler).
// Never terminates; truncated at 200 steps. Reset: θ ~ U(−π, π), θ̇ ~ U(−1, 1). Observation
// [cos θ, sin θ, θ̇] in float32, bounds ±[1, 1, 8]. Score: the return (no success test; CleanRL and
// rl-zoo count ≥ −200 as solved).
import { fillCircle, fillPolygon, fillRect } from '../video/raster.js';
import { type Canvas, type EnvOptions, type Space, VectorEnv, BLACK, angleNormalize } from './vector.js';

const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;
const G = 10.0;
const M = 1.0;
const L = 1.0;

export class PendulumEnv extends VectorEnv {
  readonly id = 'Pendulum-v1';
  readonly observationSpace: Space = { type: 'box', shape: [3], low: [-1, -1, -MAX_SPEED], high: [1, 1, MAX_SPEED] };
  readonly actionSpace: Space = { type: 'box', shape: [1], low: [-MAX_TORQUE], high: [MAX_TORQUE] };
  readonly maxEpisodeSteps = 200;
  readonly stateNames = ['theta', 'theta_dot'] as const;
  readonly obsNames = ['cos_theta', 'sin_theta', 'theta_dot'] as const;
  readonly scoreKind = 'return' as const;
  readonly screen = [500, 500] as const;
  private readonly s: Float64Array;
  /** The last applied (clipped) torque per copy, for rendering; NaN before the first step. */
  private readonly lastU: Float64Array;

  constructor(opts: EnvOptions = {}) {
    super(opts);
    this.s = new Float64Array(2 * this.numEnvs);
    this.lastU = new Float64Array(this.numEnvs).fill(Number.NaN);
  }

  protected resetEnv(i: number): void {
    this.s[2 * i] = this.rngs[i].uniform(-Math.PI, Math.PI);
    this.s[2 * i + 1] = this.rngs[i].uniform(-1, 1);
    this.lastU[i] = Number.NaN;
  }

  protected stepEnv(i: number, action: ArrayLike<number>): number {
    const th = this.s[2 * i];
    const thdot = this.s[2 * i + 1];
    const u = Math.min(Math.max(action[0], -MAX_TORQUE), MAX_TORQUE);
    this.lastU[i] = u;
    const costs = angleNormalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2;
    let newThdot = thdot + (((3 * G) / (2 * L)) * Math.sin(th) + (3.0 / (M * L ** 2)) * u) * DT;
    newThdot = Math.min(Math.max(newThdot, -MAX_SPEED), MAX_SPEED);
    this.s[2 * i] = th + newThdot * DT;
    this.s[2 * i + 1] = newThdot;
    return -costs;
  }

  protected terminal(): boolean {
    return false;
  }

  protected writeObs(i: number, out: Float32Array): void {
    const th = this.s[2 * i];
    out[0] = Math.cos(th);
    out[1] = Math.sin(th);
    out[2] = this.s[2 * i + 1];
  }

  protected success(): null {
    return null;
  }

  protected readState(i: number): number[] {
    return [this.s[2 * i], this.s[2 * i + 1]];
  }

  protected writeState(i: number, st: number[]): void {
    this.s[2 * i] = st[0];
    this.s[2 * i + 1] = st[1];
  }

  /** Gymnasium's drawing; its clockwise-arrow image (scaled by |u|) is drawn as a bar of length ∝ u. */
  protected draw(i: number, c: Canvas): void {
    const scale = 500 / (2.2 * 2);
    const off = 250;
    const rodLen = 1 * scale;
    const rodW = 0.2 * scale;
    const a = this.s[2 * i] + Math.PI / 2;
    const rot = ([x, y]: [number, number]): [number, number] => [
      x * Math.cos(a) - y * Math.sin(a) + off,
      x * Math.sin(a) + y * Math.cos(a) + off,
    ];
    const rod = (
      [
        [0, -rodW / 2],
        [0, rodW / 2],
        [rodLen, rodW / 2],
        [rodLen, -rodW / 2],
      ] as Array<[number, number]>
    ).map(rot);
    const red = [204, 77, 77] as const;
    fillPolygon(c.frame, c.pts(rod), red);
    fillCircle(c.frame, c.x(off), c.y(off), (rodW / 2) * c.scale, red);
    const [ex, ey] = rot([rodLen, 0]);
    fillCircle(c.frame, c.x(ex), c.y(ey), (rodW / 2) * c.scale, red);
    const u = this.lastU[i];
    if (Number.isFinite(u) && u !== 0) {
      const w = (scale * Math.abs(u)) / 2;
      fillRect(c.frame, c.x(u > 0 ? off - w : off), c.y(40), c.x(w), c.x(8), BLACK);
    }
    fillCircle(c.frame, c.x(off), c.y(off), 0.05 * scale * c.scale, BLACK);
  }
}
