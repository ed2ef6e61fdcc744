// `pacer eval grounding | mcq | vinoground` end to end: ground truth in each accepted format,
// free-text predictions, the printed metrics (hand-computed), the per-item file, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 60_000 });
const jsonl = (rows) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-eval-cli-'));
  try {
    return fn(dir, (name, text) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('eval grounding: --json prints exactly the six figures; --out has one line per query', () =>
  withDir((dir, put) => {
    const gt = put(
      'gt.jsonl',
      jsonl([
        { id: 'a', segment: [0, 10], duration: 12 }, // "<answer>2 7</answer>" → 5/10 = 0.5
        { id: 'b', segment: [4, 8], duration: 12 }, // "8 to 2" → [2,8]: 4/6
        { id: 'c', segment: [1, 3], duration: 12 }, // "dunno" → unparsed
        { id: 'd', segment: [0, 5], duration: 12 }, // missing
      ]),
    );
    const pred = put(
      'pred.jsonl',
      jsonl([
        { id: 'b', answer: 'from 8 to 2 s' },
        { id: 'a', answer: '<think>maybe 0 1</think><answer>2 7</answer>' },
        { id: 'c', answer: 'dunno' },
      ]),
    );
    const out = join(dir, 'items.jsonl');
    const r = pacer('eval', 'grounding', '--pred', pred, '--gt', gt, '--json', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(s), ['R@0.3', 'R@0.5', 'R@0.7', 'mIoU', 'n', 'unparsed']);
    assert.equal(s['R@0.3'], 50); // a, b of 4
    assert.equal(s['R@0.5'], 50); // a (tie at 0.5), b (0.667)
    assert.equal(s['R@0.7'], 0);
    assert.ok(Math.abs(s.mIoU - ((0.5 + 4 / 6) / 4) * 100) < 1e-9);
    assert.deepEqual([s.n, s.unparsed], [4, 2]);
    const items = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      items.map((it) => [it.id, it.prediction, it.missing]),
      [
        ['a', [2, 7], false],
        ['b', [8, 2], false],
        ['c', null, false],
        ['d', null, true],
      ],
    );
    assert.deepEqual(readdirSync(dir).sort(), ['gt.jsonl', 'items.jsonl', 'pred.jsonl'], 'no temp file left');
    const text = pacer('eval', 'grounding', '--pred', pred, '--gt', gt);
    assert.match(text.stdout, /R@1 IoU=0\.5 {2}50\.00/);
  }));

test('eval grounding reads Charades-STA and ActivityNet ground truth (auto-detected or --format)', () =>
  withDir((_, put) => {
    const cha = put(
      'charades_sta_test.txt',
      'AO8RW 0.0 6.9##a person puts a book away.\nAO8RW 10 20##a person sits.\n',
    );
    const pred = put(
      'p.jsonl',
      jsonl([
        { id: 'AO8RW_0', answer: '0 6.9' },
        { id: 'AO8RW_1', answer: '15 25' },
      ]),
    );
    const r = pacer('eval', 'grounding', '--pred', pred, '--gt', cha, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      'R@0.3': 100,
      'R@0.5': 50,
      'R@0.7': 50,
      mIoU: ((1 + 5 / 15) / 2) * 100,
      n: 2,
      unparsed: 0,
    });
    const anet = put(
      'val_2.json',
      JSON.stringify({
        v_x: {
          duration: 30,
          timestamps: [
            [0, 6.9],
            [10, 20],
          ],
          sentences: ['a', 'b'],
        },
      }),
    );
    const p2 = put(
      'p2.jsonl',
      jsonl([
        { id: 'v_x_0', answer: '0 6.9' },
        { id: 'v_x_1', answer: '15 25' },
      ]),
    );
    const a = pacer('eval', 'grounding', '--pred', p2, '--gt', anet, '--format', 'activitynet', '--json');
    assert.equal(a.status, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout)['R@0.5'], 50);
    assert.equal(pacer('eval', 'grounding', '--pred', p2, '--gt', anet, '--format', 'charades').status, 1);
    assert.equal(pacer('eval', 'grounding', '--pred', p2, '--gt', anet, '--format', 'csv').status, 2);
  }));

