// The 'vlm' answerer (src/video/vlm-answerer.ts) on the tiny Qwen2.5-VL fixture: its answer from frames
// 0, 2, 4, 6 of an 8-frame video at 2 fps is the text `pacer generate` gives for the same question on a
// folder holding just those frames at 1 fps (the CLI path is parity-tested against PyTorch in
// test/qwen2-vl-cli.test.js); trainer: tspo trains an agent against it; its config keys are checked; a pad
// token generated while answering does not stop generation (it did before: found by the study with --vlm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, P } from './helpers.js';
import { visionPrompt } from '../dist/data/media.js';
import { generate } from '../dist/models/generate.js';
import { loadProcessorConfigs } from '../dist/models/qwen2_vl/processor.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { encodeFramesNpz, encodePng } from '../dist/video/index.js';
import { makeAnswerer } from '../dist/video/answerers.js';
import '../dist/video/vlm-answerer.js';
import { makeDataset } from '../dist/video/worlds/make.js';
import { HistogramEncoder } from '../dist/video/histogram-encoder.js';
import { resolveConfig, train } from '../dist/trainers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
const S = 56;

/** Frame i: a distinct colour per frame. */
function frameOf(i) {
  const px = new Uint8Array(S * S * 3);
  for (let p = 0; p < S * S; p++) px.set([(37 * i + 20) % 256, (91 * i + 50) % 256, (13 * i + 200) % 256], p * 3);
  return px;
}

test('answerer vlm: the answer from chosen frames equals pacer generate on exactly those frames', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-vlm-ans-'));
  const ans = makeAnswerer('vlm', { model: MODEL, max_new_tokens: 6 });
  try {
    const data = new Uint8Array(8 * S * S * 3);
    for (let i = 0; i < 8; i++) data.set(frameOf(i), i * S * S * 3);
    writeFileSync(join(dir, 'v.npz'), encodeFramesNpz({ frames: 8, height: S, width: S, fps: 2, data }));
    mkdirSync(join(dir, 'even'));
    [0, 2, 4, 6].forEach((i, j) =>
      writeFileSync(join(dir, 'even', `${j}.png`), encodePng({ width: S, height: S, data: frameOf(i) })),
    );
    const question = 'What does the red circle do?\nA. It spins.\nB. It grows.';
    const q = { id: 'q', video: join(dir, 'v.npz'), question, answer: 'A', needleMask: null, eventFrames: null };
    const got = await ans.answer(q, [0, 2, 4, 6]);
    assert.equal(await ans.answer(q, [0, 2, 4, 6]), got, 'greedy: the same frames give the same answer');
    const row = {
      prompt: [
        {
          role: 'user',
          content: [
            { type: 'video', path: 'even' },
            { type: 'text', text: question },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'ref.jsonl'), `${JSON.stringify(row)}\n`);
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/pacer.js'), 'generate', '--model', MODEL, '--data', join(dir, 'ref.jsonl')].concat([
        '--video-fps',
        '1',
        '--max-new-tokens',
        '6',
        '--json',
        '--threads',
        '1',
      ]),
      { encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(got, JSON.parse(r.stdout).text.trim());
    assert.ok(got.length > 0);
  } finally {
    ans.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trainer: tspo trains an agent against the vlm answerer; answerer_model is checked', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vlm-tspo-'));
  try {
    const knobs = { 'distractor-clips': '2', 'clip-frames': '4' };
    await makeDataset({ world: 'needle', n: 2, seed: 1, out: join(d, 'needle'), framesOnly: true, width: 16, knobs });
    const enc = new HistogramEncoder(2, 16, 8, 0);
    enc.save(join(d, 'enc'));
    enc.dispose();
    const cfg = {
      trainer: 'tspo',
      train_dataset: join(d, 'needle', 'data.jsonl'),
      frame_encoder: join(d, 'enc'),
      output_dir: join(d, 'out'),
      num_generations: 2,
      num_frames: 4,
      agent_heads: 2,
      max_steps: 2,
      logging_steps: 1,
      threads: 1,
      report: false,
      answerer: 'vlm',
      answerer_model: MODEL,
    };
    await train(cfg, { progress: false, log: () => {} });
    assert.ok(existsSync(join(d, 'out', 'model.safetensors')));
    const m = readFileSync(join(d, 'out', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(JSON.parse);
    assert.equal(m.filter((x) => 'reward' in x).length, 2);
    for (const x of m.filter((y) => 'reward' in y)) assert.ok(x.accuracy >= 0 && x.accuracy <= 1);
    const { answerer_model: _m, ...noModel } = cfg;
    assert.throws(() => resolveConfig(noModel, 'c.yaml', d), /answerer vlm needs answerer_model/);
    assert.throws(
      () => resolveConfig({ ...cfg, answerer: 'needle_oracle' }, 'c.yaml', d),
      /answerer_model' has no effect unless answerer: vlm/,
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('generate: a <|video_pad|> generated after a video prompt is a plain token (transformers), not an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-vlm-pad-'));
  const { model } = P.fromPretrained(MODEL);
  try {
    mkdirSync(join(dir, 'clip'));
    [0, 1].forEach((i) =>
      writeFileSync(join(dir, 'clip', `${i}.png`), encodePng({ width: S, height: S, data: frameOf(i) })),
    );
    const tok = Tokenizer.fromPretrained(MODEL);
    const row = {
      prompt: [
        {
          role: 'user',
          content: [
            { type: 'video', path: 'clip' },
            { type: 'text', text: 'Hi' },
          ],
        },
      ],
    };
    const o = { baseDir: dir, processors: loadProcessorConfigs(MODEL), merge: 2 };
    const vp = await visionPrompt(tok, row, o, 'row 1');
    const pad = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')).video_token_id;
    const [g] = generate(model, [tok.encode(vp.text)], {
      maxNewTokens: 3,
      media: [vp.media],
      logitBias: { [pad]: 1e4 },
    });
    assert.deepEqual(g.tokens, [pad, pad, pad]);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
