// The scene model shared by the procedural video worlds. A video is a sequence of clips (one for
// most worlds; several for shots and needle videos); a clip has a background, static backdrop shapes
// and things (circle, square, triangle, bar) whose state at time t follows their actions in time
// order, each with progress p = clamp((t − t0)/(t1 − t0), 0, 1):
//   move (dx, dy)·p · colour lerp(from, to, p) · scale r·(1 + (f − 1)·p) · rotate 2π·turns·p ·
//   appear (r·p, hidden at p = 0) · vanish (r·(1 − p), hidden at p = 1) · flash (the flash colour on
//   odd half-periods inside [t0, t1)) · bounce (y − h·|sin 2πp| inside the event).
// Frame k of a clip shows time k / fps, so a frame at t ≤ t0 shows the state before an event and
// a frame at t ≥ t1 the state after it. Drawing uses the rasterizer (raster.ts): same scene, same bytes.
import {
  cloneFrame,
  createFrame,
  fillCircle,
  fillPolygon,
  fillRect,
  fillRegular,
  type Frame,
  type RGB,
} from '../raster.js';

export const COLORS = {
  red: [230, 30, 30],
  green: [30, 190, 60],
  blue: [40, 80, 240],
  yellow: [240, 220, 30],
  white: [245, 245, 245],
  orange: [255, 140, 0],
  purple: [160, 60, 210],
} as const satisfies Record<string, RGB>;
export type ColorName = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as ColorName[];

/** Dark, mutually distinct backgrounds for clips and shots. */
export const BACKGROUNDS: RGB[] = [
  [40, 40, 100],
  [100, 40, 40],
  [30, 90, 40],
  [95, 90, 25],
  [25, 85, 95],
  [85, 30, 95],
  [70, 70, 70],
  [110, 65, 20],
];

/** Light backgrounds: shots alternate dark and light ones, so every cut changes the brightness. */
export const LIGHT_BACKGROUNDS: RGB[] = [
  [200, 200, 235],
  [235, 205, 175],
  [190, 230, 190],
  [225, 225, 160],
  [175, 215, 225],
  [215, 185, 225],
];

export const SHAPES = ['circle', 'square', 'triangle', 'bar'] as const;
export type ShapeName = (typeof SHAPES)[number];

export type Action =
  | { kind: 'move'; t0: number; t1: number; dx: number; dy: number }
  | { kind: 'color'; t0: number; t1: number; to: RGB }
  | { kind: 'scale'; t0: number; t1: number; factor: number }
  | { kind: 'rotate'; t0: number; t1: number; turns: number }
  | { kind: 'appear'; t0: number; t1: number }
  | { kind: 'vanish'; t0: number; t1: number }
  | { kind: 'flash'; t0: number; t1: number; color: RGB; period: number }
  | { kind: 'bounce'; t0: number; t1: number; height: number };

export interface Thing {
  shape: ShapeName;
  x: number;
  y: number;
  /** Half-extent in pixels. */
  r: number;
  color: RGB;
  angle?: number;
  actions: Action[];
}

export type Prim =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; color: RGB }
  | { kind: 'circle'; x: number; y: number; r: number; color: RGB };

export interface Clip {
  frames: number;
  background: RGB;
  backdrop: Prim[];
  things: Thing[];
}

export interface Video {
  fps: number;
  width: number;
  height: number;
  clips: Clip[];
}

export interface ThingState {
  x: number;
  y: number;
  r: number;
  angle: number;
  color: RGB;
  visible: boolean;
}

const progress = (t: number, a: Action) => Math.min(1, Math.max(0, (t - a.t0) / (a.t1 - a.t0)));
const lerp = (a: RGB, b: RGB, p: number): RGB => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * p)) as never;

function apply(s: ThingState, a: Action, t: number): void {
  const p = progress(t, a);
  const inside = t >= a.t0 && t < a.t1;
  if (a.kind === 'move') {
    s.x += a.dx * p;
    s.y += a.dy * p;
  } else if (a.kind === 'color') s.color = p > 0 ? lerp(s.color, a.to, p) : s.color;
  else if (a.kind === 'scale') s.r *= 1 + (a.factor - 1) * p;
  else if (a.kind === 'rotate') s.angle += 2 * Math.PI * a.turns * p;
  else if (a.kind === 'appear') {
    s.r *= p;
    s.visible &&= p > 0;
  } else if (a.kind === 'vanish') {
    s.r *= 1 - p;
    s.visible &&= p < 1;
  } else if (a.kind === 'flash') {
    if (inside && Math.floor(((t - a.t0) / a.period) * 2) % 2 === 1) s.color = a.color;
  } else if (a.kind === 'bounce' && inside) s.y -= a.height * Math.abs(Math.sin(2 * Math.PI * p));
}

/** A thing's state at time t (seconds from the start of its clip). */
export function stateAt(th: Thing, t: number): ThingState {
  const s: ThingState = { x: th.x, y: th.y, r: th.r, angle: th.angle ?? 0, color: th.color, visible: true };
  for (const a of th.actions) apply(s, a, t);
  return s;
}

export function drawShape(f: Frame, shape: ShapeName, s: ThingState): void {
  if (!s.visible || s.r <= 0) return;
  if (shape === 'circle') fillCircle(f, s.x, s.y, s.r, s.color);
  else if (shape === 'square') fillRegular(f, s.x, s.y, s.r * 1.2, 4, s.angle + Math.PI / 4, s.color);
  else if (shape === 'triangle') fillRegular(f, s.x, s.y, s.r * 1.15, 3, s.angle, s.color);
  else {
    const [c, sn] = [Math.cos(s.angle), Math.sin(s.angle)];
    const [hw, hh] = [s.r, s.r * 0.45];
    const corner = (u: number, v: number) => [s.x + u * c - v * sn, s.y + u * sn + v * c] as const;
    fillPolygon(f, [corner(-hw, -hh), corner(hw, -hh), corner(hw, hh), corner(-hw, hh)], s.color);
  }
}

function drawPrim(f: Frame, p: Prim): void {
  if (p.kind === 'rect') fillRect(f, p.x, p.y, p.w, p.h, p.color);
  else fillCircle(f, p.x, p.y, p.r, p.color);
}

export function frameCount(v: Video): number {
  return v.clips.reduce((a, c) => a + c.frames, 0);
}

/** Seconds: frames / fps. */
export function duration(v: Video): number {
  return frameCount(v) / v.fps;
}

/** The first global frame of each clip. */
export function clipStarts(v: Video): number[] {
  const out: number[] = [];
  let k = 0;
  for (const c of v.clips) {
    out.push(k);
    k += c.frames;
  }
  return out;
}

/** Every frame of a video, in order (backdrops drawn once per clip). */
export function* renderFrames(v: Video): Generator<Frame> {
  for (const c of v.clips) {
    const base = createFrame(v.width, v.height, c.background);
    for (const p of c.backdrop) drawPrim(base, p);
    for (let j = 0; j < c.frames; j++) {
      const f = cloneFrame(base);
      for (const th of c.things) drawShape(f, th.shape, stateAt(th, j / v.fps));
      yield f;
    }
  }
}

/** All frames as one RGB byte array [T, H, W, 3]. */
export function renderAll(v: Video): Uint8Array {
  const fb = v.width * v.height * 3;
  const out = new Uint8Array(frameCount(v) * fb);
  let k = 0;
  for (const f of renderFrames(v)) out.set(f.data, fb * k++);
  return out;
}
