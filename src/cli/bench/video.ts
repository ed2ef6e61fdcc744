// `pacer bench video`: (1) decode throughput of pacer's streaming decoder (iterFrames: ffmpeg →
// rgb24 pipe → frames in Node) against ffmpeg alone writing the same raw frames to /dev/null, both on
// one testsrc2 H.264 video made in a temp dir, alternated for several rounds; (2) world generation
// throughput: frames/s rendering each world's items, and end to end through `video make` (MP4 and
// .npz); (3) peak RSS of a Node process that imports pacer/video (which loads libtorch) and streams
// every frame of a 10-minute testsrc2 video. Wall-clock figures on a shared machine vary: read the spread.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegBin } from '../../video/ffmpeg.js';
import { iterFrames } from '../../video/decode.js';
import { probeVideo } from '../../video/probe.js';
import { frameCount, renderAll } from '../../video/worlds/scene.js';
import { makeDataset, WORLDS } from '../../video/index.js';
import { parseKnobs } from '../../video/worlds/registry.js';

export interface BenchVideoOptions {
  rounds: number;
  /** Throughput video: seconds, size. */
  seconds: number;
  size: string;
  /** RSS video: seconds, size. */
  longSeconds: number;
  longSize: string;
  /** Items per world for generation throughput. */
  items: number;
}

function testsrc(file: string, seconds: number, size: string): void {
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', String(seconds)];
  execFileSync(ffmpegBin(), [...args, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
}

let tick = 0;
/** CPU milliseconds of this process and of its children that have exited (Linux), or NaN. */
function cpuMs(): number {
  try {
    tick ||= 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const u = process.cpuUsage();
    return (Number(f[13]) + Number(f[14])) * tick + (u.user + u.system) / 1000;
  } catch {
    return Number.NaN;
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const [c0, t0] = [cpuMs(), performance.now()];
  const value = await fn();
  return { wall: (performance.now() - t0) / 1000, cpu: (cpuMs() - c0) / 1000, value };
}

const ALONE = ['-v', 'error', '-nostdin', '-map', '0:v:0', '-an', '-sn', '-dn', '-fps_mode', 'passthrough'];

function ffmpegAlone(file: string): Promise<void> {
  const args = ['-i', file, ...ALONE, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', '/dev/null'];
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpegBin(), args, { stdio: 'ignore' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pacer: ffmpeg exited with code ${code}`))));
  });
}

async function pacerDecode(file: string): Promise<number> {
  let frames = 0;
  for await (const _ of iterFrames(file)) frames++;
  return frames;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function decodeBench(dir: string, o: BenchVideoOptions) {
  const file = join(dir, 'throughput.mp4');
  testsrc(file, o.seconds, o.size);
  const { frames } = await probeVideo(file);
  const runs = [];
  for (let i = 0; i < o.rounds; i++) {
    const f = await timed(() => ffmpegAlone(file));
    const p = await timed(() => pacerDecode(file));
    if (p.value !== frames) throw new Error(`pacer: bench decoded ${p.value} of ${frames} frames`);
    runs.push({
      ffmpeg_fps: Math.round(frames / f.wall),
      pacer_fps: Math.round(frames / p.wall),
      ratio: r3(f.wall / p.wall),
      ffmpeg_cpu_s: r3(f.cpu),
      pacer_cpu_s: r3(p.cpu),
      cpu_ratio: r3(f.cpu / p.cpu),
    });
  }
  const ratios = runs.map((r) => r.ratio);
  return {
    video: `testsrc2 ${o.size} 25 fps ${o.seconds} s H.264 (${frames} frames)`,
    runs,
    ratio_median: median(ratios),
    ratio_min: Math.min(...ratios),
    ratio_max: Math.max(...ratios),
    cpu_ratio_median: median(runs.map((r) => r.cpu_ratio)),
  };
}

async function worldBench(dir: string, o: BenchVideoOptions) {
  const render: Record<string, number> = {};
  for (const w of Object.values(WORLDS)) {
    const knobs = parseKnobs(w);
    const t = performance.now();
    let frames = 0;
    for (let i = 0; i < o.items; i++)
      for (const { video } of w.generate(i, 0, { width: 56, height: 56, fps: w.fps, knobs }).videos) {
        renderAll(video);
        frames += frameCount(video);
      }
    render[w.name] = Math.round(frames / ((performance.now() - t) / 1000));
  }
  const make = async (framesOnly: boolean) => {
    const t = performance.now();
    const r = await makeDataset({
      world: 'grounding',
      n: o.items,
      seed: 0,
      out: join(dir, `make-${framesOnly}`),
      framesOnly,
    });
    return Math.round(r.frames / ((performance.now() - t) / 1000));
  };
  return {
    render_frames_per_s: render,
    make_grounding_mp4_frames_per_s: await make(false),
    make_grounding_npz_frames_per_s: await make(true),
  };
}

const RSS_CHILD = `
const v = await import(process.argv[1]);
const rssAfterImport = process.memoryUsage().rss;
let frames = 0;
for await (const f of v.iterFrames(process.argv[2])) frames++;
const peak = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ frames, rss_after_import_mb: rssAfterImport / 2 ** 20, peak_rss_mb: peak }));
`;

async function rssBench(dir: string, o: BenchVideoOptions) {
  const file = join(dir, 'long.mp4');
  testsrc(file, o.longSeconds, o.longSize);
  const index = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'video', 'index.js');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', RSS_CHILD, index, file], {
    encoding: 'utf8',
  });
  const r = JSON.parse(out);
  return {
    video: `testsrc2 ${o.longSize} 25 fps ${o.longSeconds} s H.264`,
    frames: r.frames,
    rss_after_import_mb: Math.round(r.rss_after_import_mb),
    peak_rss_mb: Math.round(r.peak_rss_mb),
  };
}

export async function benchVideo(o: BenchVideoOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'pacer-bench-video-'));
  try {
    const decode = await decodeBench(dir, o);
    const worlds = await worldBench(dir, o);
    const rss = await rssBench(dir, o);
    return { decode, worlds, rss };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
