// Video in HTML reports: contact sheets (a grid of sampled frames, each labelled with its timestamp
// by a bitmap font, as one embedded PNG), short clips (WebM/VP9 in a <video>, or GIF in an <img>,
// embedded as data: URLs, so the report stays one self-contained file), and a timeline (inline SVG)
// with ground-truth and predicted segments: a segment [s, e] of a video of duration D spans
// x = L + s/D·w to L + e/D·w on a track of width w starting at L. videoPanel puts the three together
// for a video file; its HTML goes into renderReport's `sections`.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import { decodeFrames, iterFrames } from '../video/decode.js';
import { encodeVideo, type VideoFormat } from '../video/encode.js';
import { drawText, GLYPH_H, textWidth } from '../video/font.js';
import { encodePng } from '../video/png.js';
import { probeVideo } from '../video/probe.js';
import { createFrame, type Frame } from '../video/raster.js';
import { uniformSample } from '../video/sampling.js';
import { esc } from './html.js';

export interface SheetOptions {
  /** Frames per row (default 4). */
  cols?: number;
  /** Label scale: glyph pixels per font pixel (default 1). */
  scale?: number;
}

function framesOf(src: Tensor | Frame[]): Frame[] {
  if (Array.isArray(src)) return src;
  if (src.dtype !== 'uint8' || src.ndim !== 4 || src.shape[3] !== 3)
    throw new TypeError(`pacer: contactSheet needs a uint8 tensor [T, H, W, 3], got ${src}`);
  const [T, height, width] = src.shape;
  const data = src.data() as Uint8Array;
  const fb = width * height * 3;
  return Array.from({ length: T }, (_, k) => ({ width, height, data: data.subarray(k * fb, (k + 1) * fb) }));
}

/** Format seconds for a label: "12.5s". */
export function stamp(t: number): string {
  return `${Math.round(t * 10) / 10}s`;
}

/** A grid of frames on white, each with its timestamp below it; 2-pixel gaps. */
export function contactSheet(src: Tensor | Frame[], timestamps: readonly number[], o: SheetOptions = {}): Frame {
  const frames = framesOf(src);
  if (frames.length === 0) throw new RangeError('pacer: contactSheet needs at least one frame');
  if (timestamps.length !== frames.length)
    throw new RangeError(`pacer: contactSheet got ${frames.length} frames but ${timestamps.length} timestamps`);
  const { width: W, height: H } = frames[0];
  const s = o.scale ?? 1;
  const cols = Math.min(o.cols ?? 4, frames.length);
  const rows = Math.ceil(frames.length / cols);
  const cellH = H + GLYPH_H * s + 4;
  const sheet = createFrame(cols * (W + 2) + 2, rows * cellH + 2, [255, 255, 255]);
  frames.forEach((f, k) => {
    const x0 = 2 + (k % cols) * (W + 2);
    const y0 = 2 + Math.floor(k / cols) * cellH;
    for (let y = 0; y < H; y++)
      sheet.data.set(f.data.subarray(y * W * 3, (y + 1) * W * 3), ((y0 + y) * sheet.width + x0) * 3);
    const label = stamp(timestamps[k]);
    drawText(sheet, x0 + Math.max(0, (W - textWidth(label, s)) >> 1), y0 + H + 2, label, [0, 0, 0], s);
  });
  return sheet;
}

export type Segment = readonly [number, number];

export interface TimelineOptions {
  duration: number;
  truth?: readonly Segment[];
  pred?: readonly Segment[];
  /** SVG width in pixels (default 460). */
  width?: number;
}

export const TIMELINE = { left: 48, right: 12 } as const;

