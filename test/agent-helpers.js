// A hand-built TSPO agent whose choice is known by construction, for the tests of the agent as a plug-in
// (test/frame-agent.test.js: generate, logprobs, the trainers' frame_agent, serve model --frame-agent): a
// colour-histogram encoder (2 bins per channel) whose projection maps a red frame to e0 and a blue frame to
// e1, and the words "red"/"blue" to the same axes, and an agent whose MLP is zero (h = f), so the scores are
// 2·cos(f_t, q)/τ and topk picks exactly the frames of the asked colour. The video v.npz (8 frames, 2 fps)
// has red even frames and blue odd ones (each a different shade, so every frame is distinct); the folders
// red/ and blue/ hold exactly the frames 0, 2, 4, 6 and 1, 3, 5, 7 (the reference at 1 fps: same times).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, P } from './helpers.js';
import { encodeFramesNpz, encodePng } from '../dist/video/index.js';
import { HistogramEncoder, fnv1a } from '../dist/video/histogram-encoder.js';
import { TemporalAgent } from '../dist/video/sampler-agent.js';

export const VL_MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
export const S = 56;
const N = 8;
const VOCAB = 128;
export const RED = [0, 2, 4, 6];
export const BLUE = [1, 3, 5, 7];

/** Frame i: red (140 + 10i, 20, 20) when i is even, blue (20, 20, 140 + 10i) when odd. */
export function frameOf(i) {
  const px = new Uint8Array(S * S * 3);
  const c = i % 2 === 0 ? [140 + 10 * i, 20, 20] : [20, 20, 140 + 10 * i];
  for (let p = 0; p < S * S; p++) px.set(c, p * 3);
  return px;
}

/** The encoder (dir/enc) and the agent (dir/agent, k = 4, topk). */
export function makeAgent(dir) {
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

/** A temp folder with the agent, v.npz and the red/ and blue/ frame folders. */
export function agentSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-frame-agent-'));
  makeAgent(dir);
  const data = new Uint8Array(N * S * S * 3);
  for (let i = 0; i < N; i++) data.set(frameOf(i), i * S * S * 3);
  writeFileSync(join(dir, 'v.npz'), encodeFramesNpz({ frames: N, height: S, width: S, fps: 2, data }));
  for (const [name, idx] of [
    ['red', RED],
    ['blue', BLUE],
  ]) {
    mkdirSync(join(dir, name));
    idx.forEach((i, j) =>
      writeFileSync(join(dir, name, `${j}.png`), encodePng({ width: S, height: S, data: frameOf(i) })),
    );
  }
  return dir;
}

/** A conversational prompt asking about the `colour` square of `video` (a part's own fps when given). */
export const question = (colour) => `What does the ${colour} square do?`;
export const agentRow = (video, colour, fps) => ({
  prompt: [
    {
      role: 'user',
      content: [
        { type: 'video', path: video, ...(fps ? { fps } : {}) },
        { type: 'text', text: question(colour) },
      ],
    },
  ],
});
