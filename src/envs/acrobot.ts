// Acrobot-v1 (Sutton 1996; dynamics of Sutton & Barto's book), as gymnasium/envs/classic_control/acrobot.py:
// two links (m = 1, l = 1, centre of mass at 0.5, inertia 1), torque a ∈ {−1, 0, +1} on the middle joint.
//   d1 = m1·lc1² + m2·(l1² + lc2² + 2·l1·lc2·cosθ2) + I1 + I2;  d2 = m2·(lc2² + l1·lc2·cosθ2) + I2
//   φ2 = m2·lc2·g·cos(θ1 + θ2 − π/2)
//   φ1 = −m2·l1·lc2·θ̇2²·sinθ2 − 2·m2·l1·lc2·θ̇2·θ̇1·sinθ2 + (m1·lc1 + m2·l1)·g·cos(θ1 − π/2) + φ2
//   θ̈2 = (a + d2/d1·φ1 − m2·l1·lc2·θ̇1²·sinθ2 − φ2) / (m2·lc2² + I2 − d2²/d1);  θ̈1 = −(d2·θ̈2 + φ1)/d1
// integrated by one classical RK4 step of dt = 0.2 (Gymnasium's rk4 over t = [0, dt]); then θ1, θ2 are
// wrapped into [−π, π] and θ̇1, θ̇2 clipped to ±4π, ±9π. Reward −1 per step, 0 on the terminating step;
// terminated when −cosθ1 − cos(θ1 + θ2) > 1 (the tip above the line); 500 steps (reward_threshold −100).
// Reset: each of [θ1, θ2, θ̇1, θ̇2] ~ U(−0.1, 0.1), cast to float32 as Gymnasium does. Observation
// [cosθ1, sinθ1, cosθ2, sinθ2, θ̇1, θ̇2] in float32. Score: success = the tip got above the line.
import { drawLine, fillCircle, fillPolygon } from '../video/raster.js';
import { type Canvas, type EnvOptions, type Space, VectorEnv, BLACK } from './vector.js';

const DT = 0.2;
const L1 = 1.0;
const M1 = 1.0;
const M2 = 1.0;
const LC1 = 0.5;
const LC2 = 0.5;
const I1 = 1.0;
const I2 = 1.0;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const TORQUE = [-1.0, 0.0, 1.0];

/** Gymnasium's _dsdt ("book" dynamics): derivatives of [θ1, θ2, θ̇1, θ̇2] under torque a, into out. */
function dsdt(s: ArrayLike<number>, a: number, out: Float64Array): void {
  const g = 9.8;
  const theta1 = s[0];
  const theta2 = s[1];
  const dtheta1 = s[2];
  const dtheta2 = s[3];
  // squares written as products: x * x is the correctly rounded x², as NumPy's x**2 is
  const cos2 = Math.cos(theta2);
  const sin2 = Math.sin(theta2);
  const d1 = M1 * (LC1 * LC1) + M2 * (L1 * L1 + LC2 * LC2 + 2 * L1 * LC2 * cos2) + I1 + I2;
  const d2 = M2 * (LC2 * LC2 + L1 * LC2 * cos2) + I2;
  const phi2 = M2 * LC2 * g * Math.cos(theta1 + theta2 - Math.PI / 2.0);
  const phi1 =
    -M2 * L1 * LC2 * (dtheta2 * dtheta2) * sin2 -
    2 * M2 * L1 * LC2 * dtheta2 * dtheta1 * sin2 +
    (M1 * LC1 + M2 * L1) * g * Math.cos(theta1 - Math.PI / 2) +
    phi2;
  const ddtheta2 =
    (a + (d2 / d1) * phi1 - M2 * L1 * LC2 * (dtheta1 * dtheta1) * sin2 - phi2) /
    (M2 * (LC2 * LC2) + I2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
}

const k1 = new Float64Array(4);
const k2 = new Float64Array(4);
const k3 = new Float64Array(4);
const k4 = new Float64Array(4);
const y = new Float64Array(4);
const cur = new Float64Array(4);

/** One RK4 step of size dt, as Gymnasium's rk4(derivs, y0, [0, dt]), into out (which may be y0). */
function rk4(y0: Float64Array, a: number, dt: number, out: Float64Array): void {
  const dt2 = dt / 2.0;
  dsdt(y0, a, k1);
  for (let j = 0; j < 4; j++) y[j] = y0[j] + dt2 * k1[j];
  dsdt(y, a, k2);
  for (let j = 0; j < 4; j++) y[j] = y0[j] + dt2 * k2[j];
  dsdt(y, a, k3);
  for (let j = 0; j < 4; j++) y[j] = y0[j] + dt * k3[j];
  dsdt(y, a, k4);
  for (let j = 0; j < 4; j++) out[j] = y0[j] + (dt / 6.0) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
}

function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  let v = x;
  while (v > M) v -= diff;
  while (v < m) v += diff;
  return v;
}

