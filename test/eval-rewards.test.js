// pacer eval rewards: RewardBench-style accuracy (strict: a tie is a miss), its section weighting, and
// the ECE of σ(r_chosen − r_rejected), against hand-worked numbers and a numpy re-implementation; then
// the command end to end on a small trained reward model, its scores checked against the model's own
// forward pass, and its agreement with a studio project's votes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from '../dist/eval/index.js';
import * as S from '../dist/studio/index.js';
import { Queue } from '../dist/studio/queue.js';
import { resolveConfig, train } from '../dist/trainers/index.js';
import { loadScalarHeadModel } from '../dist/models/heads.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { P, FIXTURES } from './helpers.js';
import { cleanup, tmpDir } from './studio-helpers.js';

const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const dirs = [];
after(() => dirs.forEach(cleanup));

test('accuracy is strict, per category, and RewardBench sections weight subsets by its example counts', () => {
  const pairs = [
    { rChosen: 2, rRejected: 1, category: 'alpacaeval-easy' },
    { rChosen: 1, rRejected: 1, category: 'alpacaeval-easy' }, // a tie: a miss
    { rChosen: 0, rRejected: 1, category: 'mt-bench-easy' },
    { rChosen: 3, rRejected: 1, category: 'math-prm' },
    { rChosen: 1, rRejected: 3, category: 'math-prm' },
    { rChosen: 5, rRejected: 1, category: 'hep-python' },
  ];
  const a = E.rewardAccuracy(pairs);
  close(a.accuracy, (100 * 3) / 6, 1e-12, 'overall');
  assert.deepEqual(a.per_category['alpacaeval-easy'], { accuracy: 50, n: 2 });
  // Chat: (50·100 + 0·28) / 128; Reasoning: (50·984 + 100·164) / 1148 (rewardbench EXAMPLE_COUNTS)
  close(a.sections.Chat, 5000 / 128, 1e-9, 'Chat');
  close(a.sections.Reasoning, (50 * 984 + 100 * 164) / 1148, 1e-9, 'Reasoning');
  assert.equal(a.sections.Safety, undefined);
  close(a.score, (5000 / 128 + (50 * 984 + 100 * 164) / 1148) / 2, 1e-9, 'score');
  assert.equal(E.rewardAccuracy([{ rChosen: 1, rRejected: 0, category: 'mine' }]).sections, null);
});

