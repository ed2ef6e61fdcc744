// Benchmark metrics (src/eval/): temporal IoU, R@1/mIoU, TempCompass-rule multiple choice with
// per-format / per-dimension / macro accuracy, and Vinoground text/video/group scores — each against
// hand-computed cases (the arithmetic is written next to the numbers) and, for grounding and
// Vinoground, against an independent Python re-implementation of the benchmarks' own scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as E from '../dist/eval/index.js';
import * as R from '../dist/rewards/index.js';

const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;
const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test('temporal IoU: overlap, containment, reversed, zero-length, disjoint, beyond the duration', () => {
  assert.equal(E.temporalIoU([2, 6], [4, 8]), 2 / 6); // ∩ [4,6] = 2, hull [2,8] = 6
  assert.equal(E.temporalIoU([6, 2], [4, 8]), 2 / 6, 'a reversed prediction is swapped');
  assert.equal(E.temporalIoU([2, 6], [8, 4]), 2 / 6, 'a reversed ground truth is swapped');
  assert.equal(E.temporalIoU([0, 10], [2, 4]), 2 / 10); // containment
  assert.equal(E.temporalIoU([1, 4], [1, 4]), 1);
  assert.equal(E.temporalIoU([0, 1], [2, 3]), 0, 'disjoint');
  assert.equal(E.temporalIoU([0, 2], [2, 4]), 0, 'touching at one instant');
  assert.equal(E.temporalIoU([5, 5], [4, 6]), 0, 'a zero-length prediction inside the truth');
  assert.equal(E.temporalIoU([3, 3], [3, 3]), 0, 'both the same instant: hull 0 gives 0, not NaN');
  // truth [20, 35] in a 30 s video, prediction [25, 45]: raw ∩ = 10, hull = 25 → 0.4
  // (clipping both to 30 s would give 5 / 10 = 0.5)
  assert.equal(E.temporalIoU([25, 45], [20, 35]), 0.4);
  assert.equal(E.temporalIoU([-5, 5], [0, 10]), 5 / 15, 'a negative predicted start is used as given');
});

test('segment parsing: first two numbers, inside <answer> when present', () => {
  assert.deepEqual(E.parseSegment('<think>maybe 1 or 2</think><answer>3.5 to 7</answer>'), [3.5, 7]);
  assert.deepEqual(E.parseSegment('The event happens from 12.5s to 20s, not at 30s.'), [12.5, 20]);
  assert.deepEqual(E.parseSegment('2.5-7.0 seconds'), [2.5, 7], 'a dash after a digit is a range, not a sign');
  assert.deepEqual(E.parseSegment('from -1 to 3'), [-1, 3]);
  assert.deepEqual(E.parseSegment('[10, 20]'), [10, 20]);
  assert.deepEqual(E.parseSegment('.5 and 3.'), [0.5, 3]);
  assert.deepEqual(E.parseSegment('<ANSWER> 8 2 </ANSWER>'), [8, 2], 'order is kept; the IoU swaps');
  assert.equal(E.parseSegment('no idea'), null);
  assert.equal(E.parseSegment('at 5 s'), null, 'one number is not a segment');
  assert.equal(E.parseSegment('<answer>none</answer> 1 2'), null, 'only the answer block is read');
});

test('the temporal_iou reward scores exactly as the benchmark metric does', async () => {
  const r = await R.temporalIoUReward()({
    prompts: ['q', 'q', 'q'],
    completions: ['<think>[0, 1]</think><answer>[2, 6]</answer>', 'from 6 to 2', 'none'],
    columns: {
      segment: [
        [4, 8],
        [4, 8],
        [0, 1],
      ],
    },
  });
  assert.deepEqual(r, [2 / 6, 2 / 6, 0]);
  assert.equal(R.temporalIoU, E.temporalIoU, 'one shared function');
  // with duration_column: an answer leaving the video scores 0 (a huge span would keep a small tIoU)
  const [named] = R.rewardsFromSpec('temporal_iou:duration_column=duration');
  const d = await named.fn({
    prompts: ['q', 'q', 'q', 'q'],
    completions: ['<answer>[2, 6]</answer>', '<answer>[6, 108]</answer>', '<answer>[-1, 5]</answer>', 'none'],
    columns: {
      segment: [
        [4, 8],
        [4, 8],
        [4, 8],
        [4, 8],
      ],
      duration: [10, 10, 10, 10],
    },
  });
  assert.deepEqual(d, [2 / 6, 0, 0, 0]); // [6, 108] alone: 2 / 104; [-1, 5]: 1 / 9
});

