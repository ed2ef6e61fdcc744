// VideoTG-R1's pieces (issue 13 items 2-3) with hand-computed values: the filter-or-relabel-by-model
// data stage (consensus, drop / relabel / flag, precision and recall against known truth — by a table
// and on the grounding world's partial labels with an oracle model), zero-shot difficulty from G
// sampled spans, the masking schedule m(t), which frames a mask blanks, and the stratified subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consensusOf, flagQuality, modelFilter } from '../dist/data/index.js';
import {
  blankFrames,
  boundaryReflection,
  curriculumMask,
  estimateDifficulty,
  framesOutside,
  maskedFrames,
  maskSchedule,
  stratifiedSubset,
  stratumQuotas,
} from '../dist/curriculum/index.js';
import * as V from '../dist/video/index.js';

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('consensus: the answer with the largest support, the first on ties', () => {
  const near = (a, b) => Math.abs(a - b) <= 1;
  // supports: 1 → {1,2,2} 3; 2 → {1,2,2,3} 4; 3 → {2,2,3} 3
  assert.deepEqual(consensusOf([1, 2, 2, 3, null], near), { consensus: 2, agreement: 4 });
  assert.deepEqual(consensusOf([5, 9], near), { consensus: 5, agreement: 1 });
  assert.deepEqual(consensusOf([null, null], near), { consensus: null, agreement: 0 });
});

test('model filter: drop, relabel and flag by agreement; precision and recall against the truth', async () => {
  // 8 answers per item, by hand: item 2 and 7 are partial labels the model finds elsewhere (7 and 6
  // agreeing answers), item 5 is partial but the model scatters, item 4 is complete but the model
  // hallucinates consistently, item 0 agrees with its own label
  const items = Array.from({ length: 10 }, (_, i) => ({ id: i, segment: [2, 6] }));
  const around = (s, e, k, n = 8) => Array.from({ length: n }, (_, g) => (g < k ? [s + 0.1 * g, e - 0.1 * g] : null));
  const table = {
    0: around(2, 6, 8),
    2: around(10, 14, 7),
    4: around(30, 33, 8),
    5: Array.from({ length: 8 }, (_, g) => [4 * g + 8, 4 * g + 9]),
    7: [...around(20, 25, 6, 6), [0, 1], [40, 41]],
  };
  const o = boundaryReflection({ predictBlanked: (it, g) => table[it.id]?.[g] ?? null, segment: (it) => it.segment });
  const dropped = await modelFilter(items, o);
  assert.deepEqual(dropped.flagged, [2, 4, 7]);
  assert.deepEqual(
    dropped.items.map((x) => x.id),
    [0, 1, 3, 5, 6, 8, 9],
  );
  assert.deepEqual(
    dropped.verdicts.map((v) => v.agreement),
    [8, 0, 7, 0, 8, 1, 0, 6, 0, 0],
  );
  const q = flagQuality(dropped.flagged, [2, 5, 7]);
  close(q.precision, 2 / 3);
  close(q.recall, 2 / 3);
  assert.equal(q.true_positives, 2);
  // min_agree 7: item 7's six agreeing answers no longer flag it
  assert.deepEqual((await modelFilter(items, { ...o, minAgree: 7 })).flagged, [2, 4]);
  const relabel = (it, span) => ({ ...it, segment: span });
  const re = await modelFilter(items, { ...o, action: 'relabel', relabel });
  assert.equal(re.items.length, 10);
  assert.deepEqual(re.items[2].segment, [10, 14]);
  assert.deepEqual(re.items[7].segment, [20, 25]);
  assert.deepEqual(re.items[3].segment, [2, 6]);
  const fl = await modelFilter(items, { ...o, action: 'flag' });
  assert.equal(fl.items.length, 10);
  assert.deepEqual(fl.flagged, [2, 4, 7]);
  assert.deepEqual(flagQuality([], [1]), { precision: null, recall: 0, flagged: 0, truth: 1, true_positives: 0 });
  await assert.rejects(modelFilter(items, { ...o, minAgree: 9 }), /min_agree must be an integer in \[1, samples=8\]/);
  await assert.rejects(modelFilter(items, { ...o, action: 'relabel' }), /action relabel needs a relabel function/);
  await assert.rejects(modelFilter(items, { ...o, action: 'keep' }), /action must be drop, relabel or flag/);
});

