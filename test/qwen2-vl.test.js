// Qwen2.5-VL and Qwen2-VL against an independent PyTorch port (test/fixtures/make_qwen2_vl.py, written from
// transformers' modeling and processor files; no transformers on this machine): processor pixel values
// (bitwise), torchvision's bicubic resize (bitwise), vision-tower output, M-RoPE position ids and rope
// deltas (exact), logits of a left-padded batch (1e-4 relative), 8 greedy tokens per row with and without
// the KV cache; the three config forms, both key layouts, load -> save bitwise, LoRA targets, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, P, assertClose } from './helpers.js';
import * as M from '../dist/models/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const dirOf = (name) => join(FIXTURES, 'models', name);
const NAMES = ['qwen2_5_vl', 'qwen2_vl'];

/** The fixture's frames through pacer's processors, and each row's media as generate() takes it. */
function processed(name) {
  const d = dirOf(name);
  const frames = P.loadSafetensors(join(d, 'frames.safetensors'));
  const meta = JSON.parse(readFileSync(join(d, 'reference.json'), 'utf8'));
  const cfgs = M.loadProcessorConfigs(d);
  const out = {};
  for (const m of meta.media) {
    const t = frames.get(m.key);
    const [T, H, W] = t.shape;
    const a = t.data();
    const fr = Array.from({ length: T }, (_, i) => a.slice(i * H * W * 3, (i + 1) * H * W * 3));
    out[m.key] = { ...M.processFrames({ frames: fr, height: H, width: W }, cfgs[m.kind]), fps: m.fps };
  }
  return { meta, out };
}

function media(p) {
  const grid = (x) => P.tensor([x.grid], { dtype: 'int64' });
  const row = (img, vids) => ({
    pixelValues: img?.pixelValues,
    imageGridThw: img ? grid(img) : undefined,
    pixelValuesVideos: P.cat(vids.map((v) => v.pixelValues)),
    videoGridThw: P.cat(vids.map(grid)),
    secondPerGridTs: P.tensor(vids.map((v) => 2 / v.fps)),
  });
  return [row(p.image0, [p.video0]), row(null, [p.video1])];
}

function batchInputs(ref, p) {
  return {
    ids: ref.get('input_ids'),
    attentionMask: ref.get('attention_mask'),
    pixelValues: p.image0.pixelValues,
    imageGridThw: ref.get('image_grid_thw'),
    pixelValuesVideos: P.cat([p.video0.pixelValues, p.video1.pixelValues]),
    videoGridThw: ref.get('video_grid_thw'),
    secondPerGridTs: ref.get('second_per_grid_ts'),
  };
}

test('torchvision bicubic resize (antialiased, uint8) is reproduced bit for bit', () => {
  for (const c of JSON.parse(readFileSync(join(FIXTURES, 'bicubic_resize.json'), 'utf8'))) {
    const y = M.resizeBicubic(Uint8Array.from(c.x), c.in[0], c.in[1], c.out[0], c.out[1]);
    assert.deepEqual([...y], c.y, `${c.in} -> ${c.out}`);
  }
});

test("the engine's antialiased bicubic: a constant image stays constant; frames resize together; bad input", () =>
  P.scope(() => {
    const flat = P.full([2, 3, 30, 40], 7.25);
    for (const size of [
      [12, 20],
      [45, 61],
    ]) {
      const y = P.F.interpolateBicubicAA(flat, size);
      assert.deepEqual(y.shape, [2, 3, ...size]);
      assertClose(y, P.full([2, 3, ...size], 7.25), 1e-5);
    }
    // a video's frames in one call equal each frame resized alone
    const frames = [0, 1, 2].map((k) => Uint8Array.from({ length: 20 * 26 * 3 }, (_, i) => (i * 37 + k * 101) % 256));
    const together = M.resizeBicubicFrames(frames, 20, 26, 14, 14);
    frames.forEach((f, k) => assert.deepEqual([...together[k]], [...M.resizeBicubic(f, 20, 26, 14, 14)]));
    assert.throws(() => P.F.interpolateBicubicAA(P.zeros([3, 4, 4]), [2, 2]), /expects \[N, C, H, W\], got \[3,4,4\]/);
    assert.throws(() => P.F.interpolateBicubicAA(flat, [0, 2]), /positive integers/);
    assert.throws(() => P.F.interpolateBicubicAA(P.zeros([1, 1, 4, 4], { dtype: 'int64' }), [2, 2]), /float/);
  }));

