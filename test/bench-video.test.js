// pacer bench dpo --video and pacer bench grpo --video at a tiny size (4 frames, a few pairs / prompts):
// the commands run through `pacer train`, report their figures in the benchmarks' JSON shape, and — where
// python3-torch is installed — the PyTorch peers agree with pacer's numbers (the agreement check each
// benchmark runs before it compares times). No time is judged here: timings on a shared machine are not
// test material. References: a DPO run starts at ln 2 (policy = reference); 4 frames of 128² resized to
// 112² are 2 temporal × 8 × 8 patches, 2·8·8 / 2² = 32 video tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const hasTorch = ['/usr/bin/python3', 'python3'].some(
  (py) => spawnSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0,
);
const peer = hasTorch ? ['--vs-pytorch'] : [];
const last = (r) => JSON.parse(r.stdout.trim().split('\n').pop());

test('bench dpo --video: one epoch on video pairs through pacer train; the PyTorch loop agrees first', () => {
  const args = ['--pairs', '4', '--batch', '2', '--frames', '4', '--threads', '1', '--json'];
  const r = pacer('bench', 'dpo', '--video', ...args, ...peer);
  assert.equal(r.status, 0, r.stderr);
  const j = last(r);
  assert.equal(j.bench, 'dpo');
  assert.equal(j.video, true);
  assert.equal(j.steps, 2);
  assert.equal(j.video_tokens, 32);
  assert.ok(Math.abs(j.first_loss - Math.log(2)) < 1e-6, `DPO starts at ln 2, got ${j.first_loss}`);
  assert.notEqual(j.last_loss, j.first_loss, 'the first AdamW step changed the policy');
  assert.deepEqual(
    j.pacer_configs.map((c) => c.threads),
    [1],
  );
  assert.ok(j.seconds > 0 && j.pairs_per_s > 0);
  for (const k of ['prepare_s', 'reference_s', 'steps_s', 'other_s'])
    assert.ok(j.pacer_split[k] >= 0 && Number.isFinite(j.pacer_split[k]), k);
  assert.ok(j.pacer_split.steps_s > 0 && j.pacer_split.reference_s > 0);
  if (!hasTorch) return;
  assert.equal(j.pytorch_error, undefined, j.pytorch_error);
  assert.equal(j.check.agrees, true, JSON.stringify(j.check));
  assert.ok(j.check.max_rel_diff <= 1e-4);
  for (const k of ['first_loss', 'first_logps_chosen', 'first_logps_rejected', 'second_loss'])
    assert.ok(Number.isFinite(j.check[k].pacer) && j.check[k].rel_diff <= 1e-4, k);
  // a sum over ~30 completion tokens of a random 2048-word model: about 30 · ln 2048 ≈ −230
  assert.ok(j.check.first_logps_chosen.pytorch < -50, `${j.check.first_logps_chosen.pytorch}`);
  assert.equal(j.pytorch.configs.length, 1);
  assert.ok(j.ratio > 0 && j.ratio === j.ratio_best_vs_best && j.ratio_target === 0.8);
  assert.ok(['process_s', 'policy_s', 'reference_s'].every((k) => j.pytorch.best.split[k] >= 0));
});

test('bench grpo --video: a GRPO step on video prompts split in three; the peer scores pacer’s completions alike', () => {
  const args = ['--steps', '1', '--prompts', '2', '--generations', '2', '--new-tokens', '4', '--frames', '4'];
  const r = pacer('bench', 'grpo', '--video', ...args, '--threads', '1', '--json', ...peer);
  assert.equal(r.status, 0, r.stderr);
  const j = last(r);
  assert.equal(j.bench, 'grpo');
  assert.equal(j.video, true);
  assert.equal(j.video_tokens, 32);
  assert.ok(j.prompt_tokens > j.video_tokens + 2);
  const sides = hasTorch ? [j.pacer, j.pytorch, j.pytorch.best] : [j.pacer];
  for (const side of sides) {
    for (const k of ['generation_s', 'training_s']) assert.ok(side[k] > 0, `${k} = ${side[k]}`);
    assert.ok(side.scoring_s >= 0 && Number.isFinite(side.scoring_s));
    assert.ok(Math.abs(side.step_s - side.generation_s - side.scoring_s - side.training_s) < 1e-3);
    assert.ok(side.completion_mean_length > 0 && side.completion_mean_length <= 4);
  }
  assert.equal(j.pacer.threads, 1);
  if (!hasTorch) return;
  assert.equal(j.pytorch_error, undefined, j.pytorch_error);
  // 2 prompts × 2 completions cut to 4, 3, 2 and 4 tokens (fewer where EOS came first)
  assert.ok(j.check.tokens >= 4 && j.check.tokens <= 13, `${j.check.tokens} tokens`);
  assert.equal(j.check.agrees, true, JSON.stringify(j.check));
  assert.ok(j.check.training_path_max_rel_diff <= 1e-4 && j.check.sampling_path_max_rel_diff <= 1e-4);
  for (const k of ['generation', 'training', 'step']) assert.ok(j.time_ratio_vs_pytorch[k] > 0, k);
  assert.ok(j.ratio > 0 && j.ratio === j.ratio_best_vs_best && j.ratio_target === 0.8);
});

test('bench dpo / grpo: options of the other mode are usage errors naming the option', () => {
  const a = pacer('bench', 'grpo', '--video', '--hidden', '64');
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--hidden applies to the text model, not --video/);
  const b = pacer('bench', 'dpo', '--frames', '4');
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--frames needs --video/);
  assert.equal(pacer('bench', 'dpo', '--video', '--frames', '1').status, 2, 'at least 2 frames');
});
