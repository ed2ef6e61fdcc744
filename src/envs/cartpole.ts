// CartPole-v1 (Barto, Sutton & Anderson 1983), as gymnasium/envs/classic_control/cartpole.py:
//   force = ±10 (action 1 pushes right); with M = 1.0 (cart), m = 0.1 (pole), l = 0.5 (half the pole):
//   temp = (force + m·l·θ̇²·sinθ)/(M+m);  θ̈ = (g·sinθ − cosθ·temp) / (l·(4/3 − m·cos²θ/(M+m)));
//   ẍ = temp − m·l·θ̈·cosθ/(M+m);  g = 9.8, explicit Euler with τ = 0.02:
//   x += τ·ẋ, ẋ += τ·ẍ, θ += τ·θ̇, θ̇ += τ·θ̈.
// Reward +1 every step (also the terminating one); terminated when |x| > 2.4 or |θ| > 12° (2π·12/360);
// truncated at 500 steps (reward_threshold 475). Reset: each of [x, ẋ, θ, θ̇] ~ U(−0.05, 0.05).
// Observation = the state in float32; bounds ±[4.8, ∞, 0.419, ∞]. Score: the return (balance time);
// success: the episode reached the time limit without falling.
import { fillCircle, fillPolygon, drawLine } from '../video/raster.js';
import { type Canvas, type EnvOptions, type Space, VectorEnv, BLACK } from './vector.js';

const GRAVITY = 9.8;
const MASSCART = 1.0;
const MASSPOLE = 0.1;
const TOTAL_MASS = MASSPOLE + MASSCART;
const LENGTH = 0.5;
const POLEMASS_LENGTH = MASSPOLE * LENGTH;
const FORCE_MAG = 10.0;
const TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
const X_THRESHOLD = 2.4;

export class CartPoleEnv extends VectorEnv {
  readonly id = 'CartPole-v1';
  readonly observationSpace: Space = {
    type: 'box',
    shape: [4],
    low: [-X_THRESHOLD * 2, -Infinity, -THETA_THRESHOLD * 2, -Infinity].map(Math.fround),
    high: [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity].map(Math.fround),
  };
  readonly actionSpace: Space = { type: 'discrete', n: 2 };
  readonly maxEpisodeSteps = 500;
  readonly stateNames = ['x', 'x_dot', 'theta', 'theta_dot'] as const;
  readonly obsNames = ['cart_position', 'cart_velocity', 'pole_angle', 'pole_angular_velocity'] as const;
  readonly scoreKind = 'return' as const;
  readonly screen = [600, 400] as const;
  private readonly s: Float64Array;

  constructor(opts: EnvOptions = {}) {
    super(opts);
    this.s = new Float64Array(4 * this.numEnvs);
  }

  protected resetEnv(i: number): void {
    for (let k = 0; k < 4; k++) this.s[4 * i + k] = this.rngs[i].uniform(-0.05, 0.05);
  }

  protected stepEnv(i: number, action: number): number {
    const s = this.s;
    const o = 4 * i;
    const x = s[o];
    const xDot = s[o + 1];
    const theta = s[o + 2];
    const thetaDot = s[o + 3];
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sin) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (LENGTH * (4.0 / 3.0 - (MASSPOLE * (cos * cos)) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    s[o] = x + TAU * xDot;
    s[o + 1] = xDot + TAU * xAcc;
    s[o + 2] = theta + TAU * thetaDot;
    s[o + 3] = thetaDot + TAU * thetaAcc;
    return 1.0;
  }

  protected terminal(i: number): boolean {
    const x = this.s[4 * i];
    const theta = this.s[4 * i + 2];
    return x < -X_THRESHOLD || x > X_THRESHOLD || theta < -THETA_THRESHOLD || theta > THETA_THRESHOLD;
  }

  protected writeObs(i: number, out: Float32Array): void {
    for (let k = 0; k < 4; k++) out[k] = this.s[4 * i + k];
  }

  protected success(_i: number, terminated: boolean, truncated: boolean): boolean {
    return truncated && !terminated;
  }

  protected readState(i: number): number[] {
    const o = 4 * i;
    return [this.s[o], this.s[o + 1], this.s[o + 2], this.s[o + 3]];
  }

  protected writeState(i: number, st: number[]): void {
    this.s.set(st, 4 * i);
  }

  protected draw(i: number, c: Canvas): void {
    const scale = 600 / (X_THRESHOLD * 2);
    const poleWidth = 10;
    const poleLen = scale * (2 * LENGTH);
    const cartX = this.s[4 * i] * scale + 300;
    const cartY = 100;
    const axle = cartY + 30 / 4;
    fillPolygon(
      c.frame,
      c.pts([
        [cartX - 25, cartY - 15],
        [cartX - 25, cartY + 15],
        [cartX + 25, cartY + 15],
        [cartX + 25, cartY - 15],
      ]),
      BLACK,
    );
    const th = -this.s[4 * i + 2];
    const rot = ([a, b]: [number, number]): [number, number] => [
      a * Math.cos(th) - b * Math.sin(th) + cartX,
      a * Math.sin(th) + b * Math.cos(th) + axle,
    ];
    const l = -poleWidth / 2;
    const r = poleWidth / 2;
    const t = poleLen - poleWidth / 2;
    const b = -poleWidth / 2;
    const pole = (
      [
        [l, b],
        [l, t],
        [r, t],
        [r, b],
      ] as Array<[number, number]>
    ).map(rot);
    fillPolygon(c.frame, c.pts(pole), [202, 152, 101]);
    fillCircle(c.frame, c.x(cartX), c.y(axle), (poleWidth / 2) * c.scale, [129, 132, 203]);
    drawLine(c.frame, 0, c.y(cartY), c.frame.width, c.y(cartY), Math.max(1, c.scale), BLACK);
  }
}
