// The six scenes of the anomaly world, each drawn in two variants from the same random draws: the
// anomaly and its normal twin. Conditional anomalies differ from their twin only in a context cue
// (the traffic light's colour, a helmet, day or night); absolute anomalies differ in what happens
// (a crash, a fire, a fall). Every anomaly is foreseeable before its onset — the anticipation task
// cuts the video there: cars in one lane, smoke on the roof a second before the fire, a ledge with no
// barrier, the red light, the missing helmet, the night. Each variant returns its clip, its event and
// the anomaly's [t0, t1] (null for the normal twin). Positions are fractions of the frame, so any
// size works.
import type { RGB } from '../raster.js';
import type { VideoEvent } from './grammar.js';
import type { Action, Clip, Prim, ShapeName, Thing } from './scene.js';

export interface SceneParams {
  width: number;
  height: number;
  /** Event start and length (seconds) and video length. */
  t0: number;
  len: number;
  duration: number;
  /** A uniform draw in [0, 1) for where the scene's actor stands. */
  u: number;
}

export interface SceneVariant {
  clip: (frames: number) => Clip;
  event: VideoEvent;
  anomaly: [number, number] | null;
}

const SKY: RGB = [110, 160, 230];
const GRASS: RGB = [50, 110, 50];
const ROAD: RGB = [80, 80, 80];
const WHITE: RGB = [245, 245, 245];

const ev = (t0: number, t1: number, subject: string, verb: string, object: string | null, attributes = {}) =>
  ({ t0, t1, subject, verb, object, attributes }) as VideoEvent;
const thing = (shape: ShapeName, x: number, y: number, r: number, color: RGB, actions: Action[] = []): Thing => ({
  shape,
  x,
  y,
  r,
  color,
  actions,
});
const rect = (x: number, y: number, w: number, h: number, color: RGB): Prim => ({ kind: 'rect', x, y, w, h, color });
const disc = (x: number, y: number, r: number, color: RGB): Prim => ({ kind: 'circle', x, y, r, color });

function road(p: SceneParams): Prim[] {
  const { width: W, height: H } = p;
  const dashes = Array.from({ length: 5 }, (_, i) =>
    rect(i * 0.2 * W + 0.05 * W, 0.515 * H, 0.1 * W, 0.02 * H, [220, 220, 220]),
  );
  return [rect(0, 0.4 * H, W, 0.25 * H, ROAD), ...dashes];
}

/** Crossing on red (anomaly) or on green (normal): only the light differs. */
export function crossing(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const light = [
    rect(0.8 * W, 0.04 * H, 0.14 * W, 0.3 * H, [20, 20, 20]),
    disc(0.87 * W, 0.12 * H, 0.045 * S, anomaly ? [235, 30, 30] : [70, 20, 20]),
    disc(0.87 * W, 0.26 * H, 0.045 * S, anomaly ? [20, 60, 30] : [40, 230, 70]),
  ];
  const x = (0.15 + 0.45 * p.u) * W;
  const walker = thing('circle', x, 0.85 * H, 0.055 * S, WHITE, [
    { kind: 'move', t0, t1: t0 + len, dx: 0, dy: -0.67 * H },
  ]);
  const lightName = anomaly ? 'red' : 'green';
  return {
    clip: (frames) => ({ frames, background: GRASS, backdrop: [...road(p), ...light], things: [walker] }),
    event: ev(t0, t0 + len, 'pedestrian', 'cross', 'road', { light: lightName }),
    anomaly: anomaly ? [t0, t0 + len] : null,
  };
}

/** Climbing without a helmet (anomaly) or with one (normal). */
export function climbing(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const x = (0.4 + 0.2 * p.u) * W;
  const up: Action = { kind: 'move', t0, t1: t0 + len, dx: 0, dy: -0.64 * H };
  const climber = thing('circle', x, 0.86 * H, 0.055 * S, WHITE, [up]);
  const helmet = thing('square', x, 0.86 * H - 0.075 * S, 0.035 * S, [240, 220, 30], [up]);
  const backdrop = [rect(0.3 * W, 0.12 * H, 0.4 * W, 0.88 * H, [130, 85, 50]), rect(0, 0.93 * H, W, 0.07 * H, GRASS)];
  return {
    clip: (frames) => ({ frames, background: SKY, backdrop, things: anomaly ? [climber] : [climber, helmet] }),
    event: ev(t0, t0 + len, 'climber', 'climb', 'wall', { helmet: !anomaly }),
    anomaly: anomaly ? [t0, t0 + len] : null,
  };
}

/** Swimming at night (anomaly) or by day (normal): sky, water and sun or moon differ. */
export function swimming(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const bg: RGB = anomaly ? [25, 25, 45] : [215, 205, 160];
  const sky = anomaly
    ? [disc(0.14 * W, 0.13 * H, 0.08 * S, [225, 225, 200]), disc(0.18 * W, 0.11 * H, 0.07 * S, bg)]
    : [disc(0.14 * W, 0.13 * H, 0.08 * S, [250, 210, 40])];
  const pool = rect(0.1 * W, 0.3 * H, 0.8 * W, 0.45 * H, anomaly ? [15, 40, 90] : [40, 120, 220]);
  const y = (0.42 + 0.2 * p.u) * H;
  const swimmer = thing('circle', 0.18 * W, y, 0.05 * S, WHITE, [
    { kind: 'move', t0, t1: t0 + len, dx: 0.64 * W, dy: 0 },
  ]);
  return {
    clip: (frames) => ({ frames, background: bg, backdrop: [...sky, pool], things: [swimmer] }),
    event: ev(t0, t0 + len, 'swimmer', 'swim', 'pool', { time: anomaly ? 'night' : 'day' }),
    anomaly: anomaly ? [t0, t0 + len] : null,
  };
}

