// A small, deterministic rasterizer for procedural video worlds and environment renderings: shapes
// drawn into RGB frames (Uint8Array, row-major, 3 bytes per pixel — ffmpeg's rgb24), no
// anti-aliasing, so the same scene always gives the same bytes. A pixel (x, y) covers
// [x, x+1) × [y, y+1) and is painted when its centre (x + 0.5, y + 0.5) lies inside the shape.
// Coordinates are floats in pixels, y down; shapes are clipped to the frame.

export type RGB = readonly [number, number, number];

export interface Frame {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes, row-major RGB. */
  readonly data: Uint8Array;
}

export function createFrame(width: number, height: number, background: RGB = [0, 0, 0]): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`pacer: a frame needs positive integer width and height, got ${width}x${height}`);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(background, i);
  return { width, height, data };
}

export function setPixel(f: Frame, x: number, y: number, c: RGB): void {
  if (x < 0 || y < 0 || x >= f.width || y >= f.height) return;
  f.data.set(c, (y * f.width + x) * 3);
}

export function getPixel(f: Frame, x: number, y: number): RGB {
  const i = (y * f.width + x) * 3;
  return [f.data[i], f.data[i + 1], f.data[i + 2]];
}

/** Paint the pixel span [x0, x1) of row y (already clipped to integers). */
function span(f: Frame, y: number, x0: number, x1: number, c: RGB): void {
  const a = Math.max(0, x0);
  const b = Math.min(f.width, x1);
  for (let x = a; x < b; x++) f.data.set(c, (y * f.width + x) * 3);
}

/** The pixels whose centres lie in [x, x + w) × [y, y + h). */
export function fillRect(f: Frame, x: number, y: number, w: number, h: number, c: RGB): void {
  const y0 = Math.max(0, Math.ceil(y - 0.5));
  const y1 = Math.min(f.height, Math.ceil(y + h - 0.5));
  const x0 = Math.ceil(x - 0.5);
  const x1 = Math.ceil(x + w - 0.5);
  for (let yy = y0; yy < y1; yy++) span(f, yy, x0, x1, c);
}

/** The pixels whose centres lie within radius r of (cx, cy). */
export function fillCircle(f: Frame, cx: number, cy: number, r: number, c: RGB): void {
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(f.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    const d2 = r * r - dy * dy;
    if (d2 < 0) continue;
    const dx = Math.sqrt(d2);
    // centres x + 0.5 in [cx - dx, cx + dx]
    span(f, y, Math.ceil(cx - dx - 0.5), Math.floor(cx + dx - 0.5) + 1, c);
  }
}

/**
 * A filled polygon (even-odd rule, scanline at pixel centres); points in order, either winding.
 * Edges are half-open, so polygons that share an edge paint each pixel once.
 */
export function fillPolygon(f: Frame, pts: ReadonlyArray<readonly [number, number]>, c: RGB): void {
  if (pts.length < 3) return;
  const ys = pts.map((p) => p[1]);
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(f.height - 1, Math.ceil(Math.max(...ys)));
  for (let y = y0; y <= y1; y++) {
    const yc = y + 0.5;
    const xs: number[] = [];
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[(i + 1) % pts.length];
      if (ay <= yc === by <= yc) continue; // the edge does not cross this scanline
      xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) span(f, y, Math.ceil(xs[k] - 0.5), Math.ceil(xs[k + 1] - 0.5), c);
  }
}

/** A line of the given thickness (a filled quadrilateral with square ends flush at the endpoints). */
export function drawLine(f: Frame, x0: number, y0: number, x1: number, y1: number, thickness: number, c: RGB): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  const h = Math.max(thickness, 1) / 2;
  if (len === 0) {
    fillRect(f, x0 - h, y0 - h, 2 * h, 2 * h, c);
    return;
  }
  const nx = (-(y1 - y0) / len) * h;
  const ny = ((x1 - x0) / len) * h;
  fillPolygon(
    f,
    [
      [x0 + nx, y0 + ny],
      [x1 + nx, y1 + ny],
      [x1 - nx, y1 - ny],
      [x0 - nx, y0 - ny],
    ],
    c,
  );
}

/** A regular polygon with n corners (triangle 3, square 4, …) of circumradius r, rotated by `angle`. */
export function fillRegular(f: Frame, cx: number, cy: number, r: number, n: number, angle: number, c: RGB): void {
  const pts = Array.from({ length: n }, (_, i) => {
    const a = angle + (2 * Math.PI * i) / n - Math.PI / 2;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const;
  });
  fillPolygon(f, pts, c);
}

/** A copy of a frame (for drawing on top of a shared background). */
export function cloneFrame(f: Frame): Frame {
  return { width: f.width, height: f.height, data: new Uint8Array(f.data) };
}
