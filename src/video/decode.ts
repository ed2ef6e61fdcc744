// Decoding frames by index or timestamp into uint8 tensors [T, H, W, 3] (RGB, ffmpeg's rgb24), or
// float tensors for models. One ffmpeg pass per call: `-vf select='between(n\,a\,b)+eq(n\,c)…'`
// keeps the wanted frames (n counts decoded frames in presentation order from 0), `-fps_mode
// passthrough` stops ffmpeg from duplicating or dropping any, `-frames:v K` stops it after the last
// one, and stdout (rawvideo rgb24) is cut into frames of W·H·3 bytes. iterFrames streams them one
// at a time (constant memory on long videos); decodeFrames gathers them in the requested order
// (repeats allowed). A timestamp t (seconds from the first frame) selects the frame shown at t:
// index floor(t·fps), the last frame for t = duration. Resizing uses ffmpeg's scale filter.
// Frame-array files (.npz) are read directly; when resized, their frames go through the same scaler.
import { scope, tensor, type Tensor } from '../engine/index.js';
import { ffmpegBin, runFrames, VideoError } from './ffmpeg.js';
import { readFramesNpz } from './npz.js';
import { isNpz, probeVideo, type VideoInfo } from './probe.js';

export type FrameSelection = { indices: readonly number[] } | { timestamps: readonly number[] };

export type Interpolation = 'bicubic' | 'bilinear' | 'area' | 'neighbor' | 'lanczos';

export interface DecodeOptions {
  /** Output width in pixels (with only one of width/height the aspect ratio is kept). */
  width?: number;
  height?: number;
  /** ffmpeg scale filter flag used when resizing (default bicubic, ffmpeg's own default). */
  interpolation?: Interpolation;
  /** Kill ffmpeg after this long without progress (ms). */
  timeoutMs?: number;
  /** Already probed information about the file (skips ffprobe). */
  info?: VideoInfo;
}

export interface DecodedFrame {
  index: number;
  /** Seconds from the first frame. */
  timestamp: number;
  width: number;
  height: number;
  /** width × height × 3 bytes, RGB. */
  data: Uint8Array;
}

/** The output size for a decode: the source size, or the requested one (aspect kept when one side is given). */
export function outputSize(info: VideoInfo, o: DecodeOptions): [number, number] {
  for (const k of ['width', 'height'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw new RangeError(`pacer: decode option ${k} must be a positive integer, got ${v}`);
  }
  const w = o.width ?? (o.height ? Math.max(1, Math.round((o.height * info.width) / info.height)) : info.width);
  const h = o.height ?? (o.width ? Math.max(1, Math.round((o.width * info.height) / info.width)) : info.height);
  return [w, h];
}

/** The frame shown at t seconds (from the first frame). */
export function timestampToIndex(t: number, info: VideoInfo): number {
  if (!(t >= 0 && t <= info.duration + 1e-9))
    throw new RangeError(`pacer: timestamp ${t} s is outside ${info.file} (0 to ${info.duration} s)`);
  return Math.min(info.frames - 1, Math.floor(t * info.fps + 1e-6));
}

/** The frame indices a selection asks for, in the order asked, checked against the file. */
export function selectionIndices(info: VideoInfo, sel: FrameSelection): number[] {
  if ('timestamps' in sel && Array.isArray(sel.timestamps)) return sel.timestamps.map((t) => timestampToIndex(t, info));
  if (!('indices' in sel) || !Array.isArray(sel.indices))
    throw new TypeError('pacer: a frame selection is { indices: [...] } or { timestamps: [...] }');
  for (const i of sel.indices)
    if (!Number.isInteger(i) || i < 0 || i >= info.frames)
      throw new RangeError(
        `pacer: frame index ${i} is outside ${info.file} (it has ${info.frames} frames, 0 to ${info.frames - 1})`,
      );
  return [...sel.indices];
}

/** A select expression for sorted unique indices: runs become between(n\,a\,b), singles eq(n\,a). */
export function selectExpr(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `between(n\\,${sorted[i]}\\,${sorted[j]})` : `eq(n\\,${sorted[i]})`);
    i = j + 1;
  }
  return parts.join('+');
}

