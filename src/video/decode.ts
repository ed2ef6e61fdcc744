// Decoding frames by index or timestamp into uint8 tensors [T, H, W, 3] (RGB, ffmpeg's rgb24), or
// float tensors for models. One ffmpeg pass per call: `-vf select='between(n\,a\,b)+eq(n\,c)…'`
// keeps the wanted frames (n counts decoded frames in presentation order from 0), `-fps_mode
// passthrough` stops ffmpeg from duplicating or dropping any, `-frames:v K` stops it after the last
// one, and stdout (rawvideo rgb24) is cut into frames of W·H·3 bytes. iterFrames streams them one
// at a time (constant memory on long videos); decodeFrames gathers them in the requested order
// (repeats allowed). A timestamp t (seconds from the first frame) selects the frame shown at t:
// index floor(t·fps), the last frame for t = duration. Resizing uses ffmpeg's scale filter.
// Frame-array files (.npz) are read directly; when resized, their frames go through the same scaler.
// When neither the frame rate (timestamps) nor the aspect ratio (one-sided resize) is needed to
// build the command, ffmpeg starts decoding while ffprobe reads the header.
import { scope, tensor, type Tensor } from '../engine/index.js';
import { FrameStream, ffmpegBin, runFrames, VideoError } from './ffmpeg.js';
import { readFramesNpz } from './npz.js';
import { isNpz, probeVideo, requireFile, type VideoInfo } from './probe.js';

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
  checkSizeOptions(o);
  const w = o.width ?? (o.height ? Math.max(1, Math.round((o.height * info.width) / info.height)) : info.width);
  const h = o.height ?? (o.width ? Math.max(1, Math.round((o.width * info.height) / info.width)) : info.height);
  return [w, h];
}

