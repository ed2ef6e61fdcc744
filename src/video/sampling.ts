// Frame sampling: which frames of a video a model sees. Each sampler returns frame indices and their
// timestamps (index / fps, seconds from the first frame).
//   uniform(n):  round(linspace(0, total − 1, n)), computed as PyTorch does it (float32 linspace —
//                start + i·step below the halfway point, end − (n − 1 − i)·step above — then
//                round-half-to-even), since qwen-vl-utils picks frames with
//                torch.linspace(0, total − 1, n).round().long().
//   fps(fps=2, minFrames=4, maxFrames=768): qwen-vl-utils' smart_nframes (vision_process.py):
//                n = total/video_fps·fps clamped to [ceil₂(minFrames), floor₂(min(maxFrames, total))]
//                and to total, then floored to a multiple of FRAME_FACTOR = 2; indices as uniform(n).
//   segments(n): TSN (Wang et al., ECCV 2016): n equal segments of total/n frames, frame
//                floor(i·total/n + u·total/n) with u seeded-uniform (training) or 0.5 (test mode, as
//                mmaction2's SampleFrames; in training mmaction2 uses whole-frame segments instead).
//   scenes:      keyframes where ffmpeg's scene-change score (the select filter's `scene`
//                variable) exceeds a threshold, plus frame 0; scores read from `metadata=print`.
//                The score is mostly luma: shots of equal brightness may not be told apart.
//   explicit:    a given index list (e.g. from a learned sampler), checked against the video.
import { rng } from '../data/random.js';
import { ffmpegBin, runCollect } from './ffmpeg.js';
import { probeVideo, requireFile, type VideoInfo } from './probe.js';

export interface Sampled {
  indices: number[];
  /** Seconds from the first frame. */
  timestamps: number[];
}

type Frames = Pick<VideoInfo, 'frames' | 'fps'>;

function finish(indices: number[], fps: number): Sampled {
  return { indices, timestamps: indices.map((i) => i / fps) };
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`pacer: ${what} must be a positive integer, got ${n}`);
}

/** Round half to even (torch.round, numpy.round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch.linspace(start, end, n) in float32, as ATen's CPU kernel computes it. */
export function linspaceF32(start: number, end: number, n: number): number[] {
  const f = Math.fround;
  if (n === 1) return [f(start)];
  const step = f(f(f(end) - f(start)) / (n - 1));
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) =>
    i < half ? f(f(start) + f(step * i)) : f(f(end) - f(step * (n - 1 - i))),
  );
}

/** n frames spread evenly over the video: round(linspace(0, total − 1, n)). */
export function uniformSample(info: Frames, n: number): Sampled {
  checkCount(n, 'the number of frames to sample');
  return finish(
    linspaceF32(0, info.frames - 1, n).map((x) => roundHalfEven(x)),
    info.fps,
  );
}

export interface FpsOptions {
  /** Frames per second to sample (qwen-vl-utils default 2). */
  fps?: number;
  minFrames?: number;
  maxFrames?: number;
}

/** qwen-vl-utils' smart_nframes: how many frames the fps sampler takes. */
export function smartNframes(info: Frames, o: FpsOptions = {}): number {
  const fps = o.fps ?? 2;
  if (!(fps > 0)) throw new RangeError(`pacer: sampling fps must be > 0, got ${fps}`);
  const minFrames = Math.ceil((o.minFrames ?? 4) / 2) * 2;
  const maxFrames = Math.floor(Math.min(o.maxFrames ?? 768, info.frames) / 2) * 2;
  const n = Math.min(Math.min(Math.max((info.frames / info.fps) * fps, minFrames), maxFrames), info.frames);
  const even = Math.floor(n / 2) * 2;
  if (even < 2 || even > info.frames)
    throw new RangeError(`pacer: fps sampling needs a video of at least 2 frames (this one has ${info.frames})`);
  return even;
}

/** Frames at a target rate, as Qwen2-VL/Qwen2.5-VL's qwen-vl-utils samples videos. */
export function fpsSample(info: Frames, o: FpsOptions = {}): Sampled {
  return uniformSample(info, smartNframes(info, o));
}

export interface SegmentOptions {
  /** Random offset in each segment (training); false takes each segment's middle (testing). */
  random?: boolean;
  seed?: number;
}

/** TSN segment sampling: one frame from each of n equal segments. */
export function segmentSample(info: Frames, n: number, o: SegmentOptions = {}): Sampled {
  checkCount(n, 'the number of segments');
  const len = info.frames / n;
  const u = o.random === false ? () => 0.5 : rng(o.seed ?? 0);
  const idx = Array.from({ length: n }, (_, i) => Math.min(info.frames - 1, Math.floor(i * len + u() * len)));
  return finish(idx, info.fps);
}

/** An explicit list of frame indices, checked against the video. */
export function explicitSample(info: Frames, indices: readonly number[]): Sampled {
  for (const i of indices)
    if (!Number.isInteger(i) || i < 0 || i >= info.frames)
      throw new RangeError(`pacer: frame index ${i} is outside the video (0 to ${info.frames - 1})`);
  return finish([...indices], info.fps);
}

export interface SceneOptions {
  /** Scene-change score above which a frame starts a new shot (ffmpeg's scale 0–1; default 0.3). */
  threshold?: number;
  /** Keep at most this many keyframes: frame 0 and the highest-scoring changes, in time order. */
  maxFrames?: number;
  timeoutMs?: number;
}

/** ffmpeg's scene-change score for every frame (frame 0 scores 0). */
export async function sceneScores(file: string, o: { timeoutMs?: number } = {}): Promise<number[]> {
  await requireFile(file);
  const args = ['-v', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-an'];
  args.push('-vf', "select='gte(scene\\,0)',metadata=print:file=-", '-fps_mode', 'passthrough', '-f', 'null', '-');
  const out = await runCollect(ffmpegBin(), args, { file, timeoutMs: o.timeoutMs }, 'scoring scene changes in');
  const scores: number[] = [];
  for (const m of out.toString('utf8').matchAll(/lavfi\.scene_score=([0-9.eE+-]+)/g)) scores.push(Number(m[1]));
  return scores;
}

/** Keyframes at scene changes (shot starts), always including frame 0. */
export async function sceneSample(file: string, o: SceneOptions = {}): Promise<Sampled> {
  const th = o.threshold ?? 0.3;
  if (!(th >= 0 && th <= 1)) throw new RangeError(`pacer: scene threshold must be in [0, 1], got ${th}`);
  const info = await probeVideo(file, o);
  const scores = await sceneScores(file, o);
  let cuts = scores.map((s, i) => [i, s] as const).filter(([i, s]) => i > 0 && s > th);
  if (o.maxFrames !== undefined) {
    checkCount(o.maxFrames, 'maxFrames');
    cuts = [...cuts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, o.maxFrames - 1);
  }
  return finish([0, ...cuts.map(([i]) => i).sort((a, b) => a - b)], info.fps);
}
