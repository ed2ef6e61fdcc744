// Video I/O (src/video/) against ffmpeg itself: frames decoded from a video that ffmpeg's testsrc2
// wrote must equal, byte for byte, ffmpeg's own rgb24 output for the same frames; encode → decode
// round trips are exact where the codec is lossless and equal ffmpeg's own decode where it is not;
// every error path names the file and what went wrong, and leaves no process behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as V from '../dist/video/index.js';
import { tensor } from '../dist/index.js';

let dir;
const W = 64;
const H = 48;
const FB = W * H * 3;

function ffmpeg(...args) {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', ...args], { maxBuffer: 1 << 30 });
}
/** ffmpeg's own rgb24 decode of every frame (optionally through a filter). */
function rawFrames(file, vf) {
  return ffmpeg(
    '-i',
    file,
    ...(vf ? ['-vf', vf] : []),
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  );
}
const frameOf = (buf, k, fb = FB) => buf.subarray(k * fb, (k + 1) * fb);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pacer-video-io-'));
  // 3 s at 10 fps = 30 frames, 64x48, H.264 yuv420p
  ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x48:rate=10',
    '-t',
    '3',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    join(dir, 't.mp4'),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('probe reports the size, rate, frame count and duration testsrc2 was asked for', async () => {
  const info = await V.probeVideo(join(dir, 't.mp4'));
  assert.deepEqual(
    [info.width, info.height, info.fps, info.frames, info.duration, info.codec],
    [64, 48, 10, 30, 3, 'h264'],
  );
});

test('decoded testsrc2 frames equal ffmpeg raw rgb24 output exactly (any order, repeats)', async () => {
  const file = join(dir, 't.mp4');
  const ref = rawFrames(file);
  assert.equal(ref.length, 30 * FB);
  const want = [7, 0, 29, 7, 12, 13, 14];
  const t = await V.decodeFrames(file, { indices: want });
  assert.deepEqual(t.shape, [7, H, W, 3]);
  assert.equal(t.dtype, 'uint8');
  const d = Buffer.from(t.data());
  want.forEach((k, p) => assert.ok(frameOf(d, p).equals(frameOf(ref, k)), `frame ${k} at position ${p}`));
  // timestamps: the frame shown at t is floor(t * fps); 3.0 s (the end) is the last frame
  const ts = await V.decodeFrames(file, { timestamps: [0, 0.95, 1.0, 2.55, 3] });
  const dt = Buffer.from(ts.data());
  [0, 9, 10, 25, 29].forEach((k, p) => assert.ok(frameOf(dt, p).equals(frameOf(ref, k)), `timestamp -> frame ${k}`));
});

test('resized decode equals ffmpeg scale of the same frames; iterFrames streams them all', async () => {
  const file = join(dir, 't.mp4');
  const ref = rawFrames(file, 'scale=32:24:flags=bicubic');
  const t = await V.decodeFrames(file, { indices: [3, 20] }, { width: 32 });
  assert.deepEqual(t.shape, [2, 24, 32, 3]);
  const d = Buffer.from(t.data());
  assert.ok(frameOf(d, 0, 32 * 24 * 3).equals(frameOf(ref, 3, 32 * 24 * 3)));
  assert.ok(frameOf(d, 1, 32 * 24 * 3).equals(frameOf(ref, 20, 32 * 24 * 3)));
  const all = rawFrames(file);
  let k = 0;
  for await (const f of V.iterFrames(file)) {
    assert.equal(f.index, k);
    assert.equal(f.timestamp, k / 10);
    assert.ok(Buffer.from(f.data).equals(frameOf(all, k)), `streamed frame ${k}`);
    k++;
  }
  assert.equal(k, 30);
  for await (const _ of V.iterFrames(file)) break; // stopping early kills ffmpeg, and waits for it
  assert.equal(V.liveProcesses(), 0);
});