function checkSizeOptions(o: DecodeOptions): void {
  for (const k of ['width', 'height'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw new RangeError(`pacer: decode option ${k} must be a positive integer, got ${v}`);
  }
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

function uniqueSorted(xs: readonly number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/**
 * ffmpeg arguments for a decode. `sorted` null means every frame; `info` and `size` may be unknown
 * yet (decoding starts while the probe runs), in which case select and scale are always written.
 */
function videoArgs(
  file: string,
  sorted: number[] | null,
  info: VideoInfo | null,
  size: [number, number] | null,
  o: DecodeOptions,
): string[] {
  const filters: string[] = [];
  if (sorted && (!info || sorted.length < info.frames)) filters.push(`select='${selectExpr(sorted)}'`);
  if (size && (!info || size[0] !== info.width || size[1] !== info.height))
    filters.push(`scale=${size[0]}:${size[1]}:flags=${o.interpolation ?? 'bicubic'}`);
  return [
    ...['-v', 'error', '-nostdin', '-progress', 'pipe:2', '-i', file, '-map', '0:v:0', '-an', '-sn', '-dn'],
    ...(filters.length ? ['-vf', filters.join(',')] : []),
    ...['-fps_mode', 'passthrough', ...(sorted ? ['-frames:v', String(sorted.length)] : [])],
    // -blocksize: write stdout in 1 MiB blocks (ffmpeg's default is 32 KiB), fewer pipe wake-ups
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-blocksize', '1048576', 'pipe:1'],
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

/** Whether ffmpeg can start before the probe returns (timestamps need the rate, one-sided sizes the aspect). */
function canOverlap(sel: FrameSelection | undefined, o: DecodeOptions): boolean {
  return !o.info && (!sel || 'indices' in sel) && (o.width === undefined) === (o.height === undefined);
}

function shortfall(file: string, k: number, want: number, next: number, frames: number): VideoError {
  return new VideoError(
    `pacer: ffmpeg decoded only ${k} of the ${want} frames asked for from ${file}; frame ${next} ` +
      `and later could not be read (the file has ${frames} frames by its header; ` +
      'it may be truncated or damaged)',
    file,
  );
}

async function* videoFrames(file: string, sel: FrameSelection | undefined, o: DecodeOptions) {
  await requireFile(file);
  checkSizeOptions(o);
  const given = sel && 'indices' in sel ? [...sel.indices] : [];
  for (const i of given) // checked against the frame count once the probe is back
    if (!Number.isInteger(i) || i < 0) throw new RangeError(`pacer: frame index ${i} is not a valid index (${file})`);
  const early = canOverlap(sel, o);
  const probing = o.info ? Promise.resolve(o.info) : probeVideo(file, o);
  if (early) probing.catch(() => {}); // awaited below, after ffmpeg has started
  const known = early ? null : await probing;
  const sorted = sel ? uniqueSorted(known ? selectionIndices(known, sel) : given) : null;
  if (sorted?.length === 0) return;
  const fixed: [number, number] | null = known ? outputSize(known, o) : o.width ? [o.width, o.height!] : null;
  const ready = probing.then((info) => {
    if (sorted) selectionIndices(info, { indices: sorted });
    return { info, size: fixed ?? outputSize(info, o) };
  });
  if (early) ready.catch(() => {});
  const args = videoArgs(file, sorted, known, fixed, o);
  const fb = ready.then(({ size }) => size[0] * size[1] * 3);
  fb.catch(() => {}); // a failed probe is reported by `await ready`
  const stream = new FrameStream(ffmpegBin(), args, fb, { file, timeoutMs: o.timeoutMs }, 'decoding');
  try {
    const { info, size } = await ready;
    const want = sorted ?? Array.from({ length: info.frames }, (_, i) => i);
    let k = 0;
    for await (const data of stream.frames()) {
      if (k >= want.length) break;
      yield { index: want[k], timestamp: want[k] / info.fps, width: size[0], height: size[1], data };
      k++;
    }
    if (k < want.length) throw shortfall(file, k, want.length, want[k], info.frames);
  } finally {
    await stream.close();
  }
}

async function* npzFrames(file: string, sel: FrameSelection | undefined, o: DecodeOptions) {
  const info = o.info ?? (await probeVideo(file, o));
  const [w, h] = outputSize(info, o);
  const sorted = sel ? uniqueSorted(selectionIndices(info, sel)) : Array.from({ length: info.frames }, (_, i) => i);
  const a = readFramesNpz(file);
  const fb = a.width * a.height * 3;
  const pick = sorted.map((i) => a.data.subarray(i * fb, (i + 1) * fb));
  const src =
    w === a.width && h === a.height
      ? pick.map((d) => new Uint8Array(d))
      : scaleRaw(pick, [a.width, a.height], [w, h], { file, ...o });
  let k = 0;
  for await (const data of src) {
    yield { index: sorted[k], timestamp: sorted[k] / info.fps, width: w, height: h, data };
    k++;
  }
}

/**
 * Stream the selected frames (all frames when no selection is given) in ascending index order,
 * each index once; memory stays at one frame however long the video. When the frame rate and the
 * aspect ratio are not needed up front, ffmpeg starts decoding while ffprobe reads the header.
 */
export function iterFrames(file: string, sel?: FrameSelection, o: DecodeOptions = {}): AsyncGenerator<DecodedFrame> {
  return isNpz(file) ? npzFrames(file, sel, o) : videoFrames(file, sel, o);
}

/** The selected frames as a uint8 tensor [T, H, W, 3] in the order asked (repeats allowed). */
export async function decodeFrames(file: string, sel: FrameSelection, o: DecodeOptions = {}): Promise<Tensor> {
  if (!('indices' in sel)) {
    const info = o.info ?? (await probeVideo(file, o));
    return decodeFrames(file, { indices: selectionIndices(info, sel) }, { ...o, info });
  }
  const want = [...sel.indices];
  if (want.length === 0) {
    const [w, h] = outputSize(o.info ?? (await probeVideo(file, o)), o);
    return tensor(new Uint8Array(0), { shape: [0, h, w, 3] });
  }
  const slots = new Map<number, number[]>();
  want.forEach((idx, p) => slots.set(idx, [...(slots.get(idx) ?? []), p]));
  let out: Uint8Array | null = null;
  let size = [0, 0];
  for await (const f of iterFrames(file, { indices: want }, o)) {
    if (!out) {
      out = new Uint8Array(want.length * f.width * f.height * 3);
      size = [f.width, f.height];
    }
    for (const p of slots.get(f.index) ?? []) out.set(f.data, p * f.data.length);
  }
  return tensor(out!, { shape: [want.length, size[1], size[0], 3] });
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
