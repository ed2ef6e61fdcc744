// Trainers with video (issue 11, item 4): TRL's vision rows (a `videos` column, conversational prompts
// with typed content parts) made by the temporal world, trained on the tiny random Qwen2.5-VL fixture
// (test/fixtures/models/qwen2_5_vl, HF layout). References: the log-prob of a media row through the
// trainers' path (tokenize, collate, one tower pass per distinct video) equals `pacer logprobs` on the
// same row (the path checked against the PyTorch port in qwen2-vl-cli.test.js); frozen parts are the
// base checkpoint's tensors bit for bit; the LoRA adapter's keys and target_modules are PEFT's names;
// a GRPO group's G rows cost one vision-tower call; in every online trainer (grpo, rloo, reg_grpo, raft,
// online_dpo) the merger, whose only path to the loss is the video, trains while the frozen tower stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, P, assertClose } from './helpers.js';
import { makeDataset } from '../dist/video/worlds/index.js';
import { train, resolveConfig } from '../dist/trainers/index.js';
import { forwardBatch, prepareVision } from '../dist/trainers/vision.js';
import { loadDataset } from '../dist/data/datasets.js';
import { visionInputs } from '../dist/data/media.js';
import { collate, completionSeq, tokenizeCompletion } from '../dist/data/tokenize.js';
import { labelLogps } from '../dist/models/scoring.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { Qwen2VLForConditionalGeneration, QWEN2_VL_LORA_WITH_VISION } from '../dist/models/qwen2_vl/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { REWARDS } from '../dist/rewards/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
const quiet = { progress: false, log: () => {} };
const jsonl = (file, rows) => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const text = (t) => [{ role: 'assistant', content: [{ type: 'text', text: t }] }];

// a reward with spread on random completions: the parity of the first token id
// the parity of a completion's id sum (the tiny random model's first token is nearly always the same, so a
// reward on it alone gives groups without variance and no gradient)
REWARDS.vl_id_sum_odd = () => (input) => input.completionIds.map((ids) => ids.reduce((a, b) => a + b, 0) % 2);

