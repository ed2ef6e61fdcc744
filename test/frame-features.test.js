// Frame and question features for learned frame samplers (src/video/frame-features.ts): CLIP's symmetric
// contrastive loss against a plain double-precision computation of the formula; the warm-up lowers it on
// pairs with a learnable match; the pooled Qwen2-VL encoder (test fixture) encodes each frame on its own
// (a batch equals the frames one by one), saves and loads through encoder_config.json; the feature cache
// computes a video once (memory, then disk, keyed by the encoder) and a registered encoder plugs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import {
  FeatureCache,
  ProjectionHeads,
  clipLoss,
  contrastiveWarmup,
  createPooledEncoder,
  loadFrameEncoder,
  registerFrameEncoder,
} from '../dist/video/frame-features.js';
import { makeDataset } from '../dist/video/worlds/make.js';
import { readFramesNpz } from '../dist/video/npz.js';

const VLM = join(FIXTURES, 'models', 'qwen2_vl');

function rand(n, seed) {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  });
}

test('clipLoss equals ½(CE(logits, diag) + CE(logitsᵀ, diag)) computed in doubles', () => {
  const [N, D] = [4, 5];
  const v = rand(N * D, 1);
  const t = rand(N * D, 2);
  const scale = 2.5;
  const row = (a, i) => a.slice(i * D, (i + 1) * D);
  const norm = (x) => Math.sqrt(x.reduce((s, y) => s + y * y, 0));
  const L = [];
  for (let i = 0; i < N; i++) {
    const a = row(v, i);
    L.push(
      Array.from({ length: N }, (_, j) => {
        const b = row(t, j);
        return (Math.exp(scale) * a.reduce((s, x, k) => s + x * b[k], 0)) / (norm(a) * norm(b));
      }),
    );
  }
  const ce = (m) => {
    let tot = 0;
    for (let i = 0; i < N; i++) {
      const lse = Math.log(m[i].reduce((s, x) => s + Math.exp(x), 0));
      tot += lse - m[i][i];
    }
    return tot / N;
  };
  const LT = L.map((_, i) => L.map((r) => r[i]));
  const want = (ce(L) + ce(LT)) / 2;
  const got = P.scope(() =>
    clipLoss(P.tensor(v, { shape: [N, D] }), P.tensor(t, { shape: [N, D] }), P.tensor([scale])).item(),
  );
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
});

test('the contrastive warm-up lowers the loss on pairs whose match is learnable', () => {
  P.manualSeed(0);
  const K = 6;
  const L = 8;
  const texts = P.randn([K, L]);
  const textOf = Array.from({ length: 30 }, (_, i) => i % K);
  // each frame: its text's vector through a fixed mixing, plus noise
  const mix = P.randn([L, L]);
  const frames = P.scope(() =>
    texts
      .indexSelect(0, P.tensor(textOf, { dtype: 'int64' }))
      .matmul(mix)
      .add(P.randn([30, L]).mul(0.1)),
  );
  const heads = new ProjectionHeads(L, 4, new P.Generator(1));
  const losses = contrastiveWarmup(heads, frames, texts, textOf, { steps: 60, batchSize: K, lr: 0.05, seed: 3 });
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.equal(losses.length, 60);
  assert.ok(
    avg(losses.slice(-10)) < 0.5 * avg(losses.slice(0, 10)),
    `${avg(losses.slice(0, 10))} -> ${avg(losses.slice(-10))}`,
  );
  assert.throws(
    () =>
      contrastiveWarmup(
        heads,
        frames,
        texts,
        textOf.map(() => 0),
        { steps: 1, batchSize: 2, lr: 0.1, seed: 0 },
      ),
    /at least 2 distinct texts/,
  );
  heads.dispose();
});