test('toFloatFrames scales to [0, 1], normalises per channel and puts channels first', () => {
  const u8 = tensor(new Uint8Array([0, 255, 51, 102, 204, 255]), { shape: [1, 1, 2, 3] });
  const f = V.toFloatFrames(u8);
  assert.deepEqual(f.shape, [1, 3, 1, 2]);
  // channel-first: R of both pixels, then G, then B
  const want = [0, 0.4, 1, 0.8, 0.2, 1];
  f.toArray().forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} vs ${want[i]}`));
  const n = V.toFloatFrames(u8, { layout: 'THWC', mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.5] });
  // (x - 0.5) / std: pixel 0 = (0, 1, 0.2) -> (-1, 2, -0.6)
  [-1, 2, -0.6].forEach((w, i) => assert.ok(Math.abs(n.toArray()[i] - w) < 1e-6));
});

function drawn(n) {
  const frames = [];
  for (let k = 0; k < n; k++) {
    const f = V.createFrame(40, 30, [20, 20, 20]);
    V.fillCircle(f, 6 + 2 * k, 14, 5, [230, 30, 30]);
    V.fillRect(f, 24, 4, 9, 7, [40, 80, 240]);
    frames.push(f);
  }
  return frames;
}
const concat = (frames) => Buffer.concat(frames.map((f) => Buffer.from(f.data)));

test('lossless MP4 and WebM and few-colour GIF round trips are exact', async () => {
  const frames = drawn(8);
  const src = concat(frames);
  for (const [name, o] of [
    ['l.mp4', { lossless: true }],
    ['l.webm', { lossless: true }],
    ['c.gif', {}],
  ]) {
    const file = join(dir, name);
    await V.encodeVideo(frames, file, { fps: 4, ...o });
    const info = await V.probeVideo(file);
    assert.deepEqual([info.width, info.height, info.frames], [40, 30, 8], name);
    const t = await V.decodeFrames(file, { indices: [0, 1, 2, 3, 4, 5, 6, 7] });
    assert.ok(Buffer.from(t.data()).equals(src), `${name}: decoded frames differ from the source`);
  }
});

test('lossy MP4 (H.264 yuv420p) and WebM (VP9) decode exactly as ffmpeg does, close to the source', async () => {
  const frames = drawn(6);
  const src = concat(frames);
  const t = tensor(new Uint8Array(src), { shape: [6, 30, 40, 3] });
  for (const name of ['q.mp4', 'q.webm']) {
    const file = join(dir, name);
    await V.encodeVideo(t, file, { fps: 4 });
    const info = await V.probeVideo(file);
    assert.equal(info.codec, name.endsWith('mp4') ? 'h264' : 'vp9');
    const ref = rawFrames(file);
    const d = Buffer.from((await V.decodeFrames(file, { indices: [0, 1, 2, 3, 4, 5] })).data());
    assert.ok(d.equals(ref), `${name}: pacer's decode differs from ffmpeg's`);
    let err = 0;
    for (let i = 0; i < d.length; i++) err += Math.abs(d[i] - src[i]);
    assert.ok(err / d.length < 12, `${name}: mean abs error ${err / d.length}`);
  }
  const pix = execFileSync('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=pix_fmt',
    '-of',
    'csv=p=0',
    join(dir, 'q.mp4'),
  ]);
  assert.equal(pix.toString().trim(), 'yuv420p');
});

test('odd sizes are padded to even for H.264; encoder options are checked', async () => {
  const f = V.createFrame(15, 9, [200, 10, 10]);
  await V.encodeVideo([f, f], join(dir, 'odd.mp4'), { fps: 2 });
  const info = await V.probeVideo(join(dir, 'odd.mp4'));
  assert.deepEqual([info.width, info.height], [16, 10]);
  await assert.rejects(V.encodeVideo([f], join(dir, 'x.gif'), { fps: 2, lossless: true }), /GIF takes neither/);
  await assert.rejects(V.encodeVideo([f], join(dir, 'x.avi'), { fps: 2 }), /cannot tell the video format/);
  const g = V.createFrame(16, 9, [0, 0, 0]);
  await assert.rejects(
    V.encodeVideo([f, g], join(dir, 'mixed.mp4'), { fps: 2 }),
    /frame 1 is 16x9, the first was 15x9/,
  );
  assert.equal(V.liveProcesses(), 0);
});

test('errors name the file: missing, not a video, truncated, index out of range', async () => {
  await assert.rejects(V.decodeFrames(join(dir, 'nope.mp4'), { indices: [0] }), (e) => {
    assert.match(e.message, /video file not found: .*nope\.mp4/);
    return true;
  });
  const text = join(dir, 'text.mp4');
  writeFileSync(text, 'this is not a video\n'.repeat(20));
  await assert.rejects(V.decodeFrames(text, { indices: [0] }), (e) => {
    assert.ok(e instanceof V.VideoError);
    assert.match(e.message, /text\.mp4/);
    assert.match(e.message, /Invalid data found/);
    return true;
  });
  // moov atom at the end (no faststart): cutting the file loses it
  const whole = readFileSync(join(dir, 't.mp4'));
  const cut = join(dir, 'cut.mp4');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(V.probeVideo(cut), /cut\.mp4.*moov atom not found/s);
  // moov at the front (faststart): the header promises frames the data no longer holds
  ffmpeg('-i', join(dir, 't.mp4'), '-c', 'copy', '-movflags', '+faststart', join(dir, 'fs.mp4'));
  const fs = readFileSync(join(dir, 'fs.mp4'));
  const cut2 = join(dir, 'cut2.mp4');
  writeFileSync(cut2, fs.subarray(0, Math.floor(fs.length * 0.6)));
  await assert.rejects(V.decodeFrames(cut2, { indices: [0, 29] }), /cut2\.mp4.*partial file/s);
  await assert.rejects(
    V.decodeFrames(join(dir, 't.mp4'), { indices: [30] }),
    /frame index 30 is outside .*t\.mp4 \(it has 30 frames/,
  );
  await assert.rejects(V.decodeFrames(join(dir, 't.mp4'), { timestamps: [3.5] }), /timestamp 3\.5 s is outside/);
  await assert.rejects(V.decodeFrames(join(dir, 't.mp4'), { indices: [1.5] }), /frame index 1\.5 is not a valid index/);
  await assert.rejects(V.decodeFrames(join(dir, 't.mp4'), { indices: [1] }, { width: -2 }), /width must be a positive/);
  assert.equal(V.liveProcesses(), 0);
});

test('a hung ffmpeg (reading a FIFO nobody writes) is killed after the stall timeout', async () => {
  const fifo = join(dir, 'hang.mp4');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(V.decodeFrames(fifo, { indices: [0] }, { timeoutMs: 300 }), (e) => {
    assert.ok(e instanceof V.VideoError);
    assert.match(e.message, /made no progress for 300 ms while probing .*hang\.mp4 and was killed/);
    return true;
  });
  assert.equal(V.liveProcesses(), 0);
});

test('a consumer that holds a frame longer than the stall timeout does not get ffmpeg killed', async () => {
  let k = 0;
  for await (const f of V.iterFrames(join(dir, 't.mp4'), undefined, { timeoutMs: 1500 })) {
    if (k === 0) await new Promise((r) => setTimeout(r, 2000));
    assert.equal(f.index, k++);
  }
  assert.equal(k, 30);
});

test('.npz frame arrays: exact round trip, readable by NumPy, NumPy-written ones readable', async () => {
  const frames = drawn(5);
  const data = new Uint8Array(concat(frames));
  const file = join(dir, 'f.npz');
  writeFileSync(file, V.encodeFramesNpz({ frames: 5, height: 30, width: 40, fps: 2, data }));
  const back = V.readFramesNpz(file);
  assert.deepEqual([back.frames, back.height, back.width, back.fps], [5, 30, 40, 2]);
  assert.ok(Buffer.from(back.data).equals(Buffer.from(data)));
  const t = await V.decodeFrames(file, { indices: [4, 1] });
  assert.ok(
    Buffer.from(t.data()).equals(
      Buffer.concat([frameOf(Buffer.from(data), 4, 3600), frameOf(Buffer.from(data), 1, 3600)]),
    ),
  );
  const py = `import numpy as np, hashlib, sys
d = np.load(sys.argv[1]); f = d['frames']
print(f.dtype, f.shape, float(d['fps']), hashlib.sha256(f.tobytes()).hexdigest())
np.savez_compressed(sys.argv[2], frames=f[::-1].copy(), fps=np.float64(7.5))`;
  const out = execFileSync('/usr/bin/python3', ['-c', py, file, join(dir, 'np.npz')])
    .toString()
    .trim();
  const sha = (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
  assert.equal(out, `uint8 (5, 30, 40, 3) 2.0 ${sha}`);
  const np = V.readFramesNpz(join(dir, 'np.npz'));
  assert.equal(np.fps, 7.5);
  assert.ok(Buffer.from(np.data.subarray(0, 3600)).equals(Buffer.from(frames[4].data)));
  writeFileSync(
    join(dir, 'bad.npz'),
    Buffer.from(V.encodeFramesNpz({ frames: 5, height: 30, width: 40, fps: 2, data })).subarray(0, 500),
  );
  assert.throws(() => V.readFramesNpz(join(dir, 'bad.npz')), /bad\.npz/);
});

test('PNG frames decode (by ffmpeg) to the same RGB bytes', async () => {
  const f = drawn(3)[2];
  writeFileSync(join(dir, 'f.png'), V.encodePng(f));
  const back = ffmpeg('-i', join(dir, 'f.png'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  assert.ok(back.equals(Buffer.from(f.data)));
  // CRC-32 of "123456789" is the standard check value 0xCBF43926
  assert.equal(V.crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(V.crc32(Buffer.from('1234'), Buffer.from('56789')), 0xcbf43926, 'ranges in order');
  // zlib's CRC (where Node has it) and the table agree, on random bytes split at random points
  const { crc32Table } = await import('../dist/video/png.js');
  let seed = 7;
  const bytes = Uint8Array.from({ length: 5000 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 255);
  const parts = [bytes.subarray(0, 1), bytes.subarray(1, 1777), bytes.subarray(1777)];
  assert.equal(V.crc32(...parts), crc32Table(parts));
  assert.equal(crc32Table([Buffer.from('123456789')]), 0xcbf43926);
});

test('a missing ffmpeg/ffprobe binary gives an error saying how to install it', () => {
  const script = `import('./dist/video/index.js').then((V) => V.probeVideo(process.argv[1])).catch((e) => console.log(e.message))`;
  const r = spawnSync(process.execPath, ['-e', script, join(dir, 't.mp4')], {
    encoding: 'utf8',
    env: { ...process.env, PACER_FFPROBE: '/nonexistent/ffprobe' },
    timeout: 60_000,
  });
  assert.match(r.stdout, /cannot run \/nonexistent\/ffprobe for .*t\.mp4 .*install ffmpeg/);
});
