// trainer: tspo (src/trainers/tspo.ts): the temporal agent trained by RL with a frozen answerer. On a
// small needle world, with colour-histogram features warmed up CLIP-style and the needle_oracle answerer
// (right iff it sees ≥ 2 needle frames, else a blind guess — a frame-reading stand-in for a frozen video
// LLM), training raises the agent's needle hit-rate above the same run at learning rate 0 (the untrained
// agent, same draws) and above uniform sampling (computed here from the needle masks); resume from a
// checkpoint reproduces the metrics and the saved agent exactly; `pacer video select` with the trained agent
// prints the frames the trainer's evaluation picks (topk), one per bin (bin-max); bad rows and settings
// are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { makeDataset } from '../dist/video/worlds/make.js';
import { fitPooledEncoder } from '../dist/video/frame-features.js';
import { HistogramEncoder } from '../dist/video/histogram-encoder.js';
import { makeAnswerer, readVideoQuestions } from '../dist/video/answerers.js';
import { train, resolveConfig } from '../dist/trainers/index.js';
import { agentChoice, featureItems } from '../dist/trainers/tspo.js';
import { FeatureCache } from '../dist/video/frame-features.js';
import { TemporalAgent } from '../dist/video/sampler-agent.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const quiet = { progress: false, log: () => {} };
const KNOBS = { 'distractor-clips': '6', 'clip-frames': '4', repeats: '1-2' };
const metrics = (dir) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** A needle train set, a warm-up set and a fitted colour-histogram encoder under d. */
async function world(d) {
  const make = (name, n, seed) =>
    makeDataset({ world: 'needle', n, seed, out: join(d, name), framesOnly: true, width: 32, knobs: KNOBS });
  await make('train', 8, 1);
  await make('warm', 60, 3);
  const enc = new HistogramEncoder(4, 64, 32, 0);
  const pairs = readVideoQuestions(join(d, 'warm', 'data.jsonl')).map((q) => ({
    video: q.video,
    text: q.question,
    frames: q.needleMask.flatMap((m, i) => (m ? [i] : [])),
  }));
  await fitPooledEncoder(enc, pairs, { steps: 300, batchSize: 16, lr: 3e-3, seed: 0, perPair: 4 });
  enc.save(join(d, 'enc'));
  enc.dispose();
}

const base = (d, extra = {}) => ({
  trainer: 'tspo',
  train_dataset: join(d, 'train', 'data.jsonl'),
  eval_dataset: join(d, 'train', 'data.jsonl'),
  frame_encoder: join(d, 'enc'),
  output_dir: join(d, 'out'),
  overwrite_output_dir: true,
  num_frames: 4,
  num_generations: 8,
  per_device_train_batch_size: 2,
  agent_heads: 4,
  tau_start: 0.2,
  tau_end: 0.1,
  logging_steps: 1,
  threads: 1,
  report: false,
  seed: 0,
  ...extra,
});