test('R@1 at 0.3/0.5/0.7 and mIoU: ties at the threshold count, unparsed and missing score 0', () => {
  const truth = [
    { id: 'a', segment: [0, 10] }, // answer 0 7 → 7/10 = 0.7 exactly (tie at 0.7)
    { id: 'b', segment: [0, 2] }, // answer 1 0 → reversed [0,1] → 1/2 = 0.5 exactly (tie at 0.5)
    { id: 'c', segment: [0, 10] }, // no numbers → unparsed, 0
    { id: 'd', segment: [0, 10] }, // no prediction → missing, 0
    { id: 'e', segment: [0, 10] }, // answer 0 3 → 0.3 exactly (tie at 0.3)
  ];
  const answers = new Map([
    ['a', '<answer>0 7</answer>'],
    ['b', 'from 1 to 0'],
    ['c', 'I cannot tell'],
    ['e', '0-3'],
  ]);
  const items = E.scoreGrounding(truth, answers);
  assert.deepEqual(
    items.map((it) => [it.iou, it.missing]),
    [
      [0.7, false],
      [0.5, false],
      [0, false],
      [0, true],
      [0.3, false],
    ],
  );
  const s = E.groundingSummary(items);
  assert.deepEqual(Object.keys(s), ['R@0.3', 'R@0.5', 'R@0.7', 'mIoU', 'n', 'unparsed']);
  assert.equal(s['R@0.3'], 60); // a, b, e of 5
  assert.equal(s['R@0.5'], 40); // a, b
  assert.equal(s['R@0.7'], 20); // a
  close(s.mIoU, 30, 'mIoU'); // (0.7 + 0.5 + 0.3) / 5 · 100
  assert.equal(s.n, 5);
  assert.equal(s.unparsed, 2);
  assert.throws(() => E.groundingSummary([]), /at least one/);
});

