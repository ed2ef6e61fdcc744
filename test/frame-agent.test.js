// A TSPO agent as a plug-in for pacer's video models (src/video/select.ts FrameAgent, src/data/media.ts
// frameSelector, pacer generate --frame-agent): a hand-built agent whose choice is known by construction —
// a colour-histogram encoder (2 bins per channel) whose projection maps a red frame to e0 and a blue frame
// to e1, and the words "red"/"blue" to the same axes, and an agent whose MLP is zero (h = f), so the scores
// are 2·cos(f_t, q)/τ and topk picks exactly the frames of the asked colour. A video's even frames are red,
// its odd frames blue (each a different shade, so every frame is distinct): asked about red, generate must
// see frames 0, 2, 4, 6 — the same tokens and log-probs as generate on a folder holding just those frames at
// 1 fps (same M-RoPE times), and not those of the blue frames. Grid times of uneven picks and the M-RoPE
// positions they give are checked against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, P } from './helpers.js';
import { encodeFramesNpz, encodePng } from '../dist/video/index.js';
import { HistogramEncoder, fnv1a } from '../dist/video/histogram-encoder.js';
import { TemporalAgent } from '../dist/video/sampler-agent.js';
import { FrameAgent } from '../dist/video/select.js';
import { gridTimes, visionPrompt } from '../dist/data/media.js';
import { ropeIndex } from '../dist/models/qwen2_vl/rope.js';
import { loadProcessorConfigs } from '../dist/models/qwen2_vl/processor.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const S = 56;
const N = 8;
const VOCAB = 128;

/** Frame i: red (140 + 10i, 20, 20) when i is even, blue (20, 20, 140 + 10i) when odd. */
function frameOf(i) {
  const px = new Uint8Array(S * S * 3);
  const c = i % 2 === 0 ? [140 + 10 * i, 20, 20] : [20, 20, 140 + 10 * i];
  for (let p = 0; p < S * S; p++) px.set(c, p * 3);
  return px;
}

function makeAgent(dir) {
  const enc = new HistogramEncoder(2, VOCAB, 8, 0);
  const sd = enc.heads.stateDict();
  const vis = new Float32Array(8 * 8); // [dim, bins³]: bin (1,0,0) = 4 → e0, bin (0,0,1) = 1 → e1
  vis[0 * 8 + 4] = 1;
  vis[1 * 8 + 1] = 1;
  const txt = new Float32Array(8 * VOCAB);
  txt[0 * VOCAB + (fnv1a('red') % VOCAB)] = 1;
  txt[1 * VOCAB + (fnv1a('blue') % VOCAB)] = 1;
  // the colour words share no bucket with each other or with the other words of the questions
  const others = new Set(['the', 'one', 'what', 'does', 'square', 'do'].map((x) => fnv1a(x) % VOCAB));
  for (const c of ['red', 'blue']) assert.ok(!others.has(fnv1a(c) % VOCAB), c);
  assert.notEqual(fnv1a('red') % VOCAB, fnv1a('blue') % VOCAB);
  enc.heads.loadStateDict(
    new Map([
      ['vision_proj.weight', P.tensor(vis, { shape: [8, 8] })],
      ['vision_proj.bias', P.zeros([8])],
      ['text_proj.weight', P.tensor(txt, { shape: [8, VOCAB] })],
      ['text_proj.bias', P.zeros([8])],
      ['logit_scale', sd.get('logit_scale')],
    ]),
  );
  enc.save(join(dir, 'enc'));
  enc.dispose();
  const agent = new TemporalAgent({ dim: 8, heads: 2, window: 12 }, { generator: new P.Generator(1) });
  const w = agent.stateDict();
  for (const k of ['mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias']) w.set(k, P.zeros(w.get(k).shape));
  agent.loadStateDict(w);
  agent.save(join(dir, 'agent'), { frame_encoder: join(dir, 'enc'), num_frames: 4, select: 'topk', tau: 0.01 });
  agent.dispose();
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-frame-agent-'));
  makeAgent(dir);
  const data = new Uint8Array(N * S * S * 3);
  for (let i = 0; i < N; i++) data.set(frameOf(i), i * S * S * 3);
  writeFileSync(join(dir, 'v.npz'), encodeFramesNpz({ frames: N, height: S, width: S, fps: 2, data }));
  for (const [name, idx] of [
    ['red', [0, 2, 4, 6]],
    ['blue', [1, 3, 5, 7]],
  ]) {
    mkdirSync(join(dir, name));
    idx.forEach((i, j) =>
      writeFileSync(join(dir, name, `${j}.png`), encodePng({ width: S, height: S, data: frameOf(i) })),
    );
  }
  return dir;
}