test('pooled Qwen2-VL encoder: frames encode independently; save and load reproduce the features', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-ff-'));
  try {
    const enc = createPooledEncoder(VLM, 8, 5);
    const px = P.randint(0, 256, [3, 28, 42]).unsqueeze(-1).expand([3, 28, 42, 3]).contiguous().to('uint8');
    const all = enc.encodeFrames(px);
    assert.deepEqual(all.shape, [3, 8]);
    for (let i = 0; i < 3; i++)
      assertClose(enc.encodeFrames(px.narrow(0, i, 1)), all.narrow(0, i, 1), { rtol: 1e-4, atol: 1e-5 });
    const q = enc.encodeText(['What does the red square do?', 'blue']);
    assert.deepEqual(q.shape, [2, 8]);
    assert.throws(() => enc.encodeText(['']), /has no tokens/);
    enc.save(join(d, 'enc'), VLM);
    const back = loadFrameEncoder(join(d, 'enc'));
    assert.equal(back.dim, 8);
    assertClose(back.encodeFrames(px), all, { rtol: 1e-6, atol: 1e-7 });
    assertClose(back.encodeText(['What does the red square do?', 'blue']), q, { rtol: 1e-6, atol: 1e-7 });
    assert.notEqual(back.id, enc.id);
    back.dispose();
    enc.dispose();
    mkdirSync(join(d, 'bad'));
    writeFileSync(join(d, 'bad', 'encoder_config.json'), '{"encoder_type": "nope"}');
    assert.throws(() => loadFrameEncoder(join(d, 'bad')), /unknown encoder_type "nope" \(known: .*qwen2_vl_pooled/);
    assert.throws(() => loadFrameEncoder(d), /not a frame-encoder folder/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('feature cache: a video is encoded once (memory, then disk), per encoder; registered encoders plug in', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-ff-'));
  try {
    const knobs = { 'distractor-clips': '2', 'clip-frames': '4' };
    await makeDataset({ world: 'needle', n: 1, seed: 1, out: join(d, 'w'), framesOnly: true, width: 16, knobs });
    const video = join(d, 'w', 'videos', 'needle-000000.npz');
    let calls = 0;
    // a pluggable encoder: the mean colour of each frame and a text's length
    registerFrameEncoder('mean_colour', (_dir, cfg) => ({
      id: `mean_colour:${cfg.scale}`,
      dim: 3,
      encodeFrames(frames) {
        calls++;
        return frames.to('float32').mean([1, 2]).mul(cfg.scale);
      },
      encodeText: (texts) =>
        P.tensor(
          texts.flatMap((s) => [s.length, 1, 1]),
          { shape: [texts.length, 3] },
        ),
      dispose() {},
    }));
    mkdirSync(join(d, 'enc'));
    writeFileSync(join(d, 'enc', 'encoder_config.json'), '{"encoder_type": "mean_colour", "scale": 2}');
    const enc = loadFrameEncoder(join(d, 'enc'));
    const cache = new FeatureCache(join(d, 'cache'));
    const f = await cache.frames(video, enc);
    const again = await cache.frames(video, enc);
    assert.equal(f, again);
    assert.deepEqual([cache.hits, cache.misses, calls], [1, 1, 1]);
    const frames = readFramesNpz(video);
    assert.deepEqual(f.shape, [frames.frames, 3]);
    // the first frame's mean red channel times the scale, computed from the raw bytes
    let red = 0;
    for (let i = 0; i < frames.height * frames.width; i++) red += frames.data[3 * i];
    assert.ok(Math.abs(f.toArray()[0] - (2 * red) / (frames.height * frames.width)) < 1e-3);
    const disk = new FeatureCache(join(d, 'cache'));
    assertClose(await disk.frames(video, enc), f, { rtol: 0, atol: 0 });
    assert.equal(calls, 1, 'the second cache reads the features from disk');
    writeFileSync(join(d, 'enc', 'encoder_config.json'), '{"encoder_type": "mean_colour", "scale": 3}');
    const other = loadFrameEncoder(join(d, 'enc'));
    await disk.frames(video, other);
    assert.equal(calls, 2, 'another encoder is another cache entry');
    cache.clear();
    disk.clear();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
