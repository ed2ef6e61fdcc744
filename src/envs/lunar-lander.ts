// LunarLander-v3 (discrete; Oleg Klimov), ported from gymnasium/envs/box2d/lunar_lander.py onto planck
// (a JavaScript rewrite of Box2D 2.x) with the same constants, bodies, fixtures, joint, contact rules, engine
// impulses, reward and termination:
//   reward = shaping_t − shaping_{t−1} − 0.3·[main engine] − 0.03·[side engine], with
//   shaping = −100·‖(x, y)‖ − 100·‖(vx, vy)‖ − 100·|angle| + 10·leg1 + 10·leg2 (observation units);
//   −100 (terminated) when the body touches the ground or |x| ≥ 1; +100 (terminated) when the lander
//   falls asleep (comes to rest). 1000 steps (reward_threshold 200). Actions: 0 nothing, 1 left engine,
//   2 main engine, 3 right engine. Terrain, initial push and engine dispersion are drawn from the
//   NumPy generator in Gymnasium's order, so a seed gives Gymnasium's terrain and initial force.
// Score: success = the episode ended with the lander at rest between the flags (the +100 outcome with
// x inside the helipad); the Gymnasium return is reported beside it.
// Differences from Gymnasium (trajectories agree qualitatively, not to the bit):
//   - planck computes in float64 where Box2D (pybox2d, 2.3) uses float32, and its solver is a rewrite,
//     so states drift apart after contacts and many steps;
//   - flame particles (bodies that only collide with the ground and never touch the lander) are not
//     simulated or drawn;
//   - wind/turbulence and the continuous-action variant (Gymnasium options) are not offered;
//   - setState() is not offered: the state is a Box2D world, not a vector.
import * as planck from 'planck';
import { drawLine, fillPolygon } from '../video/raster.js';
import { type Canvas, type EnvOptions, type Space, VectorEnv } from './vector.js';

const FPS = 50;
const SCALE = 30.0;
const MAIN_ENGINE_POWER = 13.0;
const SIDE_ENGINE_POWER = 0.6;
const INITIAL_RANDOM = 1000.0;
const LANDER_POLY: Array<[number, number]> = [
  [-14, 17],
  [-17, 0],
  [-17, -10],
  [17, -10],
  [17, 0],
  [14, 17],
];
const LEG_AWAY = 20;
const LEG_DOWN = 18;
const LEG_W = 2;
const LEG_H = 8;
const LEG_SPRING_TORQUE = 40;
const SIDE_ENGINE_HEIGHT = 14;
const SIDE_ENGINE_AWAY = 12;
const MAIN_ENGINE_Y_LOCATION = 4;
const VIEWPORT_W = 600;
const VIEWPORT_H = 400;
const W = VIEWPORT_W / SCALE;
const H = VIEWPORT_H / SCALE;
const CHUNKS = 11;

interface Lander {
  world: planck.World;
  lander: planck.Body;
  legs: [planck.Body, planck.Body];
  legContact: [boolean, boolean];
  gameOver: boolean;
  prevShaping: number | null;
  terminated: boolean;
  helipadX1: number;
  helipadX2: number;
  helipadY: number;
  skyPolys: Array<Array<[number, number]>>;
  state: Float64Array;
}

function buildTerrain(world: planck.World, rng: { uniform(lo: number, hi: number): number }) {
  const height = Array.from({ length: CHUNKS + 1 }, () => rng.uniform(0, H / 2));
  const chunkX = Array.from({ length: CHUNKS }, (_, i) => (W / (CHUNKS - 1)) * i);
  const helipadY = H / 4;
  for (let k = -2; k <= 2; k++) height[Math.floor(CHUNKS / 2) + k] = helipadY;
  const smoothY = Array.from(
    { length: CHUNKS },
    (_, i) => 0.33 * (height[i - 1 < 0 ? CHUNKS : i - 1] + height[i] + height[i + 1]),
  );
  const moon = world.createBody({ type: 'static' });
  moon.createFixture({ shape: new planck.EdgeShape({ x: 0, y: 0 }, { x: W, y: 0 }), density: 0, friction: 0.2 });
  const skyPolys: Array<Array<[number, number]>> = [];
  for (let i = 0; i < CHUNKS - 1; i++) {
    const p1: [number, number] = [chunkX[i], smoothY[i]];
    const p2: [number, number] = [chunkX[i + 1], smoothY[i + 1]];
    moon.createFixture({
      shape: new planck.EdgeShape({ x: p1[0], y: p1[1] }, { x: p2[0], y: p2[1] }),
      density: 0,
      friction: 0.1,
    });
    skyPolys.push([p1, p2, [p2[0], H], [p1[0], H]]);
  }
  const half = Math.floor(CHUNKS / 2);
  return { helipadX1: chunkX[half - 1], helipadX2: chunkX[half + 1], helipadY, skyPolys };
}