test('boundary reflection on the grounding world: an oracle that sees the unblanked occurrences flags exactly the partial labels', async () => {
  const w = V.worlds.WORLDS.grounding;
  const opts = { width: 56, height: 56, fps: w.fps, knobs: V.worlds.parseKnobs(w, { partial: '0.4' }) };
  const rows = Array.from({ length: 12 }, (_, i) => w.generate(i, 3, opts).rows).flat();
  const truth = rows.flatMap((r, i) => (r.truth.partial ? [i] : []));
  assert.ok(truth.length > 0 && truth.length < rows.length);
  // the oracle answers, on the video with the labelled span blanked, an occurrence it can still see
  // (one that is not the labelled one), else a different wrong guess each time
  const predictBlanked = (r, g) => {
    const seen = (r.truth.occurrences ?? []).filter((o) => o[0] !== r.segment[0] || o[1] !== r.segment[1]);
    return seen.length ? seen[0] : [g * 3, g * 3 + 1];
  };
  const res = await modelFilter(rows, boundaryReflection({ predictBlanked, segment: (r) => r.segment }));
  assert.deepEqual(flagQuality(res.flagged, truth), {
    precision: 1,
    recall: 1,
    flagged: truth.length,
    truth: truth.length,
    true_positives: truth.length,
  });
});

test('difficulty: zero-shot mIoU over G samples; hard below 0.3', async () => {
  const items = [{ seg: [0, 10] }, { seg: [0, 10] }, { seg: [4, 8] }];
  const preds = [
    [[0, 10], [0, 5], null, [5, 15]], // tIoU 1, 0.5, 0, 5/15
    [
      [10, 20],
      [10, 20],
      [12, 20],
      [30, 31],
    ], // 0
    [
      [4, 6],
      [4, 6],
      [6, 10],
      [0, 4],
    ], // 0.5, 0.5, 2/6, 0
  ];
  const d = await estimateDifficulty(items, { samples: 4, predict: (_, g, i) => preds[i][g], segment: (x) => x.seg });
  close(d[0].miou, (1 + 0.5 + 0 + 1 / 3) / 4);
  close(d[0].difficulty, 1 - (1 + 0.5 + 0 + 1 / 3) / 4);
  assert.equal(d[0].hard, false);
  assert.deepEqual(d[1], { miou: 0, hard: true, difficulty: 1 });
  close(d[2].miou, (0.5 + 0.5 + 1 / 3) / 4);
  assert.equal(d[2].hard, false); // 0.3333… ≥ 0.3
  const d2 = await estimateDifficulty(items, {
    samples: 4,
    predict: (_, g, i) => preds[i][g],
    segment: (x) => x.seg,
    hardBelow: 0.4,
  });
  assert.deepEqual(
    d2.map((x) => x.hard),
    [false, true, true],
  );
});

test('mask schedule m(t): linear, cosine and step from 0.75, reaching 0 at 0.7 T', () => {
  close(maskSchedule(0, 100), 0.75);
  close(maskSchedule(35, 100), 0.375);
  close(maskSchedule(70, 100), 0);
  close(maskSchedule(95, 100), 0);
  close(maskSchedule(35, 100, { shape: 'cosine' }), 0.375);
  close(maskSchedule(17.5, 100, { shape: 'cosine' }), 0.75 * 0.5 * (1 + Math.SQRT1_2));
  close(maskSchedule(69, 100, { shape: 'step' }), 0.75);
  close(maskSchedule(70, 100, { shape: 'step' }), 0);
  close(maskSchedule(25, 100, { start: 1, until: 0.5 }), 0.5);
  assert.throws(() => maskSchedule(1, 10, { shape: 'exp' }), /shape must be one of linear, cosine, step/);
  assert.throws(() => maskSchedule(1, 10, { start: 1.5 }), /start must be in \[0, 1\]/);
  assert.throws(() => maskSchedule(1, 10, { until: 0 }), /until must be in \(0, 1\]/);
});