/** The temporal world's rows (3 videos, frame files) as SFT, DPO and prompt-only datasets. */
async function worldData() {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vlt-'));
  await makeDataset({ world: 'temporal', n: 3, seed: 5, out: join(d, 'w'), framesOnly: true, width: 56 });
  const rows = readFileSync(join(d, 'w', 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const vids = (r) => r.videos.map((v) => `w/${v}`);
  jsonl(
    join(d, 'sft.jsonl'),
    rows.map((r) => ({ prompt: r.prompt, completion: r.completion, videos: vids(r) })),
  );
  jsonl(
    join(d, 'pref.jsonl'),
    rows.map((r) => ({
      prompt: r.prompt,
      videos: vids(r),
      chosen: r.completion,
      rejected: text(r.answer === 'A' ? 'B' : 'A'),
    })),
  );
  jsonl(
    join(d, 'prompts.jsonl'),
    rows.map((r) => ({ prompt: r.prompt, videos: vids(r), solution: r.solution })),
  );
  return d;
}

function base(d, trainer, data, extra = {}) {
  return {
    trainer,
    model_name_or_path: MODEL,
    train_dataset: join(d, `${data}.jsonl`),
    output_dir: join(d, `${trainer}-out`),
    overwrite_output_dir: true,
    max_steps: 4,
    per_device_train_batch_size: 3,
    learning_rate: 2e-3,
    logging_steps: 1,
    save_steps: 100,
    threads: 1,
    report: false,
    seed: 1,
    ...extra,
  };
}

const losses = (r) => r.history.filter((h) => 'loss' in h).map((h) => h.loss);

function tensorsOf(file) {
  return P.loadSafetensors(file);
}

function sameBits(a, b) {
  const x = a.contiguous().data();
  const y = b.contiguous().data();
  return (
    x.length === y.length &&
    Buffer.compare(
      Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      Buffer.from(y.buffer, y.byteOffset, y.byteLength),
    ) === 0
  );
}

test('a media row scores through the trainers path exactly as pacer logprobs scores it', async () => {
  const d = await worldData();
  try {
    const cfg = resolveConfig(base(d, 'sft', 'sft'), 'test', d);
    const file = join(d, 'sft.jsonl');
    const ex = await loadDataset(file);
    await prepareVision(ex, cfg, file);
    assert.ok(ex.every((e) => e.vision && e.vision.grids.video.length === 1));
    const tok = Tokenizer.fromPretrained(MODEL);
    const pm = fromPretrained(MODEL);
    // rows 0, 1 and row 0 again (two rows share one vision object: encoded once)
    // (training appends EOS after the template's "<|im_end|>\n", as TRL does; pacer logprobs scores the
    // completion as rendered, so the comparison leaves that last token out)
    const counts = [];
    const seqs = [0, 1, 0].map((i) => {
      const t = tokenizeCompletion(ex[i], tok, {});
      assert.equal(t.completion.at(-1), tok.eosTokenId);
      counts.push(t.completion.length - 1);
      return completionSeq(t.prompt, t.completion.slice(0, -1), ex[i].vision);
    });
    const ours = P.noGrad(() =>
      P.scope(() => {
        const b = collate(seqs, tok.padTokenId ?? 0);
        return labelLogps(forwardBatch(pm.model, b), b.labels).sum.toArray();
      }),
    );
    const r = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'logprobs', '--model', MODEL, '--data', file], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const want = out.map((o) => o.logprob);
    for (const [k, i] of [0, 1, 0].entries()) assert.equal(counts[k], out[i].tokens);
    for (const [k, i] of [0, 1, 0].entries())
      assert.ok(Math.abs(ours[k] - want[i]) <= 1e-4 * Math.abs(want[i]), `row ${i}: ${ours[k]} vs ${want[i]}`);
    // a batch whose rows share one video runs the vision tower once
    let calls = 0;
    const orig = Qwen2VLForConditionalGeneration.prototype.encodeVision;
    Qwen2VLForConditionalGeneration.prototype.encodeVision = function (...a) {
      calls++;
      return orig.apply(this, a);
    };
    try {
      P.noGrad(() => P.scope(() => forwardBatch(pm.model, collate([seqs[0], seqs[2], seqs[0]], 0))));
    } finally {
      Qwen2VLForConditionalGeneration.prototype.encodeVision = orig;
    }
    assert.equal(calls, 1);
    // gradients through the shared pass equal the model's own forward on every row's pixel values
    const grads = (inputs) =>
      P.scope(() => {
        for (const p of pm.model.parameters()) p.grad = null;
        const b = collate(seqs, 0);
        const logits = inputs(b);
        labelLogps(logits, b.labels).sum.sum().backward();
        const names = [
          'visual.blocks.0.attn.qkv.weight',
          'visual.merger.mlp.0.weight',
          'model.layers.0.mlp.up_proj.weight',
        ];
        const named = new Map(pm.model.namedParameters());
        return names.map((n) => P.keep(named.get(n).grad.clone()));
      });
    const shared = grads((b) => forwardBatch(pm.model, b));
    const own = grads((b) => {
      const { vision, labels, counts, ...rest } = b;
      return pm.model.forward({ ...rest, ...visionInputs(vision) });
    });
    for (const [k, g] of shared.entries()) {
      assert.ok(P.scope(() => g.abs().sum().item()) > 0, `grad ${k} is zero`);
      assertClose(g, own[k], { rtol: 1e-4, atol: 1e-7, what: `grad ${k}` });
    }
    pm.model.dispose();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('SFT on video rows: the loss falls; freeze_vision_tower keeps the tower bit for bit, the merger trains', async () => {
  const d = await worldData();
  try {
    const r = await train(
      base(d, 'sft', 'sft', { freeze_vision_tower: true, video_fps: 1, video_max_frames: 8 }),
      quiet,
    );
    const l = losses(r);
    assert.equal(l.length, 4);
    assert.ok(l.every(Number.isFinite));
    assert.ok(l[3] < l[0], `loss ${l}`);
    const before = tensorsOf(join(MODEL, 'model.safetensors'));
    const after = tensorsOf(join(d, 'sft-out', 'model.safetensors'));
    let tower = 0;
    for (const [name, t] of before) {
      if (name.startsWith('visual.') && !name.startsWith('visual.merger.')) {
        assert.ok(sameBits(t, after.get(name)), `${name} changed`);
        tower++;
      }
    }
    assert.ok(tower > 10);
    assert.ok(!sameBits(before.get('visual.merger.mlp.0.weight'), after.get('visual.merger.mlp.0.weight')));
    // the trained folder carries the processor and chat-template files (pacer generate/logprobs read them)
    for (const f of ['chat_template.json', 'preprocessor_config.json', 'video_preprocessor_config.json'])
      assert.equal(readFileSync(join(d, 'sft-out', f), 'utf8'), readFileSync(join(MODEL, f), 'utf8'), f);
    assert.ok(
      !sameBits(before.get('model.layers.0.mlp.up_proj.weight'), after.get('model.layers.0.mlp.up_proj.weight')),
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('SFT: freeze_merger too leaves the whole vision side unchanged; video_max_pixels shrinks the frames', async () => {
  const d = await worldData();
  try {
    const cfg = base(d, 'sft', 'sft', { freeze_vision_tower: true, freeze_merger: true, max_steps: 1 });
    await train(cfg, quiet);
    const before = tensorsOf(join(MODEL, 'model.safetensors'));
    const after = tensorsOf(join(d, 'sft-out', 'model.safetensors'));
    for (const [name, t] of before) if (name.startsWith('visual.')) assert.ok(sameBits(t, after.get(name)), name);
    // 56×56 frames shrink to 28×28 under 784 pixels (smart_resize): grid 2×2 per temporal step
    const small = resolveConfig(base(d, 'sft', 'sft', { video_max_pixels: 784 }), 'test', d);
    const ex = await loadDataset(join(d, 'sft.jsonl'));
    await assert.rejects(prepareVision(ex, small, join(d, 'sft.jsonl')), /video_max_pixels \(784\) is below/);
    const ok = resolveConfig(base(d, 'sft', 'sft', { video_max_pixels: 3136 }), 'test', d);
    await prepareVision(ex, ok, join(d, 'sft.jsonl'));
    assert.deepEqual(ex[0].vision.grids.video[0].slice(1), [4, 4]);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('DPO on video rows (sigmoid + ipo, LoRA on LM and vision): PEFT adapter with vision targets', async () => {
  const d = await worldData();
  try {
    const cfg = base(d, 'dpo', 'pref', {
      loss_type: ['sigmoid', 'ipo'],
      loss_weights: [1, 0.5],
      use_peft: true,
      lora_r: 4,
      lora_alpha: 8,
      lora_dropout: 0,
      lora_vision_tower: true,
      learning_rate: 1e-2,
      per_device_eval_batch_size: 3,
    });
    const r = await train(cfg, quiet);
    const l = losses(r);
    assert.ok(l.every(Number.isFinite) && l[3] < l[0], `loss ${l}`);
    const ac = JSON.parse(readFileSync(join(d, 'dpo-out', 'adapter_config.json'), 'utf8'));
    assert.equal(ac.target_modules, QWEN2_VL_LORA_WITH_VISION);
    const keys = [...tensorsOf(join(d, 'dpo-out', 'adapter_model.safetensors')).keys()];
    assert.ok(keys.includes('base_model.model.visual.blocks.0.attn.qkv.lora_A.weight'), keys.slice(0, 4).join());
    assert.ok(keys.includes('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight'));
    assert.ok(!keys.some((k) => k.includes('merger')));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('DPO: every loss type on video rows, at step 1 (policy = reference: log-ratios 0), gives its closed form', async () => {
  const d = await worldData();
  try {
    // β = 0.1, every log-ratio 0: −log σ(0) = ln 2; hinge relu(1 − 0) = 1; ipo (0 − 1/(2β))² = 25;
    // apo_zero (1 − σ(0)) + σ(0) = 1, apo_down σ(0) + (1 − σ(0)) = 1; bco_pair 2·(−log σ(0)); sppo_hard 25 + 25
    const want = { sigmoid: Math.LN2, robust: Math.LN2, hinge: 1, ipo: 25, apo_zero: 1, apo_down: 1 };
    Object.assign(want, { bco_pair: 2 * Math.LN2, sppo_hard: 50 });
    for (const [lt, v] of Object.entries(want)) {
      const r = await train(base(d, 'dpo', 'pref', { loss_type: [lt], max_steps: 1 }), quiet);
      assert.ok(Math.abs(r.history[0].loss - v) < 1e-5, `${lt}: ${r.history[0].loss} vs ${v}`);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('KTO on video rows: desirable and undesirable completions of the same videos train', async () => {
  const d = await worldData();
  try {
    const rows = readFileSync(join(d, 'pref.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const kto = rows.flatMap((r) => [
      { prompt: r.prompt, videos: r.videos, completion: r.chosen, label: true },
      { prompt: r.prompt, videos: r.videos, completion: r.rejected, label: false },
    ]);
    jsonl(join(d, 'kto.jsonl'), kto);
    const r = await train(
      base(d, 'kto', 'kto', { per_device_train_batch_size: 6, per_device_eval_batch_size: 6 }),
      quiet,
    );
    const l = losses(r);
    assert.ok(l.every(Number.isFinite) && l[3] < l[0], `loss ${l}`);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('online trainers on video prompts (grpo, rloo, reg_grpo, raft, online_dpo): the video reaches the loss', async () => {
  // freeze_vision_tower: the tower stays bit for bit, while the merger — whose only path to the loss is the
  // video embeddings spliced in at the pads — must change (zero gradients leave AdamW's update at 0)
  const d = await worldData();
  try {
    const before = tensorsOf(join(MODEL, 'model.safetensors'));
    for (const trainer of ['grpo', 'rloo', 'reg_grpo', 'raft', 'online_dpo']) {
      const cfg = base(d, trainer, 'prompts', {
        reward_funcs: ['vl_id_sum_odd'],
        num_generations: 3,
        per_device_train_batch_size: 6,
        max_completion_length: 4,
        max_steps: 2,
        ...(trainer === 'raft' ? {} : { beta: 0.04 }),
        freeze_vision_tower: true,
      });
      const r = await train(cfg, quiet);
      const l = losses(r);
      assert.equal(l.length, 2);
      assert.ok(l.every(Number.isFinite), `${trainer}: ${l}`);
      assert.ok(r.history.every((h) => !('reward' in h) || Number.isFinite(h.reward)));
      const after = tensorsOf(join(d, `${trainer}-out`, 'model.safetensors'));
      let tower = 0;
      for (const [name, t] of before)
        if (name.startsWith('visual.') && !name.startsWith('visual.merger.')) {
          assert.ok(sameBits(t, after.get(name)), `${trainer}: ${name} changed`);
          tower++;
        }
      assert.ok(tower > 10);
      for (const w of ['visual.merger.mlp.0.weight', 'model.layers.1.self_attn.o_proj.weight'])
        assert.ok(!sameBits(before.get(w), after.get(w)), `${trainer}: ${w} did not change`);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('bad input: media on a text-only model or a trainer without video, vision keys without a vision tower', async () => {
  const d = await worldData();
  try {
    const llama = join(FIXTURES, 'models', 'llama');
    await assert.rejects(
      train(base(d, 'sft', 'sft', { model_name_or_path: llama }), quiet),
      /sft\.jsonl:1: the row has images or videos but .*llama is not a vision-language model/,
    );
    await assert.rejects(
      train(base(d, 'orpo', 'pref'), quiet),
      /pref\.jsonl:1: the row has images or videos, which the orpo trainer does not take/,
    );
    jsonl(join(d, 'text.jsonl'), [{ prompt: 'a', completion: 'b' }]);
    await assert.rejects(
      train(base(d, 'sft', 'text', { model_name_or_path: llama, freeze_vision_tower: true }), quiet),
      /freeze_vision_tower needs a vision-language model/,
    );
    await assert.rejects(
      train(base(d, 'sft', 'sft', { use_peft: true, lora_vision_tower: true, lora_target_modules: ['q_proj'] }), quiet),
      /give lora_target_modules or lora_vision_tower, not both/,
    );
    assert.throws(
      () => resolveConfig(base(d, 'sft', 'sft', { use_peft: true, freeze_merger: true }), 'c.yaml', d),
      /'freeze_merger' has no effect unless use_peft: false/,
    );
    await assert.rejects(
      train(base(d, 'sft', 'sft', { max_prompt_length: 40, max_length: 600 }), quiet),
      /sft\.jsonl:1: the prompt with its images\/videos is \d+ tokens and truncation would cut vision tokens/,
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
