// Probing a video: size, frame rate, frame count, duration, through ffprobe
// (`-show_entries stream=…:format=duration -of json`). When the container does not store a frame
// count (WebM, some streams), it is counted by demuxing with `-count_packets` (no decoding).
// Frame-array files (.npz, see npz.ts) are probed from their header.
// Frame i is shown at time i / fps from the first frame (constant frame rate is assumed; variable-
// rate files are read frame by frame all the same, only timestamps are nominal).
import { stat } from 'node:fs/promises';
import { ffprobeBin, runCollect, VideoError } from './ffmpeg.js';
import { readFramesNpz } from './npz.js';

export interface VideoInfo {
  file: string;
  width: number;
  height: number;
  /** Frames per second (the stream's average rate). */
  fps: number;
  /** Number of frames. */
  frames: number;
  /** Seconds. */
  duration: number;
  /** Codec name ('h264', 'vp9', 'gif', … or 'npz' for frame arrays). */
  codec: string;
}

export interface ProbeOptions {
  timeoutMs?: number;
}

/** Throw a clear error when the file does not exist (before any process is started). */
export async function requireFile(file: string): Promise<void> {
  try {
    await stat(file);
  } catch {
    throw new VideoError(`pacer: video file not found: ${file}`, file);
  }
}

export function isNpz(file: string): boolean {
  return file.toLowerCase().endsWith('.npz');
}

function rate(s: unknown): number {
  if (typeof s !== 'string') return Number.NaN;
  const [a, b] = s.split('/').map(Number);
  return b ? a / b : a;
}

async function ffprobe(file: string, extra: string[], o: ProbeOptions): Promise<any> {
  const args = ['-v', 'error', '-select_streams', 'v:0', ...extra, '-of', 'json', file];
  const out = await runCollect(ffprobeBin(), args, { file, timeoutMs: o.timeoutMs }, 'probing');
  try {
    return JSON.parse(out.toString('utf8'));
  } catch {
    throw new VideoError(`pacer: ffprobe gave unreadable output for ${file}`, file);
  }
}

const ENTRIES = 'stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:format=duration';

/** Size, frame rate, frame count and duration of a video file (or a frames .npz). */
export async function probeVideo(file: string, o: ProbeOptions = {}): Promise<VideoInfo> {
  await requireFile(file);
  if (isNpz(file)) {
    const a = readFramesNpz(file);
    return {
      file,
      width: a.width,
      height: a.height,
      fps: a.fps,
      frames: a.frames,
      duration: a.frames / a.fps,
      codec: 'npz',
    };
  }
  const j = await ffprobe(file, ['-show_entries', ENTRIES], o);
  const s = j.streams?.[0];
  if (!s) throw new VideoError(`pacer: ${file} has no video stream`, file);
  const avg = rate(s.avg_frame_rate);
  const fps = avg > 0 && Number.isFinite(avg) ? avg : rate(s.r_frame_rate);
  let frames = Number(s.nb_frames);
  if (!(frames > 0)) {
    const c = await ffprobe(file, ['-count_packets', '-show_entries', 'stream=nb_read_packets'], o);
    frames = Number(c.streams?.[0]?.nb_read_packets);
  }
  const duration = Number(s.duration) > 0 ? Number(s.duration) : Number(j.format?.duration);
  if (!(s.width > 0 && s.height > 0 && fps > 0 && frames > 0))
    throw new VideoError(
      `pacer: ${file}: cannot tell the video's size, frame rate and frame count (ffprobe: ${JSON.stringify(s)})`,
      file,
    );
  return {
    file,
    width: s.width,
    height: s.height,
    fps,
    frames,
    duration: duration > 0 ? duration : frames / fps,
    codec: String(s.codec_name),
  };
}
