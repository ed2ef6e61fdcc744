// `pacer recipe videotg --smoke` and `pacer recipe cue --smoke` through the CLI (issue 13): the summary's
// shape (arms × metrics with mean/std/values), numbers in range, and checks that fail when a stage did
// nothing: arm sizes follow the data (all rows; round(0.34 · kept) for the subsets), the masking
// curriculum blanked frames only in the masked arms, GRPO arms generated tokens and SFT none, the trained
// weights differ from the base's, the filter's counts agree with the world's truth read here, and the
// held-out row count is the anomaly world's (an anomaly with 5 task rows, its twin 4 — grounding asks
// about anomalies only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = mkdtempSync(join(tmpdir(), 'pacer-vr-cache-'));
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PACER_CACHE: cache },
  });
const rows = (f) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const same = (a, b) => Buffer.compare(readFileSync(a), readFileSync(b)) === 0;

test.after(() => rmSync(cache, { recursive: true, force: true }));

function checkShape(s, arms, metrics) {
  assert.deepEqual(s.seeds, [0]);
  for (const arm of arms)
    for (const k of metrics) {
      const m = s.arms[arm][k];
      assert.ok(m, `${arm}.${k}`);
      assert.equal(m.values.length, 1);
      assert.equal(m.std, 0);
    }
}

