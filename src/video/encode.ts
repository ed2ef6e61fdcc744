// Encoding RGB frames to video files through ffmpeg (raw rgb24 on stdin, written with backpressure):
//   mp4  — H.264 (libx264, -preset veryfast -crf 23), yuv420p (what browsers play), odd sizes padded
//          to even (libx264 rejects odd sizes in 4:2:0), +faststart; lossless: libx264rgb -qp 0 (RGB).
//   webm — VP9 (libvpx-vp9, -crf 32 -b:v 0, constant quality), yuv420p; lossless: -lossless 1 in gbrp.
//   gif  — palettegen + paletteuse (one 256-colour palette for the clip), looping.
// Output is bit-exact for the same frames and ffmpeg build (-fflags/-flags +bitexact, no metadata,
// one encoder thread), and written to a temporary file renamed into place, so a failure never
// leaves a half-written video. Also encodeFramesNpz (lossless frame arrays, no ffmpeg) — see npz.ts.
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import { ffmpegBin, Proc } from './ffmpeg.js';
import type { Frame } from './raster.js';

export type VideoFormat = 'mp4' | 'webm' | 'gif';

export interface EncodeOptions {
  /** Frames per second. */
  fps: number;
  /** Container and codec; default from the file extension. */
  format?: VideoFormat;
  /** Constant-quality level (x264 0–51, default 23; VP9 0–63, default 32). Not for GIF. */
  crf?: number;
  /** Exact RGB round trip (mp4: libx264rgb -qp 0; webm: VP9 lossless in GBR). Not for GIF. */
  lossless?: boolean;
  /** Kill ffmpeg after this long without progress (ms). */
  timeoutMs?: number;
}

export type FrameSource = Tensor | Iterable<Frame> | AsyncIterable<Frame>;

export function formatOf(file: string, o: EncodeOptions): VideoFormat {
  if (o.format) {
    if (!['mp4', 'webm', 'gif'].includes(o.format))
      throw new TypeError(`pacer: unknown video format '${o.format}' (expected mp4, webm or gif)`);
    return o.format;
  }
  const ext = file.toLowerCase().split('.').pop();
  if (ext === 'mp4' || ext === 'webm' || ext === 'gif') return ext;
  throw new TypeError(`pacer: cannot tell the video format of ${file}; name it .mp4, .webm or .gif, or pass format`);
}

/** ffmpeg output arguments for a format (before the output path). */
export function codecArgs(format: VideoFormat, o: EncodeOptions): string[] {
  const even = ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'];
  if (format === 'gif') {
    if (o.lossless || o.crf !== undefined)
      throw new TypeError('pacer: GIF takes neither crf nor lossless (it is a 256-colour palette format)');
    return ['-vf', 'split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse', '-loop', '0', '-f', 'gif'];
  }
  if (o.crf !== undefined && (o.lossless || !(Number.isInteger(o.crf) && o.crf >= 0)))
    throw new TypeError(`pacer: crf must be a non-negative integer and not combined with lossless, got ${o.crf}`);
  if (format === 'mp4') {
    const codec = o.lossless
      ? ['-c:v', 'libx264rgb', '-qp', '0', '-pix_fmt', 'rgb24']
      : [...even, '-c:v', 'libx264', '-crf', String(o.crf ?? 23), '-pix_fmt', 'yuv420p'];
    return [...codec, '-preset', 'veryfast', '-movflags', '+faststart', '-f', 'mp4'];
  }
  const codec = o.lossless
    ? ['-lossless', '1', '-pix_fmt', 'gbrp']
    : [...even, '-crf', String(o.crf ?? 32), '-b:v', '0', '-pix_fmt', 'yuv420p'];
  return ['-c:v', 'libvpx-vp9', ...codec, '-row-mt', '0', '-f', 'webm'];
}

interface Sized {
  width: number;
  height: number;
  chunks: AsyncIterable<Uint8Array>;
}

async function* tensorChunks(data: Uint8Array, fb: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += fb) yield data.subarray(i, i + fb);
}

/** The frame size and a stream of raw frames, taking the size from the first frame. */
async function sized(src: FrameSource): Promise<Sized> {
  if ('shape' in src && 'dtype' in src) {
    const t = src as Tensor;
    if (t.dtype !== 'uint8' || t.ndim !== 4 || t.shape[3] !== 3)
      throw new TypeError(`pacer: encodeVideo needs a uint8 tensor [T, H, W, 3], got ${t}`);
    const [, h, w] = t.shape;
    return { width: w, height: h, chunks: tensorChunks(t.data() as Uint8Array, w * h * 3) };
  }
  const it = (
    Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : (src as Iterable<Frame>)[Symbol.iterator]()
  ) as AsyncIterator<Frame> | Iterator<Frame>;
  const first = await it.next();
  if (first.done) throw new RangeError('pacer: encodeVideo got no frames');
  const { width, height } = first.value;
  async function* rest(): AsyncGenerator<Uint8Array> {
    let r: IteratorResult<Frame> = first;
    for (let k = 0; !r.done; k++, r = await it.next()) {
      const f = r.value;
      if (f.width !== width || f.height !== height || f.data.length !== width * height * 3)
        throw new RangeError(`pacer: frame ${k} is ${f.width}x${f.height}, the first was ${width}x${height}`);
      yield f.data;
    }
  }
  return { width, height, chunks: rest() };
}

let tmpCounter = 0;

/** Encode frames (a uint8 tensor [T, H, W, 3] or an iterable of frames) to an MP4, WebM or GIF file. */
export async function encodeVideo(src: FrameSource, out: string, o: EncodeOptions): Promise<void> {
  if (!(o.fps > 0)) throw new RangeError(`pacer: encodeVideo needs fps > 0, got ${o.fps}`);
  const format = formatOf(out, o);
  const codec = codecArgs(format, o);
  const s = await sized(src);
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${tmpCounter++}.tmp`);
  const args = [
    ...['-v', 'error', '-progress', 'pipe:2', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
    ...['-s', `${s.width}x${s.height}`, '-framerate', String(o.fps), '-i', 'pipe:0'],
    ...['-threads', '1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1'],
    ...codec,
    tmp,
  ];
  const p = new Proc(ffmpegBin(), args, { file: out, timeoutMs: o.timeoutMs, input: s.chunks });
  p.child.stdout!.resume();
  try {
    await p.check('encoding');
    await rename(tmp, out);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
