// Cue-R1's rewards (issue 13 item 5): hierarchical_label partial credit from a taxonomy file (values
// computed by hand from the taxonomy below), yes_no detection, the reward router keyed by a task
// column (each task's rows get only their own rewards), and reward_routes in GRPO configs — typed,
// validated, with a relative taxonomy resolved against the config's folder and a row whose task has
// no route refused at its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as R from '../dist/rewards/index.js';
import { resolveConfig, train } from '../dist/trainers/index.js';
import { modelFromConfig, savePretrained } from '../dist/models/pretrained.js';
import { writeTinyArithmeticModel } from '../dist/tasks/arithmetic.js';

const input = (completions, columns = {}) => ({ prompts: completions.map(() => 'q'), completions, columns });

// root → normal {walk, swim_by_day} | anomaly → absolute {crash, fire} | conditional {swim_at_night}
const TAX = {
  name: 'root',
  children: [
    { name: 'normal', children: [{ name: 'walk', description: 'a person walks' }, { name: 'swim_by_day' }] },
    {
      name: 'anomaly',
      children: [
        { name: 'absolute', children: [{ name: 'crash', aliases: ['car crash'] }, { name: 'fire' }] },
        { name: 'conditional', children: [{ name: 'swim_at_night' }] },
      ],
    },
  ],
};

function taxFile(json = TAX) {
  const d = mkdtempSync(join(tmpdir(), 'pacer-tax-'));
  const f = join(d, 'taxonomy.json');
  writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json));
  return { d, f };
}