test('ECE of σ(r_c − r_r): hand-worked, and against numpy', () => {
  // d = ln 3 twice (p = .75, right), d = −ln 3 twice (confidence .75, wrong), d = ln 19 (p = .95, right):
  // bin (.7, .8]: 4 pairs, accuracy .5, confidence .75 → 4/5 · .25 = .2; bin (.9, 1]: 1/5 · .05 = .01
  const pairs = [
    ...Array(2).fill({ rChosen: Math.log(3), rRejected: 0 }),
    ...Array(2).fill({ rChosen: 0, rRejected: Math.log(3) }),
    { rChosen: Math.log(19), rRejected: 0 },
  ];
  const c = E.rewardCalibration(pairs);
  close(c.ece, 0.21, 1e-12, 'ECE');
  assert.equal(c.bins[7].n, 4);
  if (!hasPython) return;
  const r = [];
  let s = 7;
  for (let i = 0; i < 300; i++) {
    s = (s * 16807) % 2147483647;
    r.push({ rChosen: (s % 1000) / 250, rRejected: ((s >> 10) % 1000) / 300 });
  }
  const out = spawnSync(
    PY,
    [
      '-c',
      `
import json, sys, numpy as np
d = json.load(sys.stdin)
z = np.array([x['rChosen'] - x['rRejected'] for x in d])
p = 1 / (1 + np.exp(-z)); conf = np.maximum(p, 1 - p); ok = (p > 0.5).astype(float)
edges = np.linspace(0, 1, 11); ece = 0.0
for lo, hi in zip(edges[:-1], edges[1:]):
    m = (conf > lo) & (conf <= hi)
    if m.any(): ece += m.mean() * abs(ok[m].mean() - conf[m].mean())
print(ece)
`,
    ],
    { input: JSON.stringify(r), encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(out.status, 0, out.stderr);
  close(E.rewardCalibration(r).ece, Number(out.stdout), 1e-12, 'ECE vs numpy');
});

test('pacer eval rewards on a trained reward model, and its agreement with studio votes', async () => {
  const d = tmpDir('pacer-eval-rewards-');
  dirs.push(d);
  const rows = Array.from({ length: 12 }, (_, i) => {
    const [a, b] = [1 + (i % 9), 1 + ((i * 5) % 9)];
    return { prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}`, category: i % 2 ? 'odd' : 'even' };
  });
  const data = join(d, 'pairs.jsonl');
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n'));
  const cfg = resolveConfig(
    {
      trainer: 'reward',
      model_name_or_path: join(FIXTURES, 'models', 'llama'),
      train_dataset: data,
      output_dir: join(d, 'rm'),
      per_device_train_batch_size: 4,
      max_steps: 3,
      logging_steps: 1,
      threads: 1,
      learning_rate: 1e-3,
      report: false,
    },
    'test',
  );
  await train(cfg, { progress: false, log: () => {} });
  // a studio project on the same pairs, one person voting for 'chosen' except on the first two prompts
  const p = S.Project.create(d, 'votes', {});
  S.addGroups(
    p,
    rows.map((r) => ({
      prompt: r.prompt,
      candidates: [
        { kind: 'text', text: r.chosen },
        { kind: 'text', text: r.rejected },
      ],
      source: 't',
    })),
  );
  const q = new Queue(p);
  for (let v = q.next('a'); v; v = q.next('a')) {
    const [c0] = p.candidates(v.groupId);
    const wantChosen = v.groupId > 2;
    q.vote('a', { assignment: v.assignment, choice: (v.shown[0] === c0.id) === wantChosen ? 'A' : 'B' });
  }
  p.close();
  const items = join(d, 'items.jsonl');
  const r = spawnSync(
    process.execPath,
    [
      'bin/pacer.js',
      'eval',
      'rewards',
      '--model',
      cfg.output_dir,
      '--data',
      data,
      '--json',
      '--out',
      items,
      '--studio',
      join(d, 'projects', 'votes'),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  const per = readFileSync(items, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // scores = the model's own forward pass on prompt (with special tokens) + completion
  const rm = loadScalarHeadModel(cfg.output_dir);
  const tok = Tokenizer.fromPretrained(cfg.output_dir);
  const direct = (prompt, completion) =>
    P.scope(() =>
      P.noGrad(() =>
        rm
          .forward({
            ids: P.tensor([[...tok.encode(prompt, { addSpecialTokens: true }), ...tok.encode(completion)]], {
              dtype: 'int64',
            }),
          })
          .item(),
      ),
    );
  for (const k of [0, 5, 11]) {
    close(per[k].r_chosen, direct(rows[k].prompt, rows[k].chosen), 1e-4, `r_chosen ${k}`);
    close(per[k].r_rejected, direct(rows[k].prompt, rows[k].rejected), 1e-4, `r_rejected ${k}`);
  }
  const right = per.map((x) => x.r_chosen > x.r_rejected);
  close(m.accuracy, (100 * right.filter(Boolean).length) / 12, 1e-9, 'accuracy from the per-pair scores');
  close(m.per_category.odd.accuracy, (100 * right.filter((x, i) => x && i % 2).length) / 6, 1e-9, 'odd');
  assert.equal(m.sections, null);
  close(
    m.ece,
    E.rewardCalibration(per.map((x) => ({ rChosen: x.r_chosen, rRejected: x.r_rejected }))).ece,
    1e-12,
    'ECE',
  );
  // the studio votes: groups 1, 2 picked 'rejected'; the model agrees when its order matches the vote
  const agree = right.map((r, i) => (i < 2 ? !r : r));
  assert.equal(m.studio.votes.n, 12);
  close(m.studio.votes.accuracy, (100 * agree.filter(Boolean).length) / 12, 1e-9, 'agreement with the votes');
  const bad = spawnSync(
    process.execPath,
    ['bin/pacer.js', 'eval', 'rewards', '--model', cfg.output_dir, '--data', items],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot tell the dataset format|needs preference pairs/);
});
