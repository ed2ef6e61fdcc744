// VideoTG-R1's masking curriculum inside GRPO (src/trainers/video-mask.ts, issue 13 item 3). References:
// the blanked frames of a 12-frame video are worked out by hand from m(t) = 0.75 · max(0, 1 − t / (0.7 T))
// and the farthest-first order; in a GRPO run the per-step counts follow the same arithmetic on the
// world's span, and the pixels the vision tower receives equal the processor's patchify of the frames
// with exactly those frames zeroed (built here, not by the trainer's code) — until m reaches 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './helpers.js';
import { makeDataset } from '../dist/video/worlds/index.js';
import { train, resolveConfig } from '../dist/trainers/index.js';
import { maskPlan, maskVision } from '../dist/trainers/video-mask.js';
import { prepareVision } from '../dist/trainers/vision.js';
import { loadDataset } from '../dist/data/datasets.js';
import { patchify } from '../dist/models/qwen2_vl/processor.js';
import { Qwen2VLForConditionalGeneration } from '../dist/models/qwen2_vl/index.js';
import { noGrad, scope } from '../dist/engine/index.js';
import { REWARDS } from '../dist/rewards/index.js';

const MODEL = join(FIXTURES, 'models', 'qwen2_5_vl');
const quiet = { progress: false, log: () => {} };
REWARDS.vm_id_sum_odd = () => (input) => input.completionIds.map((ids) => ids.reduce((a, b) => a + b, 0) % 2);

const PLAN = {
  hardColumn: 'hard',
  segmentColumn: 'segment',
  start: 0.75,
  until: 0.7,
  shape: 'linear',
  order: 'farthest',
  seed: 0,
};

/** A fake row vision: n frames of 2×2 pixels, frame f filled with the value f + 1, at 2 frames/s. */
function fakeVision(n) {
  const frames = Array.from({ length: n }, (_, f) => new Uint8Array(12).fill(f + 1));
  return {
    parts: [{ kind: 'video', frames: { frames, height: 2, width: 2 }, grid: [n / 2, 1, 1], secondPerGrid: 1 }],
    grids: { image: [], video: [[n / 2, 1, 1]] },
    processors: { video: { temporalPatchSize: 2 } },
    padIds: [],
  };
}

test('maskVision blanks the frames the schedule names (hand-computed), farthest first, and none once m = 0', () => {
  // 12 frames at 2 fps, span [2, 4] s: frames 4–7 overlap it; outside are 0–3 and 8–11 (N = 8).
  // Distances of the frame centres to the span: 0 and 11 → 1.75, 1 and 10 → 1.25, 2 and 9 → 0.75, 3 and 8 → 0.25.
  // T = 10: m(t) = 0.75 (1 − t/7) → t=0: 0.75·8 = 6; t=2: 4.29 → 4; t=5: 1.71 → 2; t=6: 0.86 → 1; t ≥ 7: 0.
  const want = { 0: [0, 1, 2, 9, 10, 11], 2: [0, 1, 10, 11], 5: [0, 11], 6: [0], 7: [], 9: [] };
  const rv = fakeVision(12);
  for (const [t, frames] of Object.entries(want)) {
    const { vision, blanked } = maskVision(rv, [2, 4], 0, Number(t), 10, PLAN);
    assert.deepEqual(blanked, [frames], `step ${t}`);
    const got = vision.parts[0].frames.frames;
    for (let f = 0; f < 12; f++) {
      const v = frames.includes(f) ? 0 : f + 1;
      assert.ok(
        got[f].every((x) => x === v),
        `step ${t} frame ${f}`,
      );
    }
    if (!frames.length) assert.equal(vision, rv, 'nothing blanked: the same object');
  }
  assert.ok(
    rv.parts[0].frames.frames.every((f, i) => f[0] === i + 1),
    'the original is untouched',
  );
});