test('hierarchical_label: 1 exact, 0.5 right type, 0.25 only normal-vs-anomaly, 0 otherwise', async () => {
  const { d, f } = taxFile();
  try {
    const r = R.hierarchicalLabelReward({ taxonomy: f });
    // reference crash = anomaly/absolute/crash
    const texts = ['crash', '<answer>Car Crash.</answer>', 'fire', 'swim_at_night', 'walk', 'banana', 'anomaly'];
    const got = await r(input(texts, { class: texts.map(() => 'crash') }));
    // shared leading levels: fire 2 (anomaly, absolute), swim_at_night 1, walk 0, 'anomaly' 1
    assert.deepEqual(got, [1, 1, 0.5, 0.25, 0, 0, 0.25]);
    // normal classes sit at depth 2: another normal class shares 1 level; no reference → null
    assert.deepEqual(await r(input(['swim by day', 'crash', 'walk'], { class: ['walk', 'walk', null] })), [
      0.25,
      0,
      null,
    ]);
    // multiple choice: the letter picks an option, matched to a node by name or description
    const options = ['a person walks', 'fire', 'crash'];
    assert.deepEqual(
      await r(
        input(['A', 'C.', '(B)', '<answer>C</answer>', 'D'], {
          class: Array(5).fill('crash'),
          option_classes: Array(5).fill(options),
        }),
      ),
      [0, 1, 0.5, 1, 0],
    );
    // options: exact 2, credits 0.1;0.3; a reference column holding the path; a single credit repeats
    const r2 = R.hierarchicalLabelReward({ taxonomy: f, column: 'label', exact: 2, credits: [0.1, 0.3] });
    const label = Array(3).fill(['anomaly', 'absolute', 'crash']);
    assert.deepEqual(await r2(input(['crash', 'fire', 'swim_at_night'], { label })), [2, 0.3, 0.1]);
    const r3 = R.hierarchicalLabelReward({ taxonomy: f, credits: [0.4] });
    assert.deepEqual(await r3(input(['fire', 'swim_at_night'], { class: ['crash', 'crash'] })), [0.4, 0.4]);
    // credits=0: the flat 0/1 reward of the study's flat arm
    const flat = R.hierarchicalLabelReward({ taxonomy: f, credits: R.parseCredits('0') });
    assert.deepEqual(
      await flat(input(['crash', 'fire', 'swim_at_night'], { class: Array(3).fill('crash') })),
      [1, 0, 0],
    );
    // through the registry, as a config names it
    const [named] = R.rewardsFromSpec(`hierarchical_label:taxonomy=${f}:credits=0.2;0.6`);
    assert.deepEqual(await named.fn(input(['fire', 'walk'], { class: ['crash', 'crash'] })), [0.6, 0]);
    assert.throws(() => R.rewardOptions('hierarchical_label', { taxonomy: f, credits: '0.2;x' }), /credits/);
    assert.throws(() => R.rewardOptions('hierarchical_label', {}), /taxonomy/);
    // a reference that is not a node is an error naming it and the file
    await assert.rejects(
      async () => r(input(['crash'], { class: ['boat'] })),
      /'boat' is not a node of taxonomy .*taxonomy\.json/,
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('hierarchical_label: a bad taxonomy file is an error naming the file and the node', () => {
  const bad = (json, re) => {
    const { d, f } = taxFile(json);
    try {
      assert.throws(
        () => R.hierarchicalLabelReward({ taxonomy: f }),
        (e) => {
          assert.match(e.message, re);
          assert.ok(e.message.includes(f), e.message);
          return true;
        },
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  bad('{"name": "root", "children": [', /not valid JSON/);
  bad(
    { name: 'root', children: [{ name: 'a' }, { children: [] }] },
    /root\.children\[1\]: "name" must be a non-empty string/,
  );
  bad({ name: 'root', children: [{ name: 'a', children: [{ name: 'x' }] }, { name: 'x' }] }, /'x' is used twice/);
  bad({ name: 'root', children: { name: 'a' } }, /root: "children" must be a list/);
  bad({ name: 'root', children: [{ name: 'a', aliases: 'b' }] }, /root\.children\[0\]: "aliases" must be a list/);
  bad({ name: 'root' }, /the root has no children/);
  assert.throws(
    () => R.hierarchicalLabelReward({ taxonomy: '/nonexistent/tax.json' }),
    /cannot read taxonomy \/nonexistent\/tax\.json/,
  );
});

test('yes_no: 0/1 detection against yes/no or a boolean', async () => {
  const r = R.yesNoReward();
  const got = await r(
    input(['Yes, a crash.', '<answer>no</answer>', 'maybe', 'NO', 'yes'], {
      solution: ['yes', 'no', 'yes', true, false],
    }),
  );
  assert.deepEqual(got, [1, 1, 0, 0, 0]);
  assert.throws(
    () => r(input(['yes'], { solution: ['perhaps'] })),
    /sample 0's 'solution' must be yes, no or a boolean/,
  );
});

test('the reward router gives each task its own rewards and only its own rows', async () => {
  const seen = {};
  const spy = (name, fn) => async (inp) => {
    seen[name] = inp.completions.slice();
    return fn(inp);
  };
  const routes = R.routeRewards({
    recognition: [{ name: 'mc', fn: spy('mc', R.multipleChoiceReward()), weight: 1 }],
    detection: [
      { name: 'yes_no', fn: spy('yn', R.yesNoReward()), weight: 1 },
      { name: 'format', fn: (i) => i.completions.map(() => 1), weight: 0.5 },
    ],
  });
  assert.deepEqual(
    routes.map((r) => r.name),
    ['recognition/mc', 'detection/yes_no', 'detection/format'],
  );
  const inp = input(['B', 'yes', 'A', 'no'], {
    task: ['recognition', 'detection', 'recognition', 'detection'],
    answer: ['B', null, 'C', null],
    solution: [null, 'yes', null, 'yes'],
  });
  const rep = await R.runRewards(routes, inp);
  assert.deepEqual(seen.mc, ['B', 'A']);
  assert.deepEqual(seen.yn, ['yes', 'no']);
  assert.deepEqual(rep.perReward['recognition/mc'], [1, null, 0, null]);
  assert.deepEqual(rep.perReward['detection/yes_no'], [null, 1, null, 0]);
  // recognition rows: mc only; detection rows: yes_no + 0.5 × format's 1
  assert.deepEqual(rep.rewards, [1, 1.5, 0, 0.5]);
  assert.equal(rep.metrics['rewards/recognition/mc/mean'], 0.5);
  assert.equal(rep.metrics['rewards/detection/yes_no/mean'], 0.5);
  // a task with no route is reported naming the task and the routes
  const bad = await R.runRewards(routes.slice(0, 2), input(['B'], { task: ['cue'], answer: ['B'] }));
  assert.match(
    bad.errors[0],
    /'task' column has "cue", which names no reward route \(routes: recognition, detection\)/,
  );
});

test('reward_routes in a GRPO config: forms, weights, path resolution, validation; a run logs per-task rewards', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-routes-'));
  try {
    const m = join(d, 'model');
    const config = writeTinyArithmeticModel(m, { hidden: 32, layers: 1, heads: 2 });
    savePretrained({ model: modelFromConfig(config), config, modelType: 'llama' }, m);
    writeFileSync(join(d, 'taxonomy.json'), JSON.stringify(TAX));
    const rows = [
      { prompt: '1+2=', answer: '3', task: 'sum', class: 'crash' },
      { prompt: '2+2=', answer: '4', task: 'label', class: 'fire' },
      { prompt: '3+1=', answer: '4', task: 'sum', class: 'walk' },
      { prompt: '1+1=', answer: '2', task: 'label', class: 'walk' },
    ];
    writeFileSync(join(d, 'p.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const base = {
      trainer: 'grpo',
      model_name_or_path: m,
      train_dataset: 'p.jsonl',
      output_dir: join(d, 'out'),
      per_device_train_batch_size: 8,
      num_generations: 4,
      max_completion_length: 3,
      max_steps: 2,
      logging_steps: 1,
      save_steps: 100,
      threads: 1,
      report: false,
    };
    const routes = {
      sum: ['accuracy'],
      label: { 'hierarchical_label:taxonomy=taxonomy.json': 2, 'length:budget=2': 1 },
    };
    const c = resolveConfig({ ...base, reward_routes: routes }, 'cfg.yaml', d);
    assert.deepEqual(c.reward_funcs, []);
    assert.deepEqual(c.reward_routes.sum, { accuracy: 1 });
    assert.deepEqual(c.reward_routes.label, {
      [`hierarchical_label:taxonomy=${join(d, 'taxonomy.json')}`]: 2,
      'length:budget=2': 1,
    });
    assert.equal(c.reward_task_column, 'task');
    await train(c, { progress: false, log: () => {} });
    const ms = readFileSync(join(d, 'out', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const k of ['rewards/sum/accuracy/mean', 'rewards/label/hierarchical_label/mean', 'rewards/label/length/mean'])
      assert.ok(
        ms.some((x) => k in x),
        k,
      );
    const bad = (extra, re) => assert.throws(() => resolveConfig({ ...base, ...extra }, 'cfg.yaml', d), re);
    bad({}, /'reward_funcs' must name at least one reward/);
    bad({ reward_routes: {} }, /'reward_routes' must be a non-empty mapping/);
    bad({ reward_routes: { sum: [] } }, /task 'sum' must map to a reward/);
    bad({ reward_routes: { sum: { accuracy: 'x' } } }, /task 'sum' must map to a reward/);
    bad({ reward_routes: { sum: ['acuracy'] } }, /unknown reward 'acuracy'/);
    bad({ reward_funcs: ['accuracy'], reward_task_column: 'kind' }, /'reward_task_column'.*reward_routes/);
    // a bad taxonomy stops the config, naming the route, the file and the node
    writeFileSync(join(d, 'bad.json'), JSON.stringify({ name: 'root', children: [{ name: 'a' }, { name: 'a' }] }));
    bad(
      { reward_routes: { label: ['hierarchical_label:taxonomy=bad.json'] } },
      /'reward_routes\.label': taxonomy .*bad\.json: the name 'a' is used twice/,
    );
    bad(
      { reward_funcs: ['hierarchical_label:taxonomy=none.json'] },
      /'reward_funcs': cannot read taxonomy .*none\.json/,
    );
    // a row whose task names no route: refused at its line
    writeFileSync(
      join(d, 'q.jsonl'),
      [...rows, { ...rows[0], task: 'cue' }].map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    const c2 = resolveConfig({ ...base, train_dataset: 'q.jsonl', reward_routes: routes }, 'cfg.yaml', d);
    await assert.rejects(train(c2, { progress: false, log: () => {} }), /q\.jsonl:5: the 'task' column has "cue"/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test("the anomaly world's five tasks through routed rewards: reference answers earn 1, the twin's letter 0", async () => {
  const V = await import('../dist/video/index.js');
  const w = V.worlds.WORLDS.anomaly;
  const opts = { width: 56, height: 56, fps: w.fps, knobs: V.worlds.parseKnobs(w, {}) };
  const rows = Array.from({ length: 6 }, (_, i) => w.generate(i, 5, opts).rows).flat();
  const d = mkdtempSync(join(tmpdir(), 'pacer-cue-'));
  try {
    const tax = join(d, 'taxonomy.json');
    writeFileSync(tax, w.files(opts)['taxonomy.json']);
    const label = `hierarchical_label:taxonomy=${tax}`;
    const routes = { recognition: label, anticipation: label, grounding: 'temporal_iou', detection: 'yes_no' };
    const rewards = R.routeRewards({
      ...Object.fromEntries(Object.entries(routes).map(([t, s]) => [t, R.rewardsFromSpec(s)])),
      cue: R.rewardsFromSpec('multiple_choice'),
    });
    const columns = {};
    for (const k of ['task', 'class', 'option_classes', 'segment', 'solution', 'answer'])
      columns[k] = rows.map((r) => r[k] ?? null);
    const reply = rows.map((r) => r.completion[0].content[0].text);
    const right = await R.runRewards(rewards, { prompts: rows.map(() => 'q'), completions: reply, columns });
    assert.deepEqual(right.errors, []);
    assert.deepEqual(
      right.rewards,
      rows.map(() => 1),
    );
    assert.deepEqual(
      new Set(rows.map((r) => r.task)),
      new Set(['recognition', 'detection', 'grounding', 'anticipation', 'cue']),
    );
    // the twin's letter on multiple-choice rows (a context error: anomaly vs normal) earns 0
    const twin = rows.map((r, i) => r.twin_answer ?? reply[i]);
    const wrong = await R.runRewards(rewards, { prompts: rows.map(() => 'q'), completions: twin, columns });
    assert.deepEqual(
      wrong.rewards,
      rows.map((r) => (r.twin_answer ? 0 : 1)),
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('Cue study scores: per-task accuracy and mIoU, their average, the context-error rate (by hand)', async () => {
  const { scoreCue } = await import('../dist/eval/index.js');
  const opts = ['w', 'x', 'y', 'z'];
  const rows = [
    { id: 'r1', task: 'recognition', answer: 'A', twin_answer: 'B', options: opts },
    { id: 'r2', task: 'recognition', answer: 'C', twin_answer: 'D', options: opts },
    { id: 'r3', task: 'recognition', answer: 'B', twin_answer: 'A', options: opts },
    { id: 'r4', task: 'recognition', answer: 'D', twin_answer: 'C', options: opts },
    { id: 'c1', task: 'cue', answer: 'A', twin_answer: 'C', options: opts },
    { id: 'c2', task: 'cue', answer: 'B', twin_answer: 'A', options: opts },
    { id: 'd1', task: 'detection', solution: 'yes' },
    { id: 'd2', task: 'detection', solution: 'no' },
    { id: 'g1', task: 'grounding', segment: [2, 6] },
    { id: 'g2', task: 'grounding', segment: [0, 4] },
  ];
  const preds = new Map(
    Object.entries({
      r1: 'A', // right
      r2: 'D.', // the twin: context error
      r3: '(A)', // the twin
      r4: 'B', // wrong, not the twin
      c1: '<answer>A</answer>', // right
      c2: 'E', // no such option: wrong
      d1: 'Yes.',
      d2: 'yes',
      g1: '<answer>[4, 8]</answer>', // tIoU 2/6
    }),
  );
  const s = scoreCue(rows, preds);
  // recognition 1/4, cue 1/2, detection 1/2, grounding (1/3 + 0)/2
  assert.equal(s.tasks.recognition, 25);
  assert.equal(s.tasks.cue, 50);
  assert.equal(s.tasks.detection, 50);
  assert.ok(Math.abs(s.tasks.grounding - 100 / 6) < 1e-9);
  assert.ok(Math.abs(s.average - (25 + 50 + 50 + 100 / 6) / 4) < 1e-9);
  // twin picks: r2, r3 of 6 multiple-choice rows
  assert.ok(Math.abs(s.context_error_rate - 100 / 3) < 1e-9);
  assert.deepEqual(s.context_errors, { recognition: 50, cue: 0 });
  assert.equal(s.missing, 1);
  assert.throws(() => scoreCue([{ id: 'x', task: 'dance' }], new Map([['x', 'A']])), /row x has task 'dance'/);
});