test('frame masks: the frames outside the span, farthest first or seeded at random; blanked, not removed', () => {
  // 10 frames at 2 fps; frame f covers [f/2, (f+1)/2); the span [1.5, 3.2] overlaps frames 3-6
  assert.deepEqual(framesOutside(10, 2, [1.5, 3.2]), [0, 1, 2, 7, 8, 9]);
  assert.deepEqual(framesOutside(10, 2, [3.2, 1.5]), [0, 1, 2, 7, 8, 9]);
  // centres' distances to the span: 0 → 1.25, 1 → 0.75, 2 → 0.25, 7 → 0.55, 8 → 1.05, 9 → 1.55
  assert.deepEqual(maskedFrames(10, 2, [1.5, 3.2], 0.5), [0, 8, 9]);
  assert.deepEqual(maskedFrames(10, 2, [1.5, 3.2], 0.75), [0, 1, 7, 8, 9]); // round(4.5) = 5
  assert.deepEqual(maskedFrames(10, 2, [1.5, 3.2], 0.1), [9]); // round(0.6) = 1
  assert.deepEqual(maskedFrames(10, 2, [1.5, 3.2], 0), []);
  const r1 = maskedFrames(10, 2, [1.5, 3.2], 0.5, { order: 'random', seed: 4 });
  assert.equal(r1.length, 3);
  assert.ok(r1.every((f) => [0, 1, 2, 7, 8, 9].includes(f)));
  assert.deepEqual(maskedFrames(10, 2, [1.5, 3.2], 0.5, { order: 'random', seed: 4 }), r1);
  const seeds = new Set(
    Array.from({ length: 8 }, (_, s) => maskedFrames(10, 2, [1.5, 3.2], 0.5, { order: 'random', seed: s }).join()),
  );
  assert.ok(seeds.size > 1, 'other seeds pick other frames');
  assert.throws(() => maskedFrames(10, 2, [1, 2], 1.5), /fraction must be in \[0, 1\]/);
  // a 3-frame 1×2 video: frame 1 blanked to red, the others and the input untouched
  const v = { frames: 3, height: 1, width: 2, fps: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i + 1) };
  const b = blankFrames(v, [1], [255, 0, 0]);
  assert.equal(b.frames, 3);
  assert.deepEqual([...b.data.subarray(6, 12)], [255, 0, 0, 255, 0, 0]);
  assert.deepEqual([...b.data.subarray(0, 6)], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...b.data.subarray(12)], [13, 14, 15, 16, 17, 18]);
  assert.equal(v.data[6], 7);
  assert.throws(() => blankFrames(v, [3]), /frame 3 is not in \[0, 3\)/);
});

test('stratified subset: proportional and equal quotas, seeded draws inside each stratum', () => {
  // sizes 6, 3, 1; n 5: proportional 3, 1.5, 0.5 → floors 3, 1, 0 and the one left to the lower tie
  assert.deepEqual(stratumQuotas([6, 3, 1], 5, 'proportional'), [3, 2, 0]);
  assert.deepEqual(stratumQuotas([6, 3, 1], 5, 'equal'), [2, 2, 1]);
  // equal 8: 3, 3, 2 wanted, the third has 1, its leftover goes to the first
  assert.deepEqual(stratumQuotas([6, 3, 1], 8, 'equal'), [4, 3, 1]);
  assert.deepEqual(stratumQuotas([6, 3, 1], 10, 'proportional'), [6, 3, 1]);
  assert.throws(() => stratumQuotas([2], 3, 'equal'), /n must be an integer in \[0, 2\]/);
  const strata = ['hard', 'easy', 'easy', 'mid', 'easy', 'easy', 'hard', 'easy', 'hard', 'easy'];
  // sorted strata easy (6), hard (3), mid (1)
  const s = stratifiedSubset(strata, 5, { seed: 1 });
  const count = (k) => s.filter((i) => strata[i] === k).length;
  assert.deepEqual([count('easy'), count('hard'), count('mid')], [3, 2, 0]);
  assert.deepEqual(stratifiedSubset(strata, 5, { seed: 1 }), s);
  assert.deepEqual(
    s,
    [...s].sort((a, b) => a - b),
  );
  const e = stratifiedSubset(strata, 5, { seed: 2, allocation: 'equal' });
  assert.deepEqual(
    ['easy', 'hard', 'mid'].map((k) => e.filter((i) => strata[i] === k).length),
    [2, 2, 1],
  );
  assert.throws(() => stratifiedSubset(strata, 5, { allocation: 'even' }), /allocation must be proportional or equal/);
});

test('the masking curriculum: hard items lose m(t) of their non-span frames, easy ones none, none from 0.7 T', () => {
  const hard = { index: 0, hard: true, segment: [1.5, 3.2], frames: 10, fps: 2 };
  // m(0) = 0.75 of the 6 outside frames: round(4.5) = 5, farthest first
  assert.deepEqual(curriculumMask(hard, 0, 100), [0, 1, 7, 8, 9]);
  // m(35) = 0.375: round(2.25) = 2
  assert.deepEqual(curriculumMask(hard, 35, 100), [0, 9]);
  assert.deepEqual(curriculumMask(hard, 70, 100), []);
  assert.deepEqual(curriculumMask({ ...hard, hard: false }, 0, 100), []);
  const r = curriculumMask(hard, 0, 100, { order: 'random', seed: 3 });
  assert.equal(r.length, 5);
  assert.deepEqual(curriculumMask(hard, 0, 100, { order: 'random', seed: 3 }), r);
});