test('smart_resize: rounding half to even, min/max pixel bounds', () => {
  assert.deepEqual(M.smartResize(50, 70, 28, 3136, 12544), [56, 56]); // round(2.5) = 2
  assert.deepEqual(M.smartResize(100, 130, 28, 3136, 12544), [84, 112]); // shrunk under max_pixels
  assert.deepEqual(M.smartResize(20, 20, 28, 56 * 56, 28 * 28 * 1280), [56, 56]); // grown to min_pixels
  assert.throws(() => M.smartResize(10, 2100, 28, 3136, 12544), /aspect ratio above 200/);
});

for (const name of NAMES) {
  test(`${name}: processor pixel values equal the reference bit for bit`, () =>
    P.scope(() => {
      const ref = P.loadSafetensors(join(dirOf(name), 'reference.safetensors'));
      const { out } = processed(name);
      assert.equal(out.image0.pixelValues.sub(ref.get('pixel_values')).abs().max().item(), 0);
      const vid = P.cat([out.video0.pixelValues, out.video1.pixelValues]);
      const tail = ref.get('pixel_values_videos_tail');
      const mine = vid.narrow(0, vid.shape[0] - tail.shape[0], tail.shape[0]);
      assert.equal(mine.sub(tail).abs().max().item(), 0);
      assert.deepEqual([...out.video0.grid, ...out.video1.grid], ref.get('video_grid_thw').toArray());
    }));

  test(`${name}: vision tower, position ids, rope deltas and logits match the PyTorch reference`, () =>
    P.scope(() => {
      const ref = P.loadSafetensors(join(dirOf(name), 'reference.safetensors'));
      const { out } = processed(name);
      const { model } = P.fromPretrained(dirOf(name));
      const x = batchInputs(ref, out);
      assertClose(model.encodeVision(x.pixelValues, x.imageGridThw), ref.get('image_embeds'), {
        rtol: 1e-4,
        what: 'image embeds',
      });
      assertClose(model.encodeVision(x.pixelValuesVideos, x.videoGridThw), ref.get('video_embeds'), {
        rtol: 1e-4,
        what: 'video embeds',
      });
      const r = model.ropeIndex(x);
      assert.deepEqual(r.positionIds.toArray(), ref.get('position_ids').toArray());
      assert.deepEqual(r.ropeDeltas, ref.get('rope_deltas').toArray());
      const mask = ref.get('attention_mask').to('float32').unsqueeze(-1);
      const rel = assertClose(model.forward(x).mul(mask), ref.get('logits').mul(mask), { rtol: 1e-4, what: 'logits' });
      assert.ok(rel < 1e-4);
      model.dispose();
    }));

  test(`${name}: greedy tokens with and without the KV cache; a repeated prompt is prefilled once`, () => {
    const ref = P.loadSafetensors(join(dirOf(name), 'reference.safetensors'));
    const { out } = processed(name);
    const { model } = P.fromPretrained(dirOf(name));
    const [B, T] = ref.get('input_ids').shape;
    const ids = ref.get('input_ids').toArray();
    const m = ref.get('attention_mask').toArray();
    const prompts = [0, 1].map((b) => ids.slice(b * T, (b + 1) * T).filter((_, i) => m[b * T + i] === 1));
    const want = ref.get('greedy').toArray();
    const rows = [want.slice(0, 8), want.slice(8, 16)];
    assert.equal(B, 2);
    const [m0, m1] = media(out);
    for (const useCache of [true, false]) {
      const r = M.generate(model, prompts, { maxNewTokens: 8, media: [m0, m1], useCache, eosTokenId: [] });
      assert.deepEqual(
        r.map((x) => x.tokens),
        rows,
        `useCache ${useCache}`,
      );
    }
    let encodes = 0;
    const orig = model.encodeVision.bind(model);
    model.encodeVision = (px, g) => {
      encodes++;
      return orig(px, g);
    };
    const r = M.generate(model, [prompts[0], prompts[0], prompts[1], prompts[0]], {
      maxNewTokens: 8,
      media: [m0, m0, m1, m0],
      eosTokenId: [],
    });
    assert.deepEqual(
      r.map((x) => x.tokens),
      [rows[0], rows[0], rows[1], rows[0]],
    );
    assert.equal(encodes, 3, 'one image and one video for row 0, one video for row 1: each encoded once');
    // a generated pad (here forced by a logit bias) is embedded as a plain token while decoding, as in
    // transformers; a prompt with pads and no pixels is still refused
    const pad = model.vl.videoTokenId;
    const forced = M.generate(model, [prompts[1]], {
      maxNewTokens: 3,
      media: [m1],
      eosTokenId: [],
      logitBias: { [pad]: 1e9 },
    });
    assert.deepEqual(forced[0].tokens, [pad, pad, pad]);
    assert.throws(
      () => model.forward({ ids: P.tensor([prompts[1]], { dtype: 'int64' }) }),
      /<\|video_pad\|> tokens but no videos/,
    );
    model.dispose();
  });
}