function buildLander(world: planck.World, rng: { uniform(lo: number, hi: number): number }) {
  const x0 = VIEWPORT_W / SCALE / 2;
  const y0 = VIEWPORT_H / SCALE;
  const lander = world.createBody({ type: 'dynamic', position: { x: x0, y: y0 }, angle: 0 });
  lander.createFixture({
    shape: new planck.PolygonShape(LANDER_POLY.map(([x, y]) => ({ x: x / SCALE, y: y / SCALE }))),
    density: 5.0,
    friction: 0.1,
    filterCategoryBits: 0x0010,
    filterMaskBits: 0x001,
    restitution: 0.0,
  });
  const fx = rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM);
  const fy = rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM);
  lander.applyForceToCenter({ x: fx, y: fy }, true);
  const legs = [-1, 1].map((i) => {
    const leg = world.createBody({
      type: 'dynamic',
      position: { x: x0 - (i * LEG_AWAY) / SCALE, y: y0 },
      angle: i * 0.05,
    });
    leg.createFixture({
      shape: new planck.BoxShape(LEG_W / SCALE, LEG_H / SCALE),
      density: 1.0,
      friction: 0.2,
      restitution: 0.0,
      filterCategoryBits: 0x0020,
      filterMaskBits: 0x001,
    });
    world.createJoint(
      new planck.RevoluteJoint({
        bodyA: lander,
        bodyB: leg,
        localAnchorA: { x: 0, y: 0 },
        localAnchorB: { x: (i * LEG_AWAY) / SCALE, y: LEG_DOWN / SCALE },
        referenceAngle: 0, // pybox2d's revoluteJointDef leaves it 0; planck would default to the bodies' difference
        enableMotor: true,
        enableLimit: true,
        maxMotorTorque: LEG_SPRING_TORQUE,
        motorSpeed: 0.3 * i,
        lowerAngle: i === -1 ? 0.9 - 0.5 : -0.9,
        upperAngle: i === -1 ? 0.9 : -0.9 + 0.5,
      }),
    );
    return leg;
  }) as [planck.Body, planck.Body];
  return { lander, legs };
}

export class LunarLanderEnv extends VectorEnv {
  readonly id = 'LunarLander-v3';
  readonly observationSpace: Space = {
    type: 'box',
    shape: [8],
    low: [-2.5, -2.5, -10, -10, -2 * Math.PI, -10, 0, 0].map(Math.fround),
    high: [2.5, 2.5, 10, 10, 2 * Math.PI, 10, 1, 1].map(Math.fround),
  };
  readonly actionSpace: Space = { type: 'discrete', n: 4 };
  readonly maxEpisodeSteps = 1000;
  readonly stateNames = ['x', 'y', 'vx', 'vy', 'angle', 'angular_velocity', 'leg1_contact', 'leg2_contact'] as const;
  readonly obsNames = this.stateNames;
  readonly scoreKind = 'success' as const;
  readonly screen = [600, 400] as const;
  private readonly envs: Lander[];

  constructor(opts: EnvOptions = {}) {
    super(opts);
    this.envs = new Array(this.numEnvs);
  }

  protected resetEnv(i: number): void {
    const world = new planck.World({ gravity: { x: 0, y: -10 } });
    const rng = this.rngs[i];
    const terrain = buildTerrain(world, rng);
    const { lander, legs } = buildLander(world, rng);
    const e: Lander = {
      world,
      lander,
      legs,
      legContact: [false, false],
      gameOver: false,
      prevShaping: null,
      terminated: false,
      ...terrain,
      state: new Float64Array(8),
    };
    world.on('begin-contact', (c) => this.contact(e, c, true));
    world.on('end-contact', (c) => this.contact(e, c, false));
    this.envs[i] = e;
    this.advance(i, 0); // Gymnasium's reset returns the observation after one step with action 0
  }

  private contact(e: Lander, c: planck.Contact, begin: boolean): void {
    const a = c.getFixtureA().getBody();
    const b = c.getFixtureB().getBody();
    if (begin && (a === e.lander || b === e.lander)) e.gameOver = true;
    for (let k = 0; k < 2; k++) if (a === e.legs[k] || b === e.legs[k]) e.legContact[k] = begin;
  }

  protected stepEnv(i: number, action: number): number {
    return this.advance(i, action);
  }

  protected terminal(i: number): boolean {
    return this.envs[i].terminated;
  }

