// Frame sampling (src/video/sampling.ts) and the frame cache (src/video/cache.ts). Uniform and fps
// sampling are checked against PyTorch (test/fixtures/make_video_sampling.py: qwen-vl-utils'
// smart_nframes and torch.linspace(...).round()); TSN segment middles and scene cuts against values
// known by construction (a video made of solid-colour clips of known lengths).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as V from '../dist/video/index.js';
import { FIXTURES } from './helpers.js';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacer-video-sampling-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const fixture = JSON.parse(readFileSync(join(FIXTURES, 'video_sampling.json'), 'utf8'));

test('uniform and fps sampling match qwen-vl-utils on PyTorch (smart_nframes, linspace, round half to even)', () => {
  let ties = 0;
  for (const c of fixture.uniform) {
    const got = V.uniformSample({ frames: c.total, fps: 1 }, c.n).indices;
    assert.deepEqual(got, c.indices_v2, `total ${c.total}, n ${c.n}`);
    ties += got.filter((v, i) => v !== c.indices[i]).length;
  }
  for (const c of fixture.fps) {
    const info = { frames: c.total, fps: c.video_fps };
    assert.equal(V.smartNframes(info, { fps: c.fps }), c.n, `total ${c.total} at ${c.video_fps} fps, sample ${c.fps}`);
    const s = V.fpsSample(info, { fps: c.fps });
    assert.deepEqual(s.indices, c.indices_v2);
    assert.deepEqual(
      s.timestamps,
      s.indices.map((i) => i / c.video_fps),
    );
    // torch 1.13's vectorised linspace rounds a few exact .5 ties the other way; nowhere else differs
    s.indices.forEach((v, i) => {
      if (v !== c.indices[i]) {
        ties++;
        assert.equal(Math.abs(v - c.indices[i]), 1);
      }
    });
  }
  assert.ok(ties < 20, `${ties} indices differ from torch 1.13`);
});

test('round half to even, as torch.round', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(V.roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

test('TSN segments: middles in test mode, one seeded frame inside each segment in training', () => {
  const info = { frames: 100, fps: 25 };
  assert.deepEqual(V.segmentSample(info, 4, { random: false }).indices, [12, 37, 62, 87]);
  const a = V.segmentSample(info, 8, { seed: 3 });
  assert.deepEqual(a, V.segmentSample(info, 8, { seed: 3 }));
  assert.notDeepEqual(a.indices, V.segmentSample(info, 8, { seed: 4 }).indices);
  // segment i covers [12.5 i, 12.5 (i + 1)); its frame is floor(12.5 i + 12.5 u), u in [0, 1)
  a.indices.forEach((idx, i) => assert.ok(idx >= Math.floor(i * 12.5) && idx < (i + 1) * 12.5, `segment ${i}: ${idx}`));
  assert.deepEqual(V.explicitSample(info, [5, 1, 5]).timestamps, [0.2, 0.04, 0.2]);
  assert.throws(() => V.explicitSample(info, [100]), /frame index 100 is outside the video/);
  assert.throws(() => V.uniformSample(info, 0), /positive integer/);
});

// ffmpeg's scene score compares luma mostly, so the shots differ in brightness
test('scene-change keyframes are the first frames of each shot', async () => {
  const file = join(dir, 'shots.mp4');
  const src = (c, d) => ['-f', 'lavfi', '-i', `color=c=${c}:size=64x48:rate=10:d=${d}`];
  execFileSync('ffmpeg', [
    ...['-v', 'error', ...src('black', 1), ...src('0xa0a0a0', 1.5), ...src('0x202020', 1)],
    ...['-filter_complex', '[0][1][2]concat=n=3:v=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file],
  ]);
  const s = await V.sceneSample(file);
  assert.deepEqual(s.indices, [0, 10, 25]);
  assert.deepEqual(s.timestamps, [0, 1, 2.5]);
  assert.equal((await V.sceneScores(file)).length, 35);
  assert.deepEqual((await V.sceneSample(file, { maxFrames: 1 })).indices, [0]);
});

test('the frame cache decodes once per (file, mtime, indices, size) and drops the least recently used', async () => {
  const file = join(dir, 't.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x24:rate=10', '-t', '1', file]);
  const frame = 32 * 24 * 3;
  const cache = new V.FrameCache(3 * frame);
  const counts = () => [cache.hits, cache.misses];
  const a = await cache.decode(file, { indices: [1, 2] }); // A: 2 frames
  const b = await cache.decode(file, { indices: [1, 2] });
  assert.deepEqual(counts(), [1, 1]);
  assert.deepEqual(Array.from(a.data()), Array.from(b.data()));
  await cache.decode(file, { indices: [1, 2] }, { width: 16 }); // B: another size, another key
  assert.deepEqual(counts(), [1, 2]);
  await cache.decode(file, { indices: [1, 2] }); // A is now the most recently used
  await cache.decode(file, { indices: [3] }); // C: over budget, so B (least recent) goes
  assert.deepEqual(counts(), [2, 3]);
  assert.equal(cache.size, 3 * frame);
  await cache.decode(file, { indices: [1, 2] });
  assert.deepEqual(counts(), [3, 3]);
  await cache.decode(file, { indices: [1, 2] }, { width: 16 });
  assert.deepEqual(counts(), [3, 4]);
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later); // a changed file is a new key
  await cache.decode(file, { indices: [1, 2] });
  assert.deepEqual(counts(), [3, 5]);
});