test('mask_* keys: off by default, documented, and refused without mask_curriculum', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vm-'));
  try {
    const base = { trainer: 'grpo', model_name_or_path: MODEL, train_dataset: 'x.jsonl', output_dir: d };
    const cfg = resolveConfig({ ...base, reward_funcs: ['vm_id_sum_odd'] }, 'c.yaml', d);
    assert.equal(cfg.mask_curriculum, false);
    assert.equal(maskPlan(cfg), null);
    assert.throws(
      () => resolveConfig({ ...base, reward_funcs: ['vm_id_sum_odd'], mask_start: 0.5 }, 'c.yaml', d),
      /mask_start/,
    );
    const on = resolveConfig({ ...base, reward_funcs: ['vm_id_sum_odd'], mask_curriculum: true }, 'c.yaml', d);
    assert.deepEqual(maskPlan(on), { ...PLAN, seed: on.seed });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** One grounding video of 8 s (16 frames at 2 fps) as a prompt-only row marked hard. */
async function hardRow(d) {
  const knobs = { duration: '8', events: '1', distractors: '0', clutter: '0', partial: '0', 'event-length': '2' };
  await makeDataset({ world: 'grounding', n: 1, seed: 3, out: join(d, 'w'), framesOnly: true, width: 56, knobs });
  const r = JSON.parse(readFileSync(join(d, 'w', 'data.jsonl'), 'utf8').trim());
  const row = { prompt: r.prompt, videos: r.videos.map((v) => `w/${v}`), segment: r.segment, hard: true };
  writeFileSync(join(d, 'prompts.jsonl'), `${JSON.stringify(row)}\n`);
  return r.segment;
}

/** round(m · N) farthest-first frames outside [s, e] of n frames at 2 fps, worked out directly. */
function expectedFrames(n, [s, e], m) {
  const out = [];
  for (let f = 0; f < n; f++) if ((f + 1) / 2 <= s || f / 2 >= e) out.push(f);
  const dist = (f) => ((f + 0.5) / 2 < s ? s - (f + 0.5) / 2 : (f + 0.5) / 2 - e);
  const k = Math.floor(m * out.length + 0.5);
  return out
    .sort((a, b) => dist(b) - dist(a) || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

const hash = (t) => createHash('sha256').update(Buffer.from(t.contiguous().data().buffer)).digest('hex');

test('GRPO with mask_curriculum: each step blanks the scheduled frames, and the tower sees exactly those', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vm-'));
  const orig = Qwen2VLForConditionalGeneration.prototype.encodeVision;
  const seen = [];
  try {
    const seg = await hardRow(d);
    const cfg = resolveConfig(
      {
        trainer: 'grpo',
        model_name_or_path: MODEL,
        train_dataset: join(d, 'prompts.jsonl'),
        output_dir: join(d, 'out'),
        reward_funcs: ['vm_id_sum_odd'],
        num_generations: 2,
        per_device_train_batch_size: 2,
        max_completion_length: 3,
        max_steps: 4,
        logging_steps: 1,
        save_steps: 100,
        learning_rate: 1e-3,
        threads: 1,
        report: false,
        video_fps: 2,
        mask_curriculum: true,
      },
      'test',
      d,
    );
    // the frames as the trainer prepares them, and the pixels of each step's expected masked video
    const [ex] = await loadDataset(cfg.train_dataset);
    await prepareVision([ex], cfg, cfg.train_dataset);
    const part = ex.vision.parts[0];
    const n = part.frames.frames.length;
    assert.equal(n, 16);
    // T = 4, until 0.7: m(t) = 0.75 (1 − t / 2.8) → 0.75, 0.482, 0.214, 0
    const ms = [0.75, 0.75 * (1 - 1 / 2.8), 0.75 * (1 - 2 / 2.8), 0];
    const want = ms.map((m) => expectedFrames(n, seg, m));
    assert.ok(want[0].length > want[1].length && want[2].length > 0 && want[3].length === 0, `${want}`);
    const black = new Uint8Array(part.frames.frames[0].length);
    const pixelHash = (fs) =>
      noGrad(() =>
        scope(() => {
          const frames = part.frames.frames.map((f, k) => (fs.includes(k) ? black : f));
          return hash(patchify({ ...part.frames, frames }, ex.vision.processors.video).pixelValues);
        }),
      );
    const wantHashes = want.map(pixelHash);
    Qwen2VLForConditionalGeneration.prototype.encodeVision = function (px, grid) {
      seen.push(hash(px));
      return orig.call(this, px, grid);
    };
    const r = await train(cfg, quiet);
    const steps = r.history.filter((h) => 'mask/frames' in h);
    assert.deepEqual(
      steps.map((h) => h['mask/frames']),
      want.map((w) => w.length),
    );
    steps.forEach((h, t) => assert.ok(Math.abs(h['mask/fraction'] - ms[t]) < 1e-12, `m(${t}) ${h['mask/fraction']}`));
    assert.equal(steps.at(-1)['mask/fraction'], 0, 'm reaches 0');
    // every vision-tower call saw one step's masked video, in step order, each step's at least once
    const order = seen.map((h) => wantHashes.indexOf(h));
    assert.ok(
      order.every((k) => k >= 0),
      'the tower only sees the scheduled videos',
    );
    assert.deepEqual([...new Set(order)], [0, 1, 2, 3]);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  } finally {
    Qwen2VLForConditionalGeneration.prototype.encodeVision = orig;
    rmSync(d, { recursive: true, force: true });
  }
});

test('mask_curriculum: a hard video row without a valid span is an error naming the line and column', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vm-'));
  try {
    await hardRow(d);
    const row = JSON.parse(readFileSync(join(d, 'prompts.jsonl'), 'utf8'));
    writeFileSync(join(d, 'bad.jsonl'), `${JSON.stringify({ ...row, segment: [5, 2] })}\n`);
    const cfg = {
      trainer: 'grpo',
      model_name_or_path: MODEL,
      train_dataset: join(d, 'bad.jsonl'),
      output_dir: join(d, 'out'),
      reward_funcs: ['vm_id_sum_odd'],
      num_generations: 2,
      per_device_train_batch_size: 2,
      max_steps: 1,
      threads: 1,
      report: false,
      mask_curriculum: true,
    };
    await assert.rejects(train(cfg, quiet), /bad\.jsonl:1: a hard row needs segment = \[start, end\]/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
