// MountainCar-v0 and MountainCarContinuous-v0 (Moore 1990), as gymnasium/envs/classic_control/
// mountain_car.py and continuous_mountain_car.py. A car on the curve y = 0.45·sin(3x) + 0.55,
// x ∈ [−1.2, 0.6], |v| ≤ 0.07, starting at rest at x ~ U(−0.6, −0.4).
//   Discrete (actions 0 push left, 1 none, 2 push right):
//     v' = clip(v + (a − 1)·0.001 − 0.0025·cos(3x), ±0.07); x' = clip(x + v', −1.2, 0.6); v' = 0 at the left
//     wall when moving left. Reward −1 per step; terminated when x' ≥ 0.5 (and v' ≥ 0); 200 steps
//     (reward_threshold −110).
//   Continuous (force = clip(a, −1, 1)): v' = clip(v + force·0.0015 − 0.0025·cos(3x), ±0.07), same x update
//     and wall; goal x' ≥ 0.45. Reward = 100·[goal] − 0.1·a² with the unclipped a (as Gymnasium does);
//     999 steps (reward_threshold 90). Gymnasium stores this state in float32 after every step, and so
//     does this port.
// Score: success = the car reached the flag (the episode terminated); the return is reported too.
import { drawLine, fillCircle, fillPolygon } from '../video/raster.js';
import { type Canvas, type EnvOptions, type Space, VectorEnv, BLACK } from './vector.js';

const MIN_POS = -1.2;
const MAX_POS = 0.6;
const MAX_SPEED = 0.07;

abstract class MountainCarBase extends VectorEnv {
  readonly observationSpace: Space = {
    type: 'box',
    shape: [2],
    low: [MIN_POS, -MAX_SPEED].map(Math.fround),
    high: [MAX_POS, MAX_SPEED].map(Math.fround),
  };
  readonly stateNames = ['position', 'velocity'] as const;
  readonly obsNames = ['position', 'velocity'] as const;
  readonly scoreKind = 'success' as const;
  readonly screen = [600, 400] as const;
  protected abstract readonly goalPosition: number;
  protected readonly s: Float64Array;
  /** Gymnasium decides termination before the continuous variant rounds the state to float32. */
  protected readonly term: Uint8Array;

  constructor(opts: EnvOptions) {
    super(opts);
    this.s = new Float64Array(2 * this.numEnvs);
    this.term = new Uint8Array(this.numEnvs);
  }

  protected resetEnv(i: number): void {
    this.s[2 * i] = this.rngs[i].uniform(-0.6, -0.4);
    this.s[2 * i + 1] = 0;
  }

  /** The shared position update; returns terminated. */
  protected move(i: number, velocity: number): boolean {
    let v = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
    let x = this.s[2 * i] + v;
    x = Math.min(Math.max(x, MIN_POS), MAX_POS);
    if (x === MIN_POS && v < 0) v = 0;
    this.s[2 * i] = x;
    this.s[2 * i + 1] = v;
    const done = x >= this.goalPosition && v >= 0;
    this.term[i] = done ? 1 : 0;
    return done;
  }

  protected terminal(i: number): boolean {
    return this.term[i] === 1;
  }

  protected writeObs(i: number, out: Float32Array): void {
    out[0] = this.s[2 * i];
    out[1] = this.s[2 * i + 1];
  }

  protected success(_i: number, terminated: boolean): boolean {
    return terminated;
  }

  protected readState(i: number): number[] {
    return [this.s[2 * i], this.s[2 * i + 1]];
  }

  protected writeState(i: number, st: number[]): void {
    this.s[2 * i] = st[0];
    this.s[2 * i + 1] = st[1];
  }

  protected draw(i: number, c: Canvas): void {
    const scale = 600 / (MAX_POS - MIN_POS);
    const h = (x: number) => Math.sin(3 * x) * 0.45 + 0.55;
    for (let k = 0; k < 99; k++) {
      const x0 = MIN_POS + ((MAX_POS - MIN_POS) * k) / 99;
      const x1 = MIN_POS + ((MAX_POS - MIN_POS) * (k + 1)) / 99;
      const [a, b] = c.pts([
        [(x0 - MIN_POS) * scale, h(x0) * scale],
        [(x1 - MIN_POS) * scale, h(x1) * scale],
      ]);
      drawLine(c.frame, a[0], a[1], b[0], b[1], Math.max(1, c.scale), BLACK);
    }
    const pos = this.s[2 * i];
    const ang = Math.cos(3 * pos);
    const place = ([x, y]: [number, number]): [number, number] => [
      x * Math.cos(ang) - y * Math.sin(ang) + (pos - MIN_POS) * scale,
      x * Math.sin(ang) + y * Math.cos(ang) + 10 + h(pos) * scale,
    ];
    const body = (
      [
        [-20, 0],
        [-20, 20],
        [20, 20],
        [20, 0],
      ] as Array<[number, number]>
    ).map(place);
    fillPolygon(c.frame, c.pts(body), BLACK);
    for (const wx of [10, -10]) {
      const [x, y] = place([wx, 0]);
      fillCircle(c.frame, c.x(Math.trunc(x)), c.y(Math.trunc(y)), 8 * c.scale, [128, 128, 128]);
    }
    const fx = Math.trunc((this.goalPosition - MIN_POS) * scale);
    const fy1 = Math.trunc(h(this.goalPosition) * scale);
    const fy2 = fy1 + 50;
    drawLine(c.frame, c.x(fx), c.y(fy1), c.x(fx), c.y(fy2), Math.max(1, c.scale), BLACK);
    const flag: Array<[number, number]> = [
      [fx, fy2],
      [fx, fy2 - 10],
      [fx + 25, fy2 - 5],
    ];
    fillPolygon(c.frame, c.pts(flag), [204, 204, 0]);
  }
}

export class MountainCarEnv extends MountainCarBase {
  readonly id = 'MountainCar-v0';
  readonly actionSpace: Space = { type: 'discrete', n: 3 };
  readonly maxEpisodeSteps = 200;
  protected readonly goalPosition = 0.5;

  constructor(opts: EnvOptions = {}) {
    super(opts);
  }

  protected stepEnv(i: number, action: number): number {
    const x = this.s[2 * i];
    this.move(i, this.s[2 * i + 1] + ((action - 1) * 0.001 + Math.cos(3 * x) * -0.0025));
    return -1.0;
  }
}

export class MountainCarContinuousEnv extends MountainCarBase {
  readonly id = 'MountainCarContinuous-v0';
  readonly actionSpace: Space = { type: 'box', shape: [1], low: [-1], high: [1] };
  readonly maxEpisodeSteps = 999;
  protected readonly goalPosition = 0.45;

  constructor(opts: EnvOptions = {}) {
    super(opts);
  }

  protected stepEnv(i: number, action: ArrayLike<number>): number {
    const x = this.s[2 * i];
    const force = Math.min(Math.max(action[0], -1), 1);
    const v = this.s[2 * i + 1] + (force * 0.0015 - 0.0025 * Math.cos(3 * x));
    const terminated = this.move(i, v);
    this.s[2 * i] = Math.fround(this.s[2 * i]);
    this.s[2 * i + 1] = Math.fround(this.s[2 * i + 1]);
    return (terminated ? 100.0 : 0) - action[0] ** 2 * 0.1;
  }
}