test('recipe videotg --smoke: five arms and the base, the filter, the subset and the masking curriculum', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vr-'));
  try {
    const out = join(d, 'study');
    const r = pacer('recipe', 'videotg', '--smoke', '--out', out, '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'report.html')));
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const arms = ['A', 'B', 'C', 'C_no_mask', 'C_no_filter'];
    assert.deepEqual(Object.keys(s.arms).sort(), ['A', 'B', 'C', 'C_no_filter', 'C_no_mask', 'base']);
    checkShape(s, ['base', ...arms], ['miou', 'r@0.3', 'r@0.5', 'r@0.7', 'hard_miou']);
    checkShape(s, arms, ['generated_tokens', 'trained_tokens', 'mask_frames', 'train_rows']);
    const mean = (arm, k) => s.arms[arm][k].mean;
    for (const arm of ['base', ...arms])
      for (const k of ['miou', 'r@0.3', 'r@0.5', 'r@0.7'])
        assert.ok(mean(arm, k) >= 0 && mean(arm, k) <= 100, `${arm}.${k} ${mean(arm, k)}`);
    // the world's truth, read here: which training rows are partially labelled
    const train = rows(join(out, 'seed-0', 'data', 'train', 'data.jsonl'));
    assert.equal(train.length, 6);
    const [f] = s.filter;
    assert.equal(f.truth, train.filter((x) => x.truth.partial).length);
    assert.equal(f.rows, 6);
    assert.equal(f.kept + f.flagged, 6);
    // arm sizes: all rows for A and B; round(0.34 · n) of the kept (C) or all rows (C_no_filter)
    assert.equal(mean('A', 'train_rows'), 6);
    assert.equal(mean('B', 'train_rows'), 6);
    assert.equal(mean('C', 'train_rows'), Math.max(1, Math.round(0.34 * f.kept)));
    assert.equal(mean('C_no_filter', 'train_rows'), 2);
    const cRows = rows(join(out, 'seed-0', 'data', 'C.jsonl'));
    assert.equal(cRows.length, mean('C', 'train_rows'));
    assert.ok(cRows.every((x) => typeof x.hard === 'boolean' && (x.difficulty === 'hard') === x.hard));
    // an untrained smoke base finds every row hard: the masked arms blanked frames, the others none
    assert.equal(s.hard_rows[0].train, 6);
    assert.ok(mean('C', 'mask_frames') > 0 && mean('C_no_filter', 'mask_frames') > 0);
    assert.equal(mean('C_no_mask', 'mask_frames'), 0);
    assert.equal(mean('A', 'mask_frames'), 0);
    // compute: GRPO generates (2 steps × 1 prompt × 2 completions, at most 20 tokens each), SFT does not
    for (const arm of ['A', 'C', 'C_no_mask', 'C_no_filter'])
      assert.ok(mean(arm, 'generated_tokens') >= 4 && mean(arm, 'generated_tokens') <= 80, arm);
    assert.equal(mean('B', 'generated_tokens'), 0);
    assert.ok(mean('B', 'trained_tokens') > 0);
    assert.ok(mean('A', 'zero_std_hard_early') >= 0 && mean('A', 'zero_std_hard_early') <= 1);
    // SFT moved the weights (GRPO on all-zero rewards may not: no advantage, no gradient)
    const vlm = JSON.parse(pacer('recipe', 'vlm-base', '--smoke', '--json').stdout).dir;
    assert.ok(!same(join(vlm, 'model', 'model.safetensors'), join(out, 'seed-0', 'B', 'model.safetensors')));
    // a second run reuses the study
    const again = pacer('recipe', 'videotg', '--smoke', '--out', out, '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).cached, true);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('recipe cue --smoke: sft, flat and hierarchical GRPO, task scores and context errors', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vr-'));
  try {
    const out = join(d, 'study');
    const r = pacer('recipe', 'cue', '--smoke', '--out', out, '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'report.html')));
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const tasks = ['recognition', 'detection', 'grounding', 'anticipation', 'cue'];
    assert.deepEqual(Object.keys(s.arms).sort(), ['base', 'grpo_flat', 'grpo_hier', 'sft']);
    checkShape(s, ['base', 'sft', 'grpo_flat', 'grpo_hier'], [...tasks, 'average', 'context_error_rate', 'held_rows']);
    for (const [arm, m] of Object.entries(s.arms)) {
      for (const k of [...tasks, 'average', 'context_error_rate'])
        assert.ok(m[k].mean >= 0 && m[k].mean <= 100, `${arm}.${k}`);
      // one held-out item: the anomaly's 5 task rows and its twin's 4
      assert.equal(m.held_rows.mean, 9);
    }
    assert.equal(s.arms.sft.generated_tokens.mean, 0);
    for (const arm of ['grpo_flat', 'grpo_hier']) {
      assert.ok(s.arms[arm].generated_tokens.mean >= 4, arm);
      assert.ok(s.arms[arm].trained_tokens.mean > s.arms.sft.trained_tokens.mean, arm);
      // every step's rewards came through a task route
      const ms = rows(join(out, 'seed-0', arm, 'metrics.jsonl'));
      assert.equal(ms.length, 2);
      assert.ok(
        ms.every((x) =>
          Object.keys(x).some((k) => /^rewards\/(recognition|detection|grounding|anticipation|cue)\//.test(k)),
        ),
      );
      const hier = ms.some((x) => Object.keys(x).some((k) => k.includes('hierarchical_label')));
      if (arm === 'grpo_flat') assert.ok(!hier, 'flat rewards only');
    }
    const vlm = JSON.parse(pacer('recipe', 'vlm-base', '--smoke', '--json').stdout).dir;
    assert.ok(!same(join(vlm, 'model', 'model.safetensors'), join(out, 'seed-0', 'sft', 'model.safetensors')));
    const grpo = rows(join(out, 'seed-0', 'data', 'grpo.jsonl'));
    assert.equal(grpo.length, 9);
    assert.ok(
      grpo.every((x) => Object.keys(x).length === 9),
      'every GRPO row has every reward column',
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('GRPO rollouts never sample a vision pad: the seed-1 smoke base samples one when it is not banned', () => {
  // (checked by hand: with the pad ban taken out of the online trainer, this run stops when it trains on
  // the rollouts: "the batch has 1 <|image_pad|> tokens but no images"; a sampled <|video_pad|> gives one
  // pad more than the video's embeddings)
  const d = mkdtempSync(join(tmpdir(), 'pacer-vr-'));
  try {
    const r = pacer('recipe', 'cue', '--smoke', '--seed', '1', '--out', join(d, 'cue'), '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(readFileSync(join(d, 'cue', 'summary.json'), 'utf8'));
    assert.deepEqual(s.seeds, [1]);
    assert.ok(s.arms.grpo_hier.generated_tokens.mean >= 4);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the curricula race: mIoU curve, target, first crossing, tokens there and the ratio (hand-made history)', async () => {
  const { raceMetrics, miouCurve } = await import('../dist/recipes/curricula.js');
  // the trainer logs a step's numbers and, at eval steps, a second record with eval_reward
  const hist = [
    { step: 1, 'tokens/generated': 100, 'tokens/trained': 900, frac_reward_zero_std: 0.5 },
    { step: 1, eval_reward: 0.2 },
    { step: 2, 'tokens/generated': 210, 'tokens/trained': 1800, frac_reward_zero_std: 0 },
    { step: 2, eval_reward: 0.35 },
    { step: 3, 'tokens/generated': 330, 'tokens/trained': 2700, frac_reward_zero_std: 0.25 },
    { step: 3, eval_reward: 0.3 },
  ];
  assert.deepEqual(miouCurve(hist), [
    [1, 20],
    [2, 35],
    [3, 30],
  ]);
  const m = raceMetrics(hist, 32, 2);
  assert.equal(m.final_miou, 32.5); // (35 + 30) / 2
  assert.equal(m.best_miou, 35);
  assert.deepEqual([m.reached, m.steps_to_target, m.tokens_to_target], [1, 2, 210]);
  assert.deepEqual([m.generated_tokens, m.trained_tokens, m.frac_reward_zero_std], [330, 2700, 0.25]);
  const never = raceMetrics(hist, 40, 2);
  assert.equal(never.reached, 0);
  assert.ok(Number.isNaN(never.steps_to_target) && Number.isNaN(never.tokens_to_target));
});

test('recipe curricula --smoke: six arms race on the same rows, each with its sampler, dynamic sampling on', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-vr-'));
  try {
    const out = join(d, 'study');
    const r = pacer('recipe', 'curricula', '--smoke', '--out', out, '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    // the race's curves: held-out mIoU against generated tokens and against steps
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.includes('>generated tokens</text>') && html.includes('>step</text>'));
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const arms = ['uniform', 'sec', 'dump', 'vcrl', 'balanced', 'mask'];
    assert.deepEqual(Object.keys(s.arms).sort(), ['base', ...arms].sort());
    checkShape(s, arms, ['final_miou', 'target', 'reached', 'tokens_to_target', 'tokens_ratio', 'generated_tokens']);
    const mean = (arm, k) => s.arms[arm][k].mean;
    // the rows' levels come from the base's answers; every training row has one
    const train = rows(join(out, 'seed-0', 'data', 'train.jsonl'));
    assert.equal(train.length, 6);
    assert.ok(train.every((x) => ['hard', 'medium', 'easy'].includes(x.level) && x.hard === (x.level === 'hard')));
    const { hard, medium, easy } = s.levels[0];
    assert.equal(hard + medium + easy, 6);
    assert.equal(hard, train.filter((x) => x.hard).length);
    // the target is the uniform arm's final mIoU; its own ratio is 1
    for (const arm of arms) assert.equal(mean(arm, 'target'), mean('uniform', 'final_miou'));
    assert.equal(mean('uniform', 'tokens_ratio'), 1);
    const log = (arm) => rows(join(out, 'seed-0', arm, 'metrics.jsonl'));
    const sampler = { sec: /^curriculum\/p\//, dump: /^curriculum\/ucb\//, vcrl: /bank_size/, balanced: /eligible/ };
    for (const arm of arms) {
      const ms = log(arm);
      // evaluated every step (eval_steps 1 in the smoke), dynamic sampling on
      assert.deepEqual(
        ms.filter((x) => 'eval_reward' in x).map((x) => x.step),
        [1, 2],
      );
      const steps = ms.filter((x) => 'tokens/generated' in x);
      assert.ok(steps.every((x) => 'dynamic_sampling/dropped_groups' in x));
      // 2 steps × 1 prompt × 2 completions × at most 4 tries × at most 16 tokens
      assert.ok(mean(arm, 'generated_tokens') >= 4 && mean(arm, 'generated_tokens') <= 256, arm);
      const keys = Object.keys(steps[0]);
      for (const [a, re] of Object.entries(sampler))
        assert.equal(
          keys.some((k) => re.test(k)),
          a === arm,
          arm,
        );
      assert.equal(
        steps.some((x) => x['mask/frames'] > 0),
        arm === 'mask' && hard > 0,
        arm,
      );
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