/** Two cars in one lane crash (anomaly), or in two lanes drive past each other (normal). */
export function cars(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const r = 0.06 * S;
  const xc = (0.4 + 0.2 * p.u) * W;
  const [ya, yb] = anomaly ? [0.525 * H, 0.525 * H] : [0.46 * H, 0.59 * H];
  const [x0a, x0b] = [0.08 * W, 0.92 * W];
  const tEnd = anomaly ? t0 + len : t0 + 2 * len;
  const [dxa, dxb] = anomaly ? [xc - r - x0a, xc + r - x0b] : [x0b - x0a, x0a - x0b];
  const red = thing('square', x0a, ya, r, [230, 30, 30], [{ kind: 'move', t0, t1: tEnd, dx: dxa, dy: 0 }]);
  const blue = thing('square', x0b, yb, r, [40, 80, 240], [{ kind: 'move', t0, t1: tEnd, dx: dxb, dy: 0 }]);
  const tc = t0 + len;
  const burst = thing(
    'circle',
    xc,
    0.525 * H,
    0.13 * S,
    [255, 140, 0],
    [
      { kind: 'appear', t0: tc, t1: tc + 0.5 },
      { kind: 'flash', t0: tc + 0.5, t1: tc + 2, color: [250, 220, 40], period: 0.5 },
    ],
  );
  return {
    clip: (frames) => ({
      frames,
      background: GRASS,
      backdrop: road(p),
      things: anomaly ? [red, blue, burst] : [red, blue],
    }),
    event: anomaly ? ev(tc, tc + 2, 'red car', 'crash', 'blue car') : ev(t0, tEnd, 'red car', 'pass', 'blue car'),
    anomaly: anomaly ? [tc, tc + 2] : null,
  };
}

/** A house catches fire (anomaly), or its lights come on (normal). */
export function house(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const t1 = t0 + len;
  const cx = (0.4 + 0.2 * p.u) * W;
  const body = rect(cx - 0.2 * W, 0.45 * H, 0.4 * W, 0.35 * H, [150, 100, 60]);
  const windows = [-0.12, 0.06].map((dx) => rect(cx + dx * W, 0.55 * H, 0.07 * W, 0.09 * H, [40, 40, 60]));
  const roof = thing('triangle', cx, 0.36 * H, 0.2 * S, [120, 40, 30]);
  const flame = (x: number, y: number): Thing =>
    thing(
      'triangle',
      x,
      y,
      0.08 * S,
      [255, 140, 0],
      [
        { kind: 'appear', t0, t1: t0 + 0.5 },
        { kind: 'flash', t0: t0 + 0.5, t1, color: [230, 30, 30], period: 0.5 },
        { kind: 'vanish', t0: t1, t1: t1 + 0.5 },
      ],
    );
  const flames = [flame(cx - 0.1 * W, 0.3 * H), flame(cx + 0.08 * W, 0.27 * H), flame(cx - 0.085 * W, 0.56 * H)];
  // the precursor: grey smoke over the roof from a second before the flames (t0 >= 1)
  const smoke = thing(
    'circle',
    cx + 0.12 * W,
    0.14 * H,
    0.07 * S,
    [150, 150, 150],
    [
      { kind: 'appear', t0: t0 - 1, t1: t0 - 0.5 },
      { kind: 'vanish', t0: t1, t1: t1 + 0.5 },
    ],
  );
  const lamp = (dx: number): Thing =>
    thing(
      'square',
      cx + (dx + 0.035) * W,
      0.595 * H,
      0.035 * S,
      [250, 230, 120],
      [
        { kind: 'appear', t0, t1: t0 + 0.5 },
        { kind: 'vanish', t0: t1, t1: t1 + 0.5 },
      ],
    );
  const things = [roof, ...(anomaly ? [smoke, ...flames] : [lamp(-0.12), lamp(0.06)])];
  return {
    clip: (frames) => ({
      frames,
      background: SKY,
      backdrop: [rect(0, 0.8 * H, W, 0.2 * H, GRASS), body, ...windows],
      things,
    }),
    event: ev(t0, t1, 'house', anomaly ? 'burn' : 'light', null),
    anomaly: anomaly ? [t0, t1] : null,
  };
}

/** A person walks off an unguarded ledge and falls (anomaly), or stops at the barrier on its edge (normal). */
export function ledge(p: SceneParams, anomaly: boolean): SceneVariant {
  const { width: W, height: H, t0, len } = p;
  const S = Math.min(W, H);
  const r = 0.055 * S;
  const te = t0 + len;
  const y0 = 0.45 * H - r;
  const walk: Action = { kind: 'move', t0, t1: te, dx: (0.38 + 0.04 * p.u) * W, dy: 0 };
  const fall: Action = { kind: 'move', t0: te, t1: te + 2, dx: 0.15 * W, dy: 0.95 * H - r - y0 };
  const person = thing('circle', 0.06 * W, y0, r, WHITE, anomaly ? [walk, fall] : [walk]);
  const barrier = rect(0.54 * W, 0.28 * H, 0.03 * W, 0.17 * H, [230, 200, 40]);
  const backdrop = [
    rect(0, 0.45 * H, 0.55 * W, 0.08 * H, [110, 110, 110]),
    rect(0, 0.95 * H, W, 0.05 * H, GRASS),
    ...(anomaly ? [] : [barrier]),
  ];
  return {
    clip: (frames) => ({ frames, background: SKY, backdrop, things: [person] }),
    event: anomaly ? ev(te, te + 2, 'person', 'fall', 'ledge') : ev(t0, te, 'person', 'stop', 'ledge'),
    anomaly: anomaly ? [te, te + 2] : null,
  };
}
