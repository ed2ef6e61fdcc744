// Video in pacer/video and pacer/eval: make a procedural temporal-grounding set (MP4s + JSONL rows in
// TRL's vision format), probe and decode frames through ffmpeg, predict each query's segment with a naive
// motion baseline, and score it as Charades-STA does (R@1 at IoU 0.3/0.5/0.7, mIoU). Guide: docs/video.md.
//   node video.js [WORKDIR]       (PACER_SMOKE=1: 2 videos)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { groundingSummary, scoreGrounding } from 'pacer/eval';
import { decodeFrames, makeDataset, probeVideo, uniformSample } from 'pacer/video';
import { SMOKE, workDir } from './tiny.ts';

const dir = workDir('video');
const made = await makeDataset({ world: 'grounding', n: SMOKE ? 2 : 20, seed: 0, out: dir, width: 64, height: 64 });
const rows = readFileSync(join(dir, 'data.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { id: string; videos: string[]; segment: [number, number] });

/** The window of `w` sampled frames with the most pixel change, as [start, end] seconds. */
async function busiestWindow(file: string, n = 32, w = 4): Promise<string> {
  const info = await probeVideo(file);
  const picked = uniformSample(info, n); // indices and timestamps
  const frames = await decodeFrames(file, { indices: picked.indices }, { width: 32, height: 32, info });
  const px = frames.float().view(n, -1);
  const change = px
    .narrow(0, 1, n - 1)
    .sub(px.narrow(0, 0, n - 1))
    .abs()
    .mean([1])
    .toArray();
  frames.dispose();
  px.dispose();
  let best = 0;
  for (let i = 0, s = 0; i + w <= change.length; i++) {
    const sum = change.slice(i, i + w).reduce((a, b) => a + b, 0);
    if (sum > s) [best, s] = [i, sum];
  }
  return `[${picked.timestamps[best].toFixed(1)}, ${picked.timestamps[best + w].toFixed(1)}]`;
}

const answers = new Map<string, string>();
for (const r of rows) answers.set(r.id, await busiestWindow(join(dir, r.videos[0])));
const summary = groundingSummary(scoreGrounding(rows, answers));
console.log(JSON.stringify({ videos: made.videos, frames: made.frames, ...summary }));