const row = (video, colour) => ({
  prompt: [
    {
      role: 'user',
      content: [
        { type: 'video', path: video },
        { type: 'text', text: `What does the ${colour} square do?` },
      ],
    },
  ],
});
const lines = (r) =>
  r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test('generate --frame-agent: the model sees exactly the frames the agent picks, at their times', () => {
  const dir = setup();
  try {
    const jsonl = (rows) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    writeFileSync(join(dir, 'agent.jsonl'), jsonl([row('v.npz', 'red'), row('v.npz', 'blue')]));
    writeFileSync(join(dir, 'ref.jsonl'), jsonl([row('red', 'red'), row('blue', 'blue'), row('blue', 'red')]));
    const gen = ['generate', '--model', MODEL, '--max-new-tokens', '4', '--json', '--threads', '1'];
    const a = pacer(...gen, '--data', join(dir, 'agent.jsonl'), '--frame-agent', join(dir, 'agent'));
    assert.equal(a.status, 0, a.stderr);
    const ref = pacer(...gen, '--data', join(dir, 'ref.jsonl'), '--video-fps', '1');
    assert.equal(ref.status, 0, ref.stderr);
    const [red, blue] = lines(a);
    const [refRed, refBlue, blueAskedRed] = lines(ref);
    assert.deepEqual(red.frames, [{ source: join(dir, 'v.npz'), indices: [0, 2, 4, 6], timestamps: [0, 1, 2, 3] }]);
    assert.deepEqual(blue.frames[0].indices, [1, 3, 5, 7]);
    assert.deepEqual(blue.frames[0].timestamps, [0.5, 1.5, 2.5, 3.5]);
    assert.deepEqual(red.tokens, refRed.tokens);
    assert.deepEqual(red.logprobs, refRed.logprobs);
    assert.deepEqual(blue.logprobs, refBlue.logprobs);
    // the frames matter to the model: the red question on the blue frames scores differently
    assert.notDeepEqual(blueAskedRed.logprobs, red.logprobs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('generate: --frame-k / --frame-mode without --frame-agent, and a folder that is no agent, are usage errors', () => {
  const r = pacer('generate', '--model', MODEL, '--prompt', 'hi', '--frame-k', '4');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--frame-agent/);
  const r2 = pacer('generate', '--model', MODEL, '--prompt', 'hi', '--frame-agent', tmpdir());
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /not an agent folder/);
});

test('media path: uneven picks keep their frames and grid times; M-RoPE follows the times', async () => {
  const dir = setup();
  try {
    assert.deepEqual(gridTimes([1, 2, 5, 7], 2, 2), [0, 2]); // grid 1 starts at frame 5: (5 − 1) / 2 s
    assert.deepEqual(gridTimes([3, 4, 9], 2, 2), [0, 3]); // the last grid is the padded frame 9
    const picks = [1, 2, 5, 7];
    const selector = { select: async () => ({ indices: picks }) };
    const tok = Tokenizer.fromPretrained(MODEL);
    const processors = loadProcessorConfigs(MODEL);
    const o = { baseDir: dir, processors, merge: 2, frameSelector: selector };
    const vp = await visionPrompt(tok, row('v.npz', 'red'), o, 'row 1');
    assert.deepEqual(vp.chosen[0].indices, picks);
    assert.deepEqual(vp.chosen[0].timestamps, [0.5, 1, 2.5, 3.5]);
    assert.deepEqual(vp.media.videoGridTimes.toArray(), [0, 2]);
    assert.deepEqual(vp.grids.video, [[2, 4, 4]]);
    // the pixel rows are those of the four chosen frames (first pixel of each frame, de-normalised)
    const px = vp.media.pixelValuesVideos.toArray(); // [2·4·4, 3·2·14·14], channel-major per row
    const byte = (c, k) =>
      Math.round((px[k + c * 2 * 14 * 14] * processors.video.imageStd[c] + processors.video.imageMean[c]) * 255);
    const row0 = 3 * 2 * 14 * 14; // columns: channel, frame of the pair, 14 × 14 pixels
    const firsts = [0, 14 * 14, 16 * row0, 16 * row0 + 14 * 14]; // grid 1 starts at row 16 (4 × 4 patches)
    assert.deepEqual(
      firsts.map((k) => [byte(0, k), byte(2, k)]),
      [
        [20, 150],
        [160, 20],
        [20, 190],
        [20, 210],
      ],
    );
    // positions: a video block at offset s with grid times [0, 3.5] and tokens_per_second 2 → t = s + [0, 7]
    const opts = {
      version: '2.5',
      merge: 2,
      tokensPerSecond: 2,
      imageTokenId: 9,
      videoTokenId: 8,
      visionStartTokenId: 7,
    };
    const ids = [[1, 7, 8, 8, 8, 8, 8, 8, 8, 8, 2]];
    const grid = [[2, 4, 4]];
    const { positions } = ropeIndex(ids, null, [], grid, [1], opts, [0, 3.5]);
    assert.deepEqual(positions[0][0], [0, 1, 2, 2, 2, 2, 9, 9, 9, 9, 10]);
    assert.deepEqual(positions[1][0], [0, 1, 2, 2, 3, 3, 2, 2, 3, 3, 10]);
    // evenly spaced times reproduce HF's g · trunc(second_per_grid_t) · tokens_per_second
    const even = ropeIndex(ids, null, [], grid, [1.5], opts).positions;
    const timed = ropeIndex(ids, null, [], grid, [1.5], opts, [0, 1]).positions;
    assert.deepEqual(timed, even);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FrameAgent: the hand-built agent picks the frames of the colour asked about', async () => {
  const dir = setup();
  try {
    const fa = FrameAgent.load(join(dir, 'agent'));
    try {
      assert.equal(fa.k, 4);
      assert.deepEqual((await fa.select(join(dir, 'v.npz'), 'the red one')).indices, [0, 2, 4, 6]);
      assert.deepEqual((await fa.select(join(dir, 'v.npz'), 'the blue one')).indices, [1, 3, 5, 7]);
    } finally {
      fa.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