test('tspo raises the needle hit-rate above the untrained agent and uniform sampling; resume is exact', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-tspo-'));
  try {
    await world(d);
    const rows = readVideoQuestions(join(d, 'train', 'data.jsonl'));
    // uniform k = 4: round(i (T-1)/3), the needle fraction counted from the masks
    const uniform =
      rows
        .map((q) => {
          const T = q.needleMask.length;
          const idx = [0, 1, 2, 3].map((i) => Math.round((i * (T - 1)) / 3));
          return idx.filter((t) => q.needleMask[t] === 1).length / 4;
        })
        .reduce((a, b) => a + b, 0) / rows.length;
    const untrained = await train(base(d, { max_steps: 100, learning_rate: 0, eval_strategy: 'no' }), quiet);
    const trained = await train(base(d, { max_steps: 100, learning_rate: 1e-2 }), quiet);
    const h0 = untrained.evalMetrics.eval_hit_rate;
    const h1 = trained.evalMetrics.eval_hit_rate;
    t.diagnostic(`hit-rate: uniform ${uniform}, untrained ${h0}, trained ${h1}`);
    assert.ok(h1 > h0 + 0.1, `trained hit-rate ${h1} vs untrained ${h0}`);
    assert.ok(h1 > uniform + 0.2, `trained hit-rate ${h1} vs uniform ${uniform}`);
    const saved = JSON.parse(readFileSync(join(d, 'out', 'config.json'), 'utf8'));
    assert.equal(saved.model_type, 'tspo_agent');
    assert.equal(saved.frame_encoder, join(d, 'enc'));
    const results = JSON.parse(readFileSync(join(d, 'out', 'train_results.json'), 'utf8'));
    assert.equal(results.trainer, 'tspo');
    assert.equal(results.eval_hit_rate, h1);

    await selectCli(d, rows);

    // resume: 4 steps with a checkpoint at 2, then again from it; metrics and the agent match exactly
    const c = base(d, { output_dir: join(d, 'r'), max_steps: 4, save_steps: 2, learning_rate: 1e-2 });
    await train(c, quiet);
    const full = metrics(c.output_dir);
    const weights = readFileSync(join(c.output_dir, 'model.safetensors'));
    await train({ ...c, overwrite_output_dir: false, resume_from_checkpoint: true }, quiet);
    assert.deepEqual(metrics(c.output_dir), full);
    assert.ok(readFileSync(join(c.output_dir, 'model.safetensors')).equals(weights), 'the resumed agent differs');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** `pacer video select` with the trained agent: the frames the trainer's evaluation chooses, as text and JSON. */
async function selectCli(d, rows) {
  const cache = new FeatureCache(null);
  const { items, owned } = await featureItems(rows.slice(0, 3), join(d, 'enc'), cache);
  const { agent } = TemporalAgent.load(join(d, 'out'));
  const cli = (...a) =>
    spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'video', 'select', ...a], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  for (const [i, x] of items.entries()) {
    const args = ['--agent', join(d, 'out'), '--video', x.item.video, '--question', x.item.question, '--k', '4'];
    const r = cli(...args, '--json');
    assert.equal(r.status, 0, r.stderr);
    const sel = JSON.parse(r.stdout);
    assert.deepEqual(sel.indices, agentChoice(agent, x, 4, 'topk'), `item ${i}`);
    assert.equal(sel.fps, 1);
    assert.deepEqual(sel.timestamps, sel.indices); // 1 fps: frame i at i seconds
    assert.equal(sel.frames, x.item.needleMask.length);
    const bm = JSON.parse(cli(...args, '--mode', 'bin-max', '--json').stdout);
    // bin-max: one frame from each of the 4 bins around round(j (T-1)/3)
    const T = sel.frames;
    const props = [0, 1, 2, 3].map((j) => Math.round((j * (T - 1)) / 3));
    const bin = (t) => props.reduce((b, p, j) => (Math.abs(t - p) < Math.abs(t - props[b]) ? j : b), 0);
    assert.deepEqual(bm.indices.map(bin), [0, 1, 2, 3]);
    if (i === 0) {
      const text = cli(...args);
      assert.match(text.stdout, new RegExp(`^frames \\(4 of ${T}, topk\\): ${sel.indices.join(' ')}\n`));
    }
  }
  const bad = cli('--agent', join(d, 'out'), '--video', rows[0].video);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--question TEXT are required/);
  const notAgent = cli('--agent', d, '--video', rows[0].video, '--question', 'q');
  assert.notEqual(notAgent.status, 0);
  assert.match(notAgent.stderr, /is not an agent folder/);
  agent.dispose();
  cache.clear();
  for (const q of owned) q.dispose();
}

test('tspo settings and rows are checked, naming the key or the file, line and field', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-tspo-'));
  try {
    const cfg = (extra) => resolveConfig(base(d, extra), 'c.yaml', d);
    assert.throws(() => cfg({ answerer: 'oracel' }), /unknown answerer 'oracel' \(known: needle_oracle, event_oracle/);
    assert.throws(() => cfg({ tau_end: 0.5 }), /tau_end \(0.5\) must not exceed tau_start \(0.2\)/);
    assert.throws(() => cfg({ use_peft: true }), /'use_peft' does not apply to trainer 'tspo'/);
    assert.throws(
      () => cfg({ eval_dataset: null, eval_select: 'bin-max' }),
      /'eval_select' has no effect unless eval_dataset/,
    );
    assert.throws(() => makeAnswerer('needle_oracle', { min_frames: 0 }), /min_frames must be >= 1/);
    const file = join(d, 'bad.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ videos: ['v.npz'], prompt: 'Q?', answer: 'B' })}\n{"videos": ["v.npz"], "prompt": "Q?", "answer": "Z"}\n`,
    );
    assert.throws(
      () => readVideoQuestions(file),
      (e) => e.line === 2 && e.field === 'answer' && /bad\.jsonl:2: field 'answer'/.test(e.message),
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
