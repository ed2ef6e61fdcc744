// A TSPO agent as a plug-in for pacer's video models (src/video/select.ts FrameAgent, src/data/media.ts
// frameSelector, pacer generate --frame-agent, the trainers' frame_agent key, pacer serve model --frame-agent):
// a hand-built agent (test/agent-helpers.js) whose choice is known by construction —
// a colour-histogram encoder (2 bins per channel) whose projection maps a red frame to e0 and a blue frame
// to e1, and the words "red"/"blue" to the same axes, and an agent whose MLP is zero (h = f), so the scores
// are 2·cos(f_t, q)/τ and topk picks exactly the frames of the asked colour. A video's even frames are red,
// its odd frames blue (each a different shade, so every frame is distinct): asked about red, generate must
// see frames 0, 2, 4, 6 — the same tokens and log-probs as generate on a folder holding just those frames at
// 1 fps (same M-RoPE times), and not those of the blue frames. The same reference holds for an SFT step's
// loss (frame_agent) and for the server's answers to a video_url (--frame-agent); the frames a trainer
// prepares are the agent's own select() for the row's question. Grid times of uneven picks and the M-RoPE
// positions they give are checked against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VL_MODEL, agentRow, agentSetup, question } from './agent-helpers.js';
import { FrameAgent } from '../dist/video/select.js';
import { gridTimes, visionPrompt } from '../dist/data/media.js';
import { ropeIndex } from '../dist/models/qwen2_vl/rope.js';
import { loadProcessorConfigs } from '../dist/models/qwen2_vl/processor.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = VL_MODEL;
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const setup = agentSetup;
const row = (video, colour) => agentRow(video, colour);
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

const jsonlText = (rows) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const answer = (t) => [{ role: 'assistant', content: [{ type: 'text', text: t }] }];
const sftRows = (videos, fps) =>
  [
    [videos[0], 'red', 'it moves left'],
    [videos[1], 'blue', 'it moves right'],
  ].map(([v, c, a]) => ({ ...agentRow(v, c, fps), completion: answer(a) }));

function sftConfig(dir, data, extra = {}) {
  return {
    trainer: 'sft',
    model_name_or_path: MODEL,
    train_dataset: join(dir, data),
    output_dir: join(dir, `out-${data}`),
    overwrite_output_dir: true,
    max_steps: 1,
    per_device_train_batch_size: 2,
    learning_rate: 1e-3,
    logging_steps: 1,
    save_steps: 100,
    threads: 1,
    report: false,
    seed: 1,
    ...extra,
  };
}