/** Inline SVG: a truth track and a prediction track over [0, duration] seconds. */
export function timelineSvg(o: TimelineOptions): string {
  if (!(o.duration > 0)) throw new RangeError(`pacer: a timeline needs duration > 0, got ${o.duration}`);
  const w = o.width ?? 460;
  const track = w - TIMELINE.left - TIMELINE.right;
  const x = (t: number) => TIMELINE.left + (Math.min(Math.max(t, 0), o.duration) / o.duration) * track;
  const bar = (kind: string, [s, e]: Segment, y: number, color: string) => {
    const [a, b] = s <= e ? [s, e] : [e, s];
    const geom = `x="${x(a).toFixed(1)}" y="${y}" width="${(x(b) - x(a)).toFixed(1)}" height="12"`;
    const data = `data-start="${a}" data-end="${b}"`;
    return `<rect class="${kind}" ${geom} fill="${color}" ${data}><title>${kind} ${a}–${b} s</title></rect>`;
  };
  const lane = (label: string, y: number) =>
    `<text x="4" y="${y + 10}" font-size="11">${label}</text>` +
    `<line x1="${TIMELINE.left}" x2="${w - TIMELINE.right}" y1="${y + 6}" y2="${y + 6}" stroke="#ddd"/>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text x="${x(f * o.duration).toFixed(1)}" y="54" font-size="10" text-anchor="middle">` +
        `${stamp(f * o.duration)}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${w}" height="60" viewBox="0 0 ${w} 60">` +
    `${lane('truth', 4)}${lane('pred', 22)}${(o.truth ?? []).map((sg) => bar('truth', sg, 4, '#2ca02c')).join('')}` +
    `${(o.pred ?? []).map((sg) => bar('pred', sg, 22, '#d62728')).join('')}${ticks}</svg>`
  );
}

const MIME: Record<VideoFormat, string> = { webm: 'video/webm', gif: 'image/gif', mp4: 'video/mp4' };

/** An embedded clip: <video> for WebM/MP4, <img> for GIF. */
export function clipHtml(bytes: Uint8Array, format: VideoFormat, alt = 'clip'): string {
  const url = `data:${MIME[format]};base64,${Buffer.from(bytes).toString('base64')}`;
  if (format === 'gif') return `<img class="clip" src="${url}" alt="${esc(alt)}">`;
  return `<video class="clip" src="${url}" controls loop muted playsinline title="${esc(alt)}"></video>`;
}

/** An embedded PNG. */
export function pngHtml(png: Uint8Array, alt: string): string {
  return `<img class="sheet" src="data:image/png;base64,${Buffer.from(png).toString('base64')}" alt="${esc(alt)}">`;
}

export interface PanelOptions extends SheetOptions {
  /** Frames on the contact sheet (default 8), spread evenly. */
  frames?: number;
  /** Width of each frame on the sheet and in the clip (default: the video's, at most 160). */
  thumbWidth?: number;
  /** 'webm' (default), 'gif', or false for no clip. */
  clip?: 'webm' | 'gif' | false;
  /** Seconds of video in the clip, from the start (default 10). */
  clipSeconds?: number;
  truth?: readonly Segment[];
  pred?: readonly Segment[];
  title?: string;
}

async function clipBytes(file: string, fps: number, seconds: number, width: number, format: 'webm' | 'gif') {
  const dir = await mkdtemp(join(tmpdir(), 'pacer-clip-'));
  try {
    const info = await probeVideo(file);
    const n = Math.max(1, Math.min(info.frames, Math.round(seconds * info.fps)));
    const indices = Array.from({ length: n }, (_, i) => i);
    const frames = (async function* () {
      for await (const f of iterFrames(file, { indices }, { width, info })) yield f;
    })();
    const out = join(dir, `clip.${format}`);
    await encodeVideo(frames, out, { fps });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A report panel for a video file: contact sheet, timeline (when segments are given) and a clip. */
export async function videoPanel(file: string, o: PanelOptions = {}): Promise<string> {
  const info = await probeVideo(file);
  const width = o.thumbWidth ?? Math.min(info.width, 160);
  const { indices, timestamps } = uniformSample(info, Math.min(o.frames ?? 8, info.frames));
  const t = await decodeFrames(file, { indices }, { width, info });
  const sheet = pngHtml(encodePng(contactSheet(t, timestamps, o)), `frames of ${file}`);
  t.dispose();
  const timeline = o.truth || o.pred ? timelineSvg({ duration: info.duration, truth: o.truth, pred: o.pred }) : '';
  const fmt = o.clip ?? 'webm';
  const clip = fmt ? clipHtml(await clipBytes(file, info.fps, o.clipSeconds ?? 10, width, fmt), fmt, file) : '';
  const caption = esc(o.title ?? file);
  const line = timeline ? `<div>${timeline}</div>` : '';
  return `<figure class="video-panel"><figcaption>${caption}</figcaption>${sheet}${line}${clip}</figure>`;
}