  /** Gymnasium's LunarLander.step for copy i. */
  private advance(i: number, action: number): number {
    const e = this.envs[i];
    const rng = this.rngs[i];
    const angle = e.lander.getAngle();
    const tip = [Math.sin(angle), Math.cos(angle)];
    const side = [-tip[1], tip[0]];
    const disp = [rng.uniform(-1.0, 1.0) / SCALE, rng.uniform(-1.0, 1.0) / SCALE];
    let mPower = 0.0;
    if (action === 2) {
      mPower = 1.0;
      const ox = tip[0] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * disp[0]) + side[0] * disp[1];
      const oy = -tip[1] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * disp[0]) - side[1] * disp[1];
      const p = e.lander.getPosition();
      const at = { x: p.x + ox, y: p.y + oy };
      e.lander.applyLinearImpulse(
        { x: -ox * MAIN_ENGINE_POWER * mPower, y: -oy * MAIN_ENGINE_POWER * mPower },
        at,
        true,
      );
    }
    let sPower = 0.0;
    if (action === 1 || action === 3) {
      const direction = action - 2;
      sPower = 1.0;
      const ox = tip[0] * disp[0] + side[0] * (3 * disp[1] + (direction * SIDE_ENGINE_AWAY) / SCALE);
      const oy = -tip[1] * disp[0] - side[1] * (3 * disp[1] + (direction * SIDE_ENGINE_AWAY) / SCALE);
      const p = e.lander.getPosition();
      const at = { x: p.x + ox - (tip[0] * 17) / SCALE, y: p.y + oy + (tip[1] * SIDE_ENGINE_HEIGHT) / SCALE };
      e.lander.applyLinearImpulse(
        { x: -ox * SIDE_ENGINE_POWER * sPower, y: -oy * SIDE_ENGINE_POWER * sPower },
        at,
        true,
      );
    }
    e.world.step(1.0 / FPS, 6 * 30, 2 * 30);
    const pos = e.lander.getPosition();
    const vel = e.lander.getLinearVelocity();
    const s = e.state;
    s[0] = (pos.x - VIEWPORT_W / SCALE / 2) / (VIEWPORT_W / SCALE / 2);
    s[1] = (pos.y - (e.helipadY + LEG_DOWN / SCALE)) / (VIEWPORT_H / SCALE / 2);
    s[2] = (vel.x * (VIEWPORT_W / SCALE / 2)) / FPS;
    s[3] = (vel.y * (VIEWPORT_H / SCALE / 2)) / FPS;
    s[4] = e.lander.getAngle();
    s[5] = (20.0 * e.lander.getAngularVelocity()) / FPS;
    s[6] = e.legContact[0] ? 1.0 : 0.0;
    s[7] = e.legContact[1] ? 1.0 : 0.0;
    const shaping =
      -100 * Math.sqrt(s[0] * s[0] + s[1] * s[1]) -
      100 * Math.sqrt(s[2] * s[2] + s[3] * s[3]) -
      100 * Math.abs(s[4]) +
      10 * s[6] +
      10 * s[7];
    let reward = e.prevShaping === null ? 0 : shaping - e.prevShaping;
    e.prevShaping = shaping;
    reward -= mPower * 0.3;
    reward -= sPower * 0.03;
    let terminated = false;
    if (e.gameOver || Math.abs(s[0]) >= 1.0) {
      terminated = true;
      reward = -100;
    }
    if (!e.lander.isAwake()) {
      terminated = true;
      reward = 100;
    }
    e.terminated = terminated;
    return reward;
  }

  protected writeObs(i: number, out: Float32Array): void {
    out.set(this.envs[i].state);
  }

  protected success(i: number, terminated: boolean): boolean {
    const e = this.envs[i];
    const x = e.lander.getPosition().x;
    return terminated && !e.lander.isAwake() && !e.gameOver && x >= e.helipadX1 && x <= e.helipadX2;
  }

  protected readState(i: number): number[] {
    return Array.from(this.envs[i].state);
  }

  protected writeState(): void {
    throw new Error(`pacer: ${this.id} has no setState(): its state is a Box2D world, not a vector`);
  }

  override setState(): { obs: Float32Array[] } {
    this.writeState();
    return { obs: [] };
  }

  protected draw(i: number, c: Canvas): void {
    const e = this.envs[i];
    const f = c.frame;
    fillPolygon(
      f,
      c.pts([
        [0, 0],
        [VIEWPORT_W, 0],
        [VIEWPORT_W, VIEWPORT_H],
        [0, VIEWPORT_H],
      ]),
      [255, 255, 255],
    );
    for (const p of e.skyPolys)
      fillPolygon(f, c.pts(p.map(([x, y]) => [x * SCALE, y * SCALE] as [number, number])), [0, 0, 0]);
    for (const body of [e.lander, ...e.legs]) {
      for (let fx = body.getFixtureList(); fx; fx = fx.getNext()) {
        const shape = fx.getShape() as planck.PolygonShape;
        const pts = shape.m_vertices.map((v) => {
          const w = body.getWorldPoint(v);
          return [w.x * SCALE, w.y * SCALE] as [number, number];
        });
        fillPolygon(f, c.pts(pts), [128, 102, 230]);
        for (let k = 0; k < pts.length; k++) {
          const [a, b] = c.pts([pts[k], pts[(k + 1) % pts.length]]);
          drawLine(f, a[0], a[1], b[0], b[1], 1, [77, 77, 128]);
        }
      }
    }
    for (const x of [e.helipadX1 * SCALE, e.helipadX2 * SCALE]) {
      const y1 = e.helipadY * SCALE;
      const y2 = y1 + 50;
      drawLine(f, c.x(x), c.y(y1), c.x(x), c.y(y2), Math.max(1, c.scale), [255, 255, 255]);
      fillPolygon(
        f,
        c.pts([
          [x, y2],
          [x, y2 - 10],
          [x + 25, y2 - 5],
        ]),
        [204, 204, 0],
      );
    }
  }
}