test("trainers' frame_agent: each row's video is the agent's frames for its question (SFT: the loss of the frames)", async () => {
  const { train, resolveConfig } = await import('../dist/trainers/index.js');
  const { prepareVision } = await import('../dist/trainers/vision.js');
  const { loadDataset } = await import('../dist/data/datasets.js');
  const quiet = { progress: false, log: () => {} };
  const dir = setup();
  try {
    writeFileSync(join(dir, 'agent.jsonl'), jsonlText(sftRows(['v.npz', 'v.npz'])));
    writeFileSync(join(dir, 'ref.jsonl'), jsonlText(sftRows(['red', 'blue'], 1)));
    writeFileSync(join(dir, 'swap.jsonl'), jsonlText(sftRows(['blue', 'red'], 1)));
    const agent = join(dir, 'agent');
    // the frames prepared for each row are the agent's own select() on the same video and question (and
    // frame_agent_k / frame_agent_mode reach it)
    for (const extra of [{}, { frame_agent_k: 3, frame_agent_mode: 'bin-max' }]) {
      const cfg = resolveConfig(sftConfig(dir, 'agent.jsonl', { frame_agent: agent, ...extra }), 'c.yaml', dir);
      const ex = await loadDataset(join(dir, 'agent.jsonl'));
      await prepareVision(ex, cfg, join(dir, 'agent.jsonl'));
      const fa = FrameAgent.load(agent, { k: extra.frame_agent_k, mode: extra.frame_agent_mode });
      try {
        for (const [i, colour] of ['red', 'blue'].entries()) {
          const want = await fa.select(join(dir, 'v.npz'), question(colour));
          assert.deepEqual(ex[i].vision.parts[0].chosen.indices, want.indices, `${colour} ${JSON.stringify(extra)}`);
          assert.equal(ex[i].vision.parts[0].frames.frames.length, want.indices.length);
        }
      } finally {
        fa.dispose();
      }
      if (!extra.frame_agent_k) assert.deepEqual(ex[0].vision.parts[0].chosen.indices, [0, 2, 4, 6]);
    }
    // the loss of a step on the agent's frames is the loss on folders holding exactly those frames (at the
    // same times), and not the loss with each row's frames swapped
    const loss = async (data, extra) => (await train(sftConfig(dir, data, extra), quiet)).history[0].loss;
    const got = await loss('agent.jsonl', { frame_agent: agent });
    const ref = await loss('ref.jsonl');
    const swapped = await loss('swap.jsonl');
    assert.ok(Math.abs(got - ref) <= 1e-6 * Math.abs(ref), `${got} vs ${ref}`);
    assert.ok(Math.abs(got - swapped) > 1e-4, `${got} vs swapped ${swapped}`);
    const without = await loss('agent.jsonl');
    assert.ok(Math.abs(got - without) > 1e-4, `${got} vs all frames ${without}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('frame_agent: a bad agent folder, k/mode without an agent, the masking curriculum with one are errors', async () => {
  const { train, resolveConfig } = await import('../dist/trainers/index.js');
  const dir = setup();
  try {
    writeFileSync(join(dir, 'agent.jsonl'), jsonlText(sftRows(['v.npz', 'v.npz'])));
    const bad = (extra, re) =>
      assert.throws(() => resolveConfig(sftConfig(dir, 'agent.jsonl', extra), 'c.yaml', dir), re);
    bad({ frame_agent: 'red' }, /c\.yaml: frame_agent .*red is not an agent folder \(no config\.json/);
    bad({ frame_agent_k: 2 }, /'frame_agent_k' has no effect unless frame_agent/);
    bad({ frame_agent_mode: 'topk' }, /'frame_agent_mode' has no effect unless frame_agent/);
    bad({ frame_agent: 'agent', frame_agent_mode: 'middle' }, /'frame_agent_mode' must be one of topk, bin-max/);
    const grpo = {
      trainer: 'grpo',
      reward_funcs: ['accuracy'],
      num_generations: 2,
      frame_agent: 'agent',
      mask_curriculum: true,
    };
    bad(grpo, /mask_curriculum .* cannot be combined with frame_agent/);
    // a folder with a config.json that is no agent: the run stops naming the key, before any training
    writeFileSync(join(dir, 'red', 'config.json'), '{"model_type": "llama"}');
    await assert.rejects(
      train(sftConfig(dir, 'agent.jsonl', { frame_agent: join(dir, 'red') }), { progress: false, log: () => {} }),
      /frame_agent: .*model_type is "llama", expected "tspo_agent"/,
    );
    // an agent reads video files and .npz arrays; a frame folder is an error naming the row, as in generate
    writeFileSync(join(dir, 'folder.jsonl'), jsonlText(sftRows(['blue', 'blue'])));
    await assert.rejects(
      train(sftConfig(dir, 'folder.jsonl', { frame_agent: join(dir, 'agent') }), { progress: false, log: () => {} }),
      /folder\.jsonl:1: a frame selector reads a video file or a \.npz frame array/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve model --frame-agent: a video_url is seen as the frames the agent picks for the user turns', async () => {
  const { startCli } = await import('./server-helpers.js');
  const dir = setup();
  const servers = [];
  try {
    const serve = ['serve', 'model', '--model', MODEL, '--port', '0', '--threads', '1'];
    const media = ['--allowed-local-media-path', dir];
    const agentSrv = await startCli([...serve, ...media, '--frame-agent', join(dir, 'agent')]);
    servers.push(agentSrv);
    const refSrv = await startCli([...serve, ...media, '--video-fps', '1']);
    servers.push(refSrv);
    const ask = async (srv, video, colour) => {
      const content = [
        { type: 'video_url', video_url: { url: `file://${join(dir, video)}` } },
        { type: 'text', text: question(colour) },
      ];
      const res = await fetch(`http://127.0.0.1:${srv.info.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content }], max_tokens: 4, temperature: 0, logprobs: true }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      const c = body.choices[0];
      return { text: c.message.content, logprobs: c.logprobs.content.map((t) => t.logprob) };
    };
    // the agent's picks for red (frames 0, 2, 4, 6) and blue (1, 3, 5, 7) are the folders holding exactly them
    const red = await ask(agentSrv, 'v.npz', 'red');
    const blue = await ask(agentSrv, 'v.npz', 'blue');
    assert.deepEqual(red, await ask(refSrv, 'red', 'red'));
    assert.deepEqual(blue, await ask(refSrv, 'blue', 'blue'));
    // and the frames matter: the red question on the blue frames, or on the video's fps sampling (1 fps:
    // frames 0, 2, 5, 7), answers differently
    assert.notDeepEqual(red.logprobs, (await ask(refSrv, 'blue', 'red')).logprobs);
    assert.notDeepEqual(red.logprobs, (await ask(refSrv, 'v.npz', 'red')).logprobs);
  } finally {
    for (const s of servers) s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve model: --frame-k without --frame-agent, a folder that is no agent, an agent on a text model', () => {
  const dir = setup();
  try {
    const serve = (...a) => pacer('serve', 'model', '--port', '0', '--threads', '1', ...a);
    const r1 = serve('--model', MODEL, '--frame-k', '2');
    assert.equal(r1.status, 2);
    assert.match(r1.stderr, /--frame-k and --frame-mode need --frame-agent DIR/);
    const r2 = serve('--model', MODEL, '--frame-agent', join(dir, 'red'));
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /--frame-agent .*red: not an agent folder/);
    const llama = join(dirname(MODEL), 'llama');
    const r3 = serve('--model', llama, '--frame-agent', join(dir, 'agent'));
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /--frame-agent needs a vision-language model/);
    writeFileSync(join(dir, 'red', 'config.json'), '{"model_type": "llama"}');
    const r4 = serve('--model', MODEL, '--frame-agent', join(dir, 'red'));
    assert.equal(r4.status, 2);
    assert.match(r4.stderr, /--frame-agent .*red: .*model_type is "llama", expected "tspo_agent"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