test('eval grounding: bad input exits non-zero naming file:line, and writes nothing', () =>
  withDir((dir, put) => {
    const gt = put(
      'gt.jsonl',
      jsonl([
        { id: 'a', segment: [0, 1] },
        { id: 'a', segment: [1, 2] },
      ]),
    );
    const pred = put('p.jsonl', jsonl([{ id: 'a', answer: '0 1' }]));
    const out = join(dir, 'out.jsonl');
    const r = pacer('eval', 'grounding', '--pred', pred, '--gt', gt, '--out', out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /gt\.jsonl:2: id 'a' repeats the id of .*gt\.jsonl:1/);
    const gt2 = put('gt2.jsonl', jsonl([{ id: 'a', segment: [0, 1] }]));
    const p2 = put(
      'p2.jsonl',
      jsonl([
        { id: 'a', answer: '0 1' },
        { id: 'zz', answer: '0 1' },
        { id: 'a', answer: '2 3' },
      ]),
    );
    assert.match(pacer('eval', 'grounding', '--pred', p2, '--gt', gt2).stderr, /p2\.jsonl:3: id 'a' repeats/);
    const p3 = put('p3.jsonl', jsonl([{ id: 'zz', answer: '0 1' }]));
    assert.match(
      pacer('eval', 'grounding', '--pred', p3, '--gt', gt2).stderr,
      /p3\.jsonl:1: id 'zz' is not in the ground truth/,
    );
    assert.ok(!readdirSync(dir).includes('out.jsonl'));
    const u = pacer('eval', 'grounding', '--gt', gt2);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /needs --pred/);
  }));

test('eval mcq: TempCompass question and prediction files, and pacer rows', () =>
  withDir((dir, put) => {
    const q = {
      1001: {
        action: [
          { question: 'What is he doing?\nA. running\nB. dunking\nC. passing', answer: 'B. dunking' },
          { question: 'Which action?\nA. dunking\nB. running', answer: 'A. dunking' },
        ],
        speed: [{ question: 'What is the speed?\nA. slow\nB. normal\nC. fast', answer: 'C. fast' }],
      },
    };
    const gt = put('multi-choice.json', JSON.stringify(q, null, 4));
    const pred = structuredClone(q);
    pred[1001].action[0].prediction = 'B. dunking'; // right
    pred[1001].action[1].prediction = 'B'; // wrong
    pred[1001].speed[0].prediction = 'It is fast.'; // unparsed
    const p = put('pred.json', JSON.stringify(pred));
    const out = join(dir, 'items.jsonl');
    const r = pacer('eval', 'mcq', '--pred', p, '--gt', gt, '--json', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.n, s.correct, s.unparsed], [3, 1, 1]);
    assert.ok(Math.abs(s.accuracy - 100 / 3) < 1e-9);
    assert.deepEqual(s.per_dimension.action, { accuracy: 50, n: 2, correct: 1, unparsed: 0 });
    assert.deepEqual(s.per_dimension.speed, { accuracy: 0, n: 1, correct: 0, unparsed: 1 });
    assert.equal(s.macro_average, 25); // (50 + 0) / 2
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 3);
    const rows = put('gt.jsonl', jsonl([{ id: 'x', options: ['yes', 'no'], answer: 'B', format: 'yes_no' }]));
    const t = pacer(
      'eval',
      'mcq',
      '--pred',
      put('p.jsonl', jsonl([{ id: 'x', answer: 'No, it is not.' }])),
      '--gt',
      rows,
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /accuracy +100\.00/);
  }));

test('eval vinoground: question rows and score rows; bad predictions are named', () =>
  withDir((_, put) => {
    const gt = put(
      'gt.jsonl',
      jsonl(
        ['1', '2'].flatMap((p) =>
          ['pos', 'neg'].map((v) => ({
            id: `${p}_${v}`,
            pair_id: p,
            variant: v,
            caption: `${p} ${v}`,
            videos: [`${p}_${v}.mp4`],
          })),
        ),
      ),
    );
    const preds = [
      { pair_id: '1', task: 'text', variant: 'pos', answer: 'A' },
      { pair_id: '1', task: 'text', variant: 'neg', answer: 'B' },
      { pair_id: '1', task: 'video', variant: 'pos', answer: 'B' }, // wrong
      { pair_id: '1', task: 'video', variant: 'neg', answer: 'B' },
      { pair_id: '2', scores: { pos_pos: 3, pos_neg: 1, neg_pos: 1, neg_neg: 2 } }, // all right
    ];
    const r = pacer('eval', 'vinoground', '--pred', put('p.jsonl', jsonl(preds)), '--gt', gt, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { text: 100, video: 50, group: 50, n: 2, unparsed: 0 });
    const dup = put('dup.jsonl', jsonl([...preds, { pair_id: '2', task: 'text', variant: 'pos', answer: 'A' }]));
    assert.match(
      pacer('eval', 'vinoground', '--pred', dup, '--gt', gt).stderr,
      /dup\.jsonl:6: pair '2' is already predicted at .*dup\.jsonl:5/,
    );
    const bad = put('bad.jsonl', jsonl([{ pair_id: '1', task: 'both', variant: 'pos', answer: 'A' }]));
    assert.match(
      pacer('eval', 'vinoground', '--pred', bad, '--gt', gt).stderr,
      /bad\.jsonl:1: field 'task' must be 'text' or 'video'/,
    );
    const h = pacer('eval', 'vinoground', '--help');
    assert.match(h.stdout, /"order": \["neg", "pos"\]/);
  }));