test('the chat template renders vision parts and the processor expands each pad to prod(grid)/4 tokens', () => {
  const d = dirOf('qwen2_5_vl');
  const tok = Tokenizer.fromPretrained(d);
  const text = tok.applyChatTemplate(
    [
      {
        role: 'user',
        content: [{ type: 'video', path: 'x.mp4' }, { type: 'image' }, { type: 'text', text: 'what?' }],
      },
    ],
    { addGenerationPrompt: true },
  );
  assert.equal(
    text,
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n' +
      '<|vision_start|><|video_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>what?<|im_end|>\n' +
      '<|im_start|>assistant\n',
  );
  const meta = JSON.parse(readFileSync(join(d, 'reference.json'), 'utf8'));
  const ref = P.loadSafetensors(join(d, 'reference.safetensors'));
  const ig = ref.get('image_grid_thw').toArray();
  const vg = ref.get('video_grid_thw').toArray();
  const grids = { image: [ig], video: [vg.slice(0, 3)] };
  assert.equal(M.expandVisionPads(meta.prompts[0], grids, 2), meta.texts[0]);
  assert.throws(
    () => M.expandVisionPads(meta.prompts[0], { image: [], video: grids.video }, 2),
    /1 <\|image_pad\|>.*0 image/,
  );
});

test('config forms (hub flat, nested text_config, v5 rope_parameters) load the same model', () => {
  const base = JSON.parse(readFileSync(join(dirOf('qwen2_5_vl'), 'config.json'), 'utf8'));
  const textKeys = Object.keys(base).filter((k) => !['architectures', 'model_type', 'vision_config'].includes(k));
  const nested = { architectures: base.architectures, model_type: base.model_type, vision_config: base.vision_config };
  nested.text_config = Object.fromEntries(textKeys.map((k) => [k, base[k]]));
  for (const k of ['image_token_id', 'video_token_id', 'vision_start_token_id']) nested[k] = base[k];
  const v5 = structuredClone(nested);
  v5.text_config.rope_parameters = { rope_type: 'default', mrope_section: [2, 3, 3], rope_theta: base.rope_theta };
  delete v5.text_config.rope_scaling;
  delete v5.text_config.rope_theta;
  const ref = M.readVLConfig(base);
  for (const cfg of [nested, v5]) assert.deepEqual(M.readVLConfig(cfg), ref);
  assert.equal(ref.text.tie_word_embeddings, true);
  assert.deepEqual(ref.text.mrope_section, [2, 3, 3]);
  const bad = structuredClone(base);
  bad.rope_scaling.mrope_section = [2, 2, 2];
  assert.throws(
    () => M.readVLConfig(bad, 'c.json'),
    /c\.json: mrope_section \[2,2,2\] sums to 6, but head_dim \/ 2 is 8/,
  );
});

