// Writing a world to disk (`pacer video make`): OUT/data.jsonl (one row per line, TRL's vision
// format; `videos` holds paths relative to OUT), OUT/videos/<key>.mp4 (H.264 yuv420p through ffmpeg)
// or, with framesOnly, OUT/videos/<key>.npz (uint8 frames [T, H, W, 3] + fps, lossless, no ffmpeg;
// np.load reads it, and so does decodeFrames), OUT/info.json (world, seed, knobs, sizes) and any
// files the world adds (taxonomy.json). Everything is written into a staging folder beside OUT
// (OUT.partial-<pid>) and moved into OUT when the last item is done (data.jsonl last): a run that fails
// removes its staging folder, and neither a failed nor a killed run touches OUT.
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeVideo } from '../encode.js';
import { encodeFramesNpz } from '../npz.js';
import { frameCount, renderAll, renderFrames, type Video } from './scene.js';
import { getWorld, parseKnobs } from './registry.js';

export interface MakeOptions {
  world: string;
  n: number;
  seed: number;
  out: string;
  framesOnly?: boolean;
  width?: number;
  height?: number;
  fps?: number;
  /** Knob values as strings, by knob name (defaults for the rest). */
  knobs?: Record<string, string | undefined>;
  /** Videos encoded at once (default 2). */
  jobs?: number;
  /** x264 constant-quality level for the MP4s (default 23). */
  crf?: number;
  onItem?: (done: number) => void;
}

export interface MakeResult {
  rows: number;
  videos: number;
  frames: number;
  out: string;
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

async function writeVideo(v: Video, file: string, o: MakeOptions): Promise<void> {
  if (o.framesOnly) {
    const data = renderAll(v);
    await writeAtomic(
      file,
      encodeFramesNpz({ frames: frameCount(v), height: v.height, width: v.width, fps: v.fps, data }),
    );
  } else await encodeVideo(renderFrames(v), file, { fps: v.fps, crf: o.crf });
}

/**
 * Run tasks with at most `jobs` in flight; rejects with the first failure (of a task or of the task
 * source) once every started task has settled, so nothing writes after the caller cleans up.
 */
async function pool(tasks: AsyncIterable<() => Promise<void>>, jobs: number): Promise<void> {
  const running = new Set<Promise<void>>();
  let sourceError: unknown = null;
  try {
    for await (const t of tasks) {
      const p: Promise<void> = t().finally(() => running.delete(p));
      running.add(p);
      if (running.size >= jobs) await Promise.race(running);
    }
  } catch (e) {
    sourceError = e;
  }
  const settled = await Promise.allSettled(running);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (sourceError !== null) throw sourceError;
  if (failed) throw failed.reason;
}

function checkSize(o: MakeOptions): { width: number; height: number } {
  const width = o.width ?? 56;
  const height = o.height ?? width;
  for (const [k, v] of Object.entries({ width, height }))
    if (!Number.isInteger(v) || v < 16 || (!o.framesOnly && v % 2 !== 0))
      throw new Error(
        `pacer: video ${k} must be an integer >= 16${o.framesOnly ? '' : ' and even (H.264 4:2:0)'}, got ${v}`,
      );
  return { width, height };
}

/** Generate n items of a world and write videos, rows and metadata under o.out (all or nothing). */
export async function makeDataset(o: MakeOptions): Promise<MakeResult> {
  const out = resolve(o.out);
  const stage = `${out}.partial-${process.pid}`;
  try {
    const r = await writeDataset({ ...o, out: stage });
    await moveInto(stage, out);
    return { ...r, out: o.out };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Move a finished staging folder into `out`: a rename when `out` is new, else file by file (data.jsonl last). */
async function moveInto(stage: string, out: string): Promise<void> {
  try {
    await rename(stage, out);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') throw e;
  }
  await mkdir(join(out, 'videos'), { recursive: true });
  for (const f of await readdir(join(stage, 'videos'))) await rename(join(stage, 'videos', f), join(out, 'videos', f));
  await rmdir(join(stage, 'videos'));
  const files = (await readdir(stage)).sort((a, b) => Number(a === 'data.jsonl') - Number(b === 'data.jsonl'));
  for (const f of files) await rename(join(stage, f), join(out, f));
}

async function writeDataset(o: MakeOptions): Promise<MakeResult> {
  const world = getWorld(o.world);
  const knobs = parseKnobs(world, o.knobs);
  const { width, height } = checkSize(o);
  const fps = o.fps ?? world.fps;
  if (!(fps > 0)) throw new Error(`pacer: --fps must be > 0, got ${fps}`);
  await mkdir(join(o.out, 'videos'), { recursive: true });
  const ext = o.framesOnly ? 'npz' : 'mp4';
  const lines: string[] = [];
  let videos = 0;
  let frames = 0;
  async function* tasks() {
    for (let i = 0; i < o.n; i++) {
      const item = world.generate(i, o.seed, { width, height, fps, knobs });
      for (const row of item.rows)
        lines.push(JSON.stringify({ ...row, videos: (row.videos as string[]).map((k) => `videos/${k}.${ext}`) }));
      for (const { key, video } of item.videos) {
        videos++;
        frames += frameCount(video);
        yield () => writeVideo(video, join(o.out, 'videos', `${key}.${ext}`), o);
      }
      o.onItem?.(i + 1);
    }
  }
  await pool(tasks(), Math.max(1, o.jobs ?? 2));
  for (const [name, text] of Object.entries(world.files?.() ?? {})) await writeAtomic(join(o.out, name), text);
  const info = { world: world.name, n: o.n, seed: o.seed, width, height, fps, format: ext, knobs, rows: lines.length };
  await writeAtomic(join(o.out, 'info.json'), `${JSON.stringify(info, null, 2)}\n`);
  await writeAtomic(join(o.out, 'data.jsonl'), lines.length ? `${lines.join('\n')}\n` : '');
  return { rows: lines.length, videos, frames, out: o.out };
}