function videoArgs(file: string, sorted: number[], info: VideoInfo, w: number, h: number, o: DecodeOptions): string[] {
  const filters: string[] = [];
  if (sorted.length < info.frames) filters.push(`select='${selectExpr(sorted)}'`);
  if (w !== info.width || h !== info.height) filters.push(`scale=${w}:${h}:flags=${o.interpolation ?? 'bicubic'}`);
  return [
    ...['-v', 'error', '-nostdin', '-progress', 'pipe:2', '-i', file, '-map', '0:v:0', '-an', '-sn', '-dn'],
    ...(filters.length ? ['-vf', filters.join(',')] : []),
    ...['-fps_mode', 'passthrough', '-frames:v', String(sorted.length)],
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
}

/** Raw RGB frames resized by ffmpeg's scale filter (stdin to stdout). */
export function scaleRaw(
  frames: Iterable<Uint8Array>,
  src: [number, number],
  dst: [number, number],
  o: { file: string; interpolation?: Interpolation; timeoutMs?: number },
): AsyncGenerator<Uint8Array> {
  const args = [
    ...['-v', 'error', '-progress', 'pipe:2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${src[0]}x${src[1]}`],
    ...['-i', 'pipe:0', '-vf', `scale=${dst[0]}:${dst[1]}:flags=${o.interpolation ?? 'bicubic'}`],
    ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
  return runFrames(
    ffmpegBin(),
    args,
    dst[0] * dst[1] * 3,
    { file: o.file, timeoutMs: o.timeoutMs, input: frames },
    'resizing frames of',
  );
}

async function* npzFrames(file: string, sorted: number[], w: number, h: number, o: DecodeOptions) {
  const a = readFramesNpz(file);
  const fb = a.width * a.height * 3;
  const pick = sorted.map((i) => a.data.subarray(i * fb, (i + 1) * fb));
  if (w === a.width && h === a.height) yield* pick.map((d) => new Uint8Array(d));
  else yield* scaleRaw(pick, [a.width, a.height], [w, h], { file, ...o });
}

/**
 * Stream the selected frames (all frames when no selection is given) in ascending index order,
 * each index once; memory stays at one frame however long the video.
 */
export async function* iterFrames(
  file: string,
  sel?: FrameSelection,
  o: DecodeOptions = {},
): AsyncGenerator<DecodedFrame> {
  const info = o.info ?? (await probeVideo(file, o));
  const [w, h] = outputSize(info, o);
  const all = Array.from({ length: info.frames }, (_, i) => i);
  const sorted = sel ? [...new Set(selectionIndices(info, sel))].sort((a, b) => a - b) : all;
  if (sorted.length === 0) return;
  const src = isNpz(file)
    ? npzFrames(file, sorted, w, h, o)
    : runFrames(
        ffmpegBin(),
        videoArgs(file, sorted, info, w, h, o),
        w * h * 3,
        { file, timeoutMs: o.timeoutMs },
        'decoding',
      );
  let k = 0;
  for await (const data of src) {
    if (k >= sorted.length) break;
    yield { index: sorted[k], timestamp: sorted[k] / info.fps, width: w, height: h, data };
    k++;
  }
  if (k < sorted.length)
    throw new VideoError(
      `pacer: ffmpeg decoded only ${k} of the ${sorted.length} frames asked for from ${file}; frame ${sorted[k]} ` +
        `and later could not be read (the file has ${info.frames} frames by its header; ` +
        'it may be truncated or damaged)',
      file,
    );
}

/** The selected frames as a uint8 tensor [T, H, W, 3] in the order asked (repeats allowed). */
export async function decodeFrames(file: string, sel: FrameSelection, o: DecodeOptions = {}): Promise<Tensor> {
  const info = o.info ?? (await probeVideo(file, o));
  const [w, h] = outputSize(info, o);
  const want = selectionIndices(info, sel);
  const fb = w * h * 3;
  const out = new Uint8Array(want.length * fb);
  const slots = new Map<number, number[]>();
  want.forEach((idx, p) => slots.set(idx, [...(slots.get(idx) ?? []), p]));
  for await (const f of iterFrames(file, { indices: want }, { ...o, info }))
    for (const p of slots.get(f.index) ?? []) out.set(f.data, p * fb);
  return tensor(out, { shape: [want.length, h, w, 3] });
}

export interface FloatOptions {
  /** 'TCHW' (channels first, as vision models take them; the default) or 'THWC'. */
  layout?: 'TCHW' | 'THWC';
  /** Per-channel mean and std subtracted/divided after scaling to [0, 1] (e.g. CLIP's). */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/** uint8 frames [T, H, W, 3] as float32: x / 255, then (x - mean) / std per channel when given. */
export function toFloatFrames(u8: Tensor, o: FloatOptions = {}): Tensor {
  if (u8.dtype !== 'uint8' || u8.ndim !== 4 || u8.shape[3] !== 3)
    throw new TypeError(`pacer: toFloatFrames needs a uint8 tensor [T, H, W, 3], got ${u8}`);
  if ((o.mean === undefined) !== (o.std === undefined))
    throw new TypeError('pacer: toFloatFrames needs both mean and std, or neither');
  return scope(() => {
    let x = u8.float().div(255);
    if (o.mean && o.std) x = x.sub(tensor([...o.mean])).div(tensor([...o.std]));
    return (o.layout ?? 'TCHW') === 'TCHW' ? x.permute(0, 3, 1, 2).contiguous() : x;
  });
}

/** Decode and convert in one call: float32 frames for a model (see toFloatFrames). */
export async function decodeFramesFloat(
  file: string,
  sel: FrameSelection,
  o: DecodeOptions & FloatOptions = {},
): Promise<Tensor> {
  const u8 = await decodeFrames(file, sel, o);
  const f = toFloatFrames(u8, o);
  u8.dispose();
  return f;
}