test('load -> save keeps every tensor bitwise and writes the hub key layout', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pacer-qwen-vl-'));
  try {
    for (const name of NAMES) {
      const pm = P.fromPretrained(dirOf(name));
      const out = join(tmp, name);
      P.savePretrained(pm, out);
      const saved = P.loadSafetensors(join(out, 'model.safetensors'));
      const idx = join(dirOf(name), 'model.safetensors.index.json');
      const orig =
        name === 'qwen2_vl' ? P.loadShardedSafetensors(idx) : P.loadSafetensors(join(dirOf(name), 'model.safetensors'));
      assert.equal(saved.size, orig.size);
      for (const [k, t] of orig) {
        const hub = M.qwen2VLFromCheckpoint(k);
        const s = saved.get(hub);
        assert.ok(s, `${name}: ${hub} saved`);
        assert.deepEqual(s.shape, t.shape);
        assert.equal(s.sub(t).abs().max().item(), 0, `${name}: ${k} bitwise`);
      }
      assert.ok([...saved.keys()].every((k) => /^(visual\.|model\.(embed_tokens|layers|norm)|lm_head)/.test(k)));
      assert.equal(saved.has('lm_head.weight'), name === 'qwen2_vl', 'tied heads are not written');
      pm.model.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('LoRA targets the language model by default (PEFT regex); the vision tower on request', () => {
  const { model } = P.fromPretrained(dirOf('qwen2_5_vl'));
  const entry = M.modelEntry(model.config);
  const lm = new M.LoraAdapters(model, { r: 2, lora_alpha: 4, target_modules: entry.loraTargets });
  const names = [...lm.targets.keys()];
  assert.equal(names.length, 2 * 7);
  assert.ok(names.every((n) => n.startsWith('model.layers.')));
  model.dispose();
  const { model: m2 } = P.fromPretrained(dirOf('qwen2_5_vl'));
  const all = new M.LoraAdapters(m2, { r: 2, lora_alpha: 4, target_modules: M.QWEN2_VL_LORA_WITH_VISION });
  assert.equal([...all.targets.keys()].filter((n) => n.startsWith('visual.blocks.')).length, 4 * 5);
  // an adapter saved in transformers >= 4.52's layout (model.language_model.*, model.visual.*) loads too
  P.noGrad(() => {
    for (const { pair } of all.targets.values()) pair.lora_B.weight.normal_(0, 0.1);
  });
  const tmp = mkdtempSync(join(tmpdir(), 'pacer-qwen-vl-lora-'));
  try {
    all.save(tmp);
    const cfg = JSON.parse(readFileSync(join(tmp, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.target_modules, M.QWEN2_VL_LORA_WITH_VISION);
    const file = join(tmp, 'adapter_model.safetensors');
    const w = P.loadSafetensors(file);
    const moved = new Map(
      [...w].map(([k, t]) => [
        k
          .replace('base_model.model.model.', 'base_model.model.model.language_model.')
          .replace('base_model.model.visual.', 'base_model.model.model.visual.'),
        t,
      ]),
    );
    assert.ok([...moved.keys()].some((k) => k.includes('.model.visual.blocks.')));
    P.saveSafetensors(file, moved);
    const { model: m3 } = P.fromPretrained(dirOf('qwen2_5_vl'));
    const back = M.LoraAdapters.load(m3, tmp);
    for (const [n, { pair }] of back.targets)
      assert.equal(pair.lora_B.weight.sub(all.targets.get(n).pair.lora_B.weight).abs().max().item(), 0, n);
    m3.dispose();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  m2.dispose();
});

test('bad input: pad/patch count mismatch, missing vision weights, wrong frame bytes', () => {
  const ref = P.loadSafetensors(join(dirOf('qwen2_vl'), 'reference.safetensors'));
  const { out } = processed('qwen2_vl');
  const { model } = P.fromPretrained(dirOf('qwen2_vl'));
  const x = batchInputs(ref, out);
  const fewer = {
    ...x,
    videoGridThw: P.tensor([out.video0.grid], { dtype: 'int64' }),
    pixelValuesVideos: out.video0.pixelValues,
  };
  assert.throws(() => model.forward(fewer), /has \d+ <\|video_pad\|> tokens but its videos give \d+ embeddings/);
  model.dispose();
  const tmp = mkdtempSync(join(tmpdir(), 'pacer-qwen-vl-'));
  try {
    cpSync(dirOf('qwen2_5_vl'), tmp, { recursive: true });
    const w = P.loadSafetensors(join(tmp, 'model.safetensors'));
    w.delete('visual.blocks.1.attn.qkv.weight');
    P.saveSafetensors(join(tmp, 'model.safetensors'), w);
    assert.throws(
      () => P.fromPretrained(tmp),
      /missing 1 tensor\(s\).*'visual\.blocks\.1\.attn\.qkv\.weight' \[96, 32\]/,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.throws(
    () => M.processFrames({ frames: [new Uint8Array(10)], height: 28, width: 28 }, M.defaultProcessorConfig('image')),
    /frame 0 has 10 bytes; an RGB frame of 28×28 has 2352/,
  );
  assert.throws(
    () => M.framesFromTensor(P.zeros([2, 28, 28, 4], { dtype: 'uint8' }), 'clip.png'),
    /clip\.png: expected uint8 RGB pixels \[T, H, W, 3\].*got uint8 \[2,28,28,4\]/,
  );
  assert.throws(
    () => M.processFrames({ frames: [], height: 28, width: 28 }, M.defaultProcessorConfig('video')),
    /no frames/,
  );
});