test('R@1 and mIoU agree with a Python transcription of TimeChat eval_tvg.py', { skip: !hasPython }, () => {
  let x = 12345;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 60;
  const truth = [];
  const answers = new Map();
  const preds = {};
  for (let i = 0; i < 200; i++) {
    const g = [rand(), rand()].sort((a, b) => a - b);
    truth.push({ id: `q${i}`, segment: g });
    if (i % 17 === 0) continue; // missing
    const p = i % 5 === 0 ? [g[1], g[0] + 1] : [rand(), rand()]; // some reversed, some near the truth
    answers.set(`q${i}`, `<answer>${p[0]} to ${p[1]}</answer>`);
    preds[`q${i}`] = p;
  }
  const s = E.groundingSummary(E.scoreGrounding(truth, answers));
  const py = `
import json, sys
d = json.load(sys.stdin)
def iou(A, B):  # TimeChat metrics/tvg/eval_tvg.py
    max0 = max((A[0]), (B[0])); min0 = min((A[0]), (B[0]))
    max1 = max((A[1]), (B[1])); min1 = min((A[1]), (B[1]))
    return max(min1 - max0, 0) / (max1 - min0)
ious = []
for q in d["truth"]:
    p = d["preds"].get(q["id"])
    ious.append(0.0 if p is None else iou(q["segment"], sorted(p)))
n = len(ious)
out = {"R@%s" % m: sum(v >= m for v in ious) * 100 / n for m in (0.3, 0.5, 0.7)}
out["mIoU"] = sum(ious) * 100 / n
print(json.dumps(out))
`;
  const r = spawnSync(PY, ['-c', py], { input: JSON.stringify({ truth, preds }), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout);
  for (const k of ['R@0.3', 'R@0.5', 'R@0.7', 'mIoU']) close(s[k], ref[k], k);
  assert.equal(s.unparsed, 12); // ids 0, 17, …, 187 have no prediction
});

const mc = { options: ['dribbling', 'dunking', 'passing'], answer: 'B' };

test('multi-choice matching follows TempCompass (plus MLVU "(B)")', () => {
  const pick = (t, row = mc) => E.parseChoice(t, row);
  assert.equal(pick('B'), 1);
  assert.equal(pick('B. dunking'), 1, 'the full answer string');
  assert.equal(pick('B) dunking'), 1);
  assert.equal(pick('(B) dunking'), 1);
  assert.equal(pick('<think>A or B?</think> <answer> B </answer>'), 1);
  assert.equal(pick('A'), 0);
  assert.equal(pick('b'), null, 'TempCompass letters are capitals');
  assert.equal(pick('Bear'), null, 'a word that starts with a letter is not a choice');
  assert.equal(pick('The answer is B'), null);
  assert.equal(pick('D'), null, 'a letter naming no option');
  assert.equal(pick(''), null);
});

test('yes_no, caption_matching and captioning matching follow TempCompass', () => {
  const yn = { options: ['yes', 'no'], answer: 'A', format: 'yes_no' };
  assert.equal(E.parseChoice('Yes, he is dunking.', yn), 0);
  assert.equal(E.parseChoice('no.', yn), 1);
  assert.equal(E.parseChoice('Not sure', yn), 1, 'TempCompass reads any text starting with "no" as no');
  assert.equal(E.parseChoice('I think yes', yn), null);
  assert.equal(E.parseChoice('yes', { ...yn, options: ['no', 'yes'] }), 1);
  const cm = {
    options: ['The man moves left to right.', 'The man moves right to left.'],
    option_labels: ['Sentence A', 'Sentence B'],
    answer: 'B',
    format: 'caption_matching',
  };
  assert.equal(E.parseChoice('Sentence B', cm), 1);
  assert.equal(E.parseChoice('Sentence B.', cm), 1, 'dots removed');
  assert.equal(E.parseChoice('Sentence B: The man moves right to left.', cm), 1);
  assert.equal(E.parseChoice('The man moves right to left.', cm), 1);
  assert.equal(E.parseChoice('(b) The man moves right to left.', cm), 1, 'the part after ") "');
  assert.equal(E.parseChoice('B', cm), null, 'no bare letters in caption matching');
  assert.equal(E.parseChoice('Caption B', { ...cm, option_labels: undefined }), 1, 'default labels');
  // "Caption B" is option 0's sentence and option 1's label: the label rule runs last and wins, as in eval_rule
  assert.equal(E.parseChoice('Caption B', { options: ['Caption B', 'x'], answer: 'A', format: 'caption_matching' }), 1);
  const cap = { options: ['dribbling', 'dunking', 'passing'], answer: 'B', format: 'captioning' };
  assert.equal(E.parseChoice('B. dunking a basketball', cap), 1);
  assert.equal(E.parseChoice('C. passing', cap), 2);
  assert.equal(E.parseChoice('B. dunking, not A. dribbling', cap), null, 'two letters');
  assert.equal(E.parseChoice('The answer is B.', cap), null);
});

test('accuracy, unparsed, per-format, per-dimension and macro average (hand-computed)', () => {
  const yn = { options: ['yes', 'no'], answer: 'A', format: 'yes_no' };
  const truth = [
    { id: 'r1', ...mc, dimension: 'action' }, // "B" → correct
    { id: 'r2', ...mc, dimension: 'action' }, // "A" → wrong
    { id: 'r3', ...mc, dimension: 'speed' }, // unparsed
    { id: 'r4', ...yn, dimension: 'action' }, // "yes" → correct
    { id: 'r5', ...yn, dimension: 'speed' }, // missing
    { id: 'r6', ...mc }, // "B." → correct, no dimension
  ];
  const answers = new Map([
    ['r1', 'B'],
    ['r2', 'A'],
    ['r3', 'hmm'],
    ['r4', 'yes'],
    ['r6', 'B.'],
  ]);
  const items = E.scoreChoices(truth, answers);
  assert.deepEqual(
    items.map((it) => [it.prediction, it.correct, it.missing]),
    [
      ['B', true, false],
      ['A', false, false],
      [null, false, false],
      ['A', true, false],
      [null, false, true],
      ['B', true, false],
    ],
  );
  const s = E.choiceSummary(items);
  assert.deepEqual([s.accuracy, s.n, s.correct, s.unparsed], [50, 6, 3, 2]); // 3/6
  assert.deepEqual(s.per_format['multi-choice'], {
    accuracy: 50, // r1, r6 of r1 r2 r3 r6
    n: 4,
    correct: 2,
    unparsed: 1,
    per_dimension: {
      action: { accuracy: 50, n: 2, correct: 1, unparsed: 0 },
      speed: { accuracy: 0, n: 1, correct: 0, unparsed: 1 },
    },
  });
  assert.deepEqual(s.per_format.yes_no.per_dimension.action, { accuracy: 100, n: 1, correct: 1, unparsed: 0 });
  close(s.per_dimension.action.accuracy, 200 / 3, 'action'); // r1 r4 of r1 r2 r4
  assert.equal(s.per_dimension.speed.accuracy, 0);
  close(s.macro_average, (200 / 3 + 0) / 2, 'macro'); // mean over the two dimensions, r6 not in any
  assert.equal(E.choiceSummary(E.scoreChoices([truth[5]], answers)).macro_average, null);
});

// Pairs p1–p6; with the default order A = pos, B = neg, the right answers are text_pos A, text_neg B,
// video_pos A, video_neg B.
const vinoPreds = [
  ...['A', 'B', 'A', 'B'].map((a, i) => ({ pair_id: 'p1', ...q(i), answer: a })), // all right
  ...['A', 'B', 'B', 'B'].map((a, i) => ({ pair_id: 'p2', ...q(i), answer: a })), // video_pos wrong
  ...['A', "I don't know", 'A', 'B.'].map((a, i) => ({ pair_id: 'p3', ...q(i), answer: a })), // text_neg unparsed
  { pair_id: 'p4', scores: { pos_pos: 0.9, pos_neg: 0.2, neg_pos: 0.5, neg_neg: 0.5 } }, // text tie → wrong
  // p5: no predictions at all (4 missing)
  ...['B', 'a', '<answer>A</answer>', 'B. second'].map((a, i) => ({
    pair_id: 'p6',
    ...q(i),
    answer: a,
    order: i < 2 ? ['neg', 'pos'] : ['pos', 'neg'],
  })),
];
function q(i) {
  return { task: i < 2 ? 'text' : 'video', variant: i % 2 ? 'neg' : 'pos' };
}

test('Vinoground text/video/group scores (hand-computed)', () => {
  const pairs = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const items = E.scoreVinoground(
    pairs,
    vinoPreds.map((p) => ({ order: ['pos', 'neg'], ...p })),
  );
  assert.deepEqual(
    items.map((it) => [it.text, it.video, it.group]),
    [
      [true, true, true],
      [true, false, false],
      [false, true, false],
      [false, true, false], // text: 0.5 > 0.5 fails; video: 0.9 > 0.5 and 0.5 > 0.2
      [false, false, false],
      [true, true, true], // order [neg, pos]: "B" on the pos video picks pos, "a" on the neg video picks neg
    ],
  );
  assert.deepEqual(items[2].choices, { text_pos: true, text_neg: null, video_pos: true, video_neg: true });
  const s = E.vinogroundSummary(items);
  assert.equal(s.text, 50); // p1 p2 p6 of 6
  close(s.video, 400 / 6, 'video'); // p1 p3 p4 p6
  close(s.group, 200 / 6, 'group'); // p1 p6
  assert.deepEqual([s.n, s.unparsed], [6, 5]); // p3's text_neg + p5's four
});

test('Vinoground agrees with a Python transcription of its lmms-eval aggregation', { skip: !hasPython }, () => {
  const preds = vinoPreds.filter((p) => !('scores' in p)).map((p) => ({ order: ['pos', 'neg'], ...p }));
  const pairs = ['p1', 'p2', 'p3', 'p6'];
  const s = E.vinogroundSummary(E.scoreVinoground(pairs, preds));
  // lmms-eval vinoground_aggregate_results: matrix[idx, col] = pred[0].lower() == gt.lower(); text = both text
  // columns, video = both video columns, group = all; GT is the letter the right member had in the prompt.
  const py = `
import json, sys
d = json.load(sys.stdin)
rows = {}
for p in d["preds"]:
    gt = "AB"[p["order"].index(p["variant"])]
    rows.setdefault(p["pair_id"], {})[p["task"] + "_" + p["variant"]] = p["answer"].strip()[0].lower() == gt.lower()
text = [r.get("text_pos", False) and r.get("text_neg", False) for r in (rows.get(i, {}) for i in d["pairs"])]
video = [r.get("video_pos", False) and r.get("video_neg", False) for r in (rows.get(i, {}) for i in d["pairs"])]
n = len(d["pairs"])
group = [a and b for a, b in zip(text, video)]
print(json.dumps({"text": sum(text) * 100 / n, "video": sum(video) * 100 / n, "group": sum(group) * 100 / n}))
`;
  const answersOnly = preds.map((p) => ({ ...p, answer: p.answer.replace(/<\/?answer>/g, '') }));
  const r = spawnSync(PY, ['-c', py], {
    input: JSON.stringify({ preds: answersOnly, pairs }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout);
  for (const k of ['text', 'video', 'group']) close(s[k], ref[k], k);
});