function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

export class AcrobotEnv extends VectorEnv {
  readonly id = 'Acrobot-v1';
  readonly observationSpace: Space = {
    type: 'box',
    shape: [6],
    low: [-1, -1, -1, -1, -MAX_VEL_1, -MAX_VEL_2].map(Math.fround),
    high: [1, 1, 1, 1, MAX_VEL_1, MAX_VEL_2].map(Math.fround),
  };
  readonly actionSpace: Space = { type: 'discrete', n: 3 };
  readonly maxEpisodeSteps = 500;
  readonly stateNames = ['theta1', 'theta2', 'dtheta1', 'dtheta2'] as const;
  readonly obsNames = ['cos_theta1', 'sin_theta1', 'cos_theta2', 'sin_theta2', 'dtheta1', 'dtheta2'] as const;
  readonly scoreKind = 'success' as const;
  readonly screen = [500, 500] as const;
  private readonly s: Float64Array;

  constructor(opts: EnvOptions = {}) {
    super(opts);
    this.s = new Float64Array(4 * this.numEnvs);
  }

  protected resetEnv(i: number): void {
    for (let k = 0; k < 4; k++) this.s[4 * i + k] = Math.fround(this.rngs[i].uniform(-0.1, 0.1));
  }

  protected stepEnv(i: number, action: number): number {
    const o = 4 * i;
    for (let k = 0; k < 4; k++) cur[k] = this.s[o + k];
    rk4(cur, TORQUE[action], DT, cur);
    this.s[o] = wrap(cur[0], -Math.PI, Math.PI);
    this.s[o + 1] = wrap(cur[1], -Math.PI, Math.PI);
    this.s[o + 2] = bound(cur[2], -MAX_VEL_1, MAX_VEL_1);
    this.s[o + 3] = bound(cur[3], -MAX_VEL_2, MAX_VEL_2);
    return this.terminal(i) ? 0.0 : -1.0;
  }

  protected terminal(i: number): boolean {
    const o = 4 * i;
    return -Math.cos(this.s[o]) - Math.cos(this.s[o + 1] + this.s[o]) > 1.0;
  }

  protected writeObs(i: number, out: Float32Array): void {
    const o = 4 * i;
    out[0] = Math.cos(this.s[o]);
    out[1] = Math.sin(this.s[o]);
    out[2] = Math.cos(this.s[o + 1]);
    out[3] = Math.sin(this.s[o + 1]);
    out[4] = this.s[o + 2];
    out[5] = this.s[o + 3];
  }

  protected success(_i: number, terminated: boolean): boolean {
    return terminated;
  }

  protected readState(i: number): number[] {
    const o = 4 * i;
    return [this.s[o], this.s[o + 1], this.s[o + 2], this.s[o + 3]];
  }

  protected writeState(i: number, st: number[]): void {
    this.s.set(st, 4 * i);
  }

  protected draw(i: number, c: Canvas): void {
    const s = this.s.subarray(4 * i, 4 * i + 4);
    const scale = 500 / (2.2 * 2);
    const off = 250;
    const p1: [number, number] = [L1 * Math.sin(s[0]) * scale, -L1 * Math.cos(s[0]) * scale];
    const joints: Array<[number, number]> = [[0, 0], p1];
    const thetas = [s[0] - Math.PI / 2, s[0] + s[1] - Math.PI / 2];
    drawLine(c.frame, c.x(-2.2 * scale + off), c.y(scale + off), c.x(2.2 * scale + off), c.y(scale + off), 1, BLACK);
    for (let k = 0; k < 2; k++) {
      const x = joints[k][0] + off;
      const y = joints[k][1] + off;
      const th = thetas[k];
      const link = (
        [
          [0, -0.1 * scale],
          [0, 0.1 * scale],
          [scale, 0.1 * scale],
          [scale, -0.1 * scale],
        ] as Array<[number, number]>
      ).map(([a, b]): [number, number] => [
        a * Math.cos(th) - b * Math.sin(th) + x,
        a * Math.sin(th) + b * Math.cos(th) + y,
      ]);
      fillPolygon(c.frame, c.pts(link), [0, 204, 204]);
      fillCircle(c.frame, c.x(Math.trunc(x)), c.y(Math.trunc(y)), Math.trunc(0.1 * scale) * c.scale, [204, 204, 0]);
    }
  }
}
