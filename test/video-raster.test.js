// The rasterizer (src/video/raster.ts) against brute force: every pixel whose centre lies inside a
// shape, and no other, is painted — checked by testing each pixel centre directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createFrame,
  fillCircle,
  fillPolygon,
  fillRect,
  drawLine,
  fillRegular,
  getPixel,
} from '../dist/video/raster.js';

const W = 23;
const H = 17;
const RED = [255, 0, 0];

function painted(f) {
  const out = [];
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) if (getPixel(f, x, y)[0] === 255) out.push(`${x},${y}`);
  return out;
}

function brute(inside) {
  const out = [];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inside(x + 0.5, y + 0.5)) out.push(`${x},${y}`);
  return out;
}

/** Even-odd point in polygon, by ray casting (an independent formulation). */
function inPolygon(pts, px, py) {
  let c = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

test('rectangles, circles and polygons paint exactly the pixels whose centres they contain', () => {
  const cases = [
    [(f) => fillRect(f, 2.3, 3.7, 5.1, 4.2, RED), (x, y) => x >= 2.3 && x < 7.4 && y >= 3.7 && y < 7.9],
    [(f) => fillRect(f, -4, -4, 8, 30, RED), (x, y) => x < 4 && y < 26],
    [(f) => fillCircle(f, 10.2, 8.7, 5.3, RED), (x, y) => (x - 10.2) ** 2 + (y - 8.7) ** 2 <= 5.3 ** 2],
    [(f) => fillCircle(f, 0, 0, 6, RED), (x, y) => x * x + y * y <= 36],
  ];
  const tri = [
    [1.2, 15.5],
    [20.7, 2.1],
    [13.3, 16.2],
  ];
  const star = [
    [11, 1],
    [14, 14],
    [2, 6],
    [20, 6],
    [8, 14],
  ];
  cases.push([(f) => fillPolygon(f, tri, RED), (x, y) => inPolygon(tri, x, y)]);
  cases.push([(f) => fillPolygon(f, star, RED), (x, y) => inPolygon(star, x, y)]);
  for (const [draw, inside] of cases) {
    const f = createFrame(W, H);
    draw(f);
    assert.deepEqual(painted(f), brute(inside));
  }
});

test('lines are rectangles around the segment; regular polygons have their corners on the circle', () => {
  const f = createFrame(W, H);
  drawLine(f, 2, 3, 19, 12, 3, RED);
  const [dx, dy] = [17, 9];
  const len = Math.hypot(dx, dy);
  const want = brute((x, y) => {
    const t = ((x - 2) * dx + (y - 3) * dy) / len; // along the segment
    const n = ((x - 2) * -dy + (y - 3) * dx) / len; // across it
    return t >= 0 && t <= len && Math.abs(n) <= 1.5;
  });
  const got = painted(f);
  // pixels exactly on the boundary may fall either way; everything else must agree
  const diff = [...got.filter((p) => !want.includes(p)), ...want.filter((p) => !got.includes(p))];
  assert.ok(diff.length <= 2, `differs at ${diff}`);
  const g = createFrame(W, H);
  fillRegular(g, 11, 8, 6, 4, Math.PI / 4, RED); // an axis-aligned square of half-side 6/sqrt(2)
  const h = 6 / Math.SQRT2;
  assert.deepEqual(
    painted(g),
    brute((x, y) => Math.abs(x - 11) < h && Math.abs(y - 8) < h),
  );
});

test('frames start filled with the background and reject bad sizes', () => {
  const f = createFrame(3, 2, [1, 2, 3]);
  assert.deepEqual([...f.data], [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  assert.throws(() => createFrame(0, 4), /positive integer/);
});
