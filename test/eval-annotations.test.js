// Real annotation formats in and out (src/eval/annotations.ts, tempcompass.ts): small hand-written
// files in each benchmark's own format are read into pacer rows, written back unchanged, and
// malformed ones are rejected with the file, line and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from '../dist/eval/index.js';

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'pacer-eval-'));
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

const CHARADES =
  'AO8RW 0.0 6.9##a person is putting a book on a shelf.\r\n\n' +
  'Y6R7T 24.3 30.4##person turn a light on.\nAO8RW 5.2 11##the person closes the door.\n';

test('Charades-STA: lines in, ids VIDEO_K, durations and videos, written back', () =>
  withDir((dir, put) => {
    const f = put('charades_sta_test.txt', CHARADES);
    const rows = E.readCharadesSta(f, { videoDir: '/data/Charades_v1', durations: { AO8RW: 31.2 } });
    assert.deepEqual(
      rows.map((r) => [r.id, r.video_id, r.segment, r.duration, r.query]),
      [
        ['AO8RW_0', 'AO8RW', [0, 6.9], 31.2, 'a person is putting a book on a shelf.'],
        ['Y6R7T_0', 'Y6R7T', [24.3, 30.4], null, 'person turn a light on.'],
        ['AO8RW_1', 'AO8RW', [5.2, 11], 31.2, 'the person closes the door.'],
      ],
    );
    assert.deepEqual(rows[1].videos, ['/data/Charades_v1/Y6R7T.mp4']);
    assert.equal(
      rows[1].prompt,
      'When does "person turn a light on." happen in the video? Answer with the start and end time in seconds.',
    );
    const out = join(dir, 'out.txt');
    E.writeCharadesSta(out, rows);
    assert.equal(
      readFileSync(out, 'utf8'),
      'AO8RW 0 6.9##a person is putting a book on a shelf.\nY6R7T 24.3 30.4##person turn a light on.\n' +
        'AO8RW 5.2 11##the person closes the door.\n',
    );
    assert.deepEqual(
      E.readCharadesSta(out).map((r) => [r.id, r.segment, r.query]),
      rows.map((r) => [r.id, r.segment, r.query]),
    );
    assert.deepEqual(readdirSync(dir).sort(), ['charades_sta_test.txt', 'out.txt'], 'no temp file left');
  }));

test('Charades-STA: malformed lines name file:line and the field', () =>
  withDir((_, put) => {
    const f = put('bad.txt', 'AO8RW 0.0 6.9##ok\nAO8RW 1.0##no end time\n');
    assert.throws(
      () => E.readCharadesSta(f),
      (e) => e.message.includes(`${f}:2: expected 'VIDEO START END##SENTENCE'`),
    );
    const g = put('bad2.txt', '\nAO8RW abc 3.0##start is not a number\n');
    assert.throws(
      () => E.readCharadesSta(g),
      (e) => e.message.includes(`${g}:2: field 'start' must be seconds >= 0, got 'abc'`),
    );
    assert.throws(() => E.readCharadesSta(put('bad3.txt', 'X 1 -2##neg\n')), /bad3.txt:1: field 'end'/);
    assert.throws(() => E.readCharadesSta(join(f, 'nope')), /cannot read/);
    assert.throws(
      () => E.writeCharadesSta(join(f, '..', 'w.txt'), [{ id: 'a', segment: [0, 1], query: 'x' }]),
      /row 'a' has no 'video_id'/,
    );
  }));

const ANET = {
  v_QOlSCBRmfWY: {
    duration: 82.73,
    timestamps: [
      [0.83, 19.86],
      [17.37, 60.81],
      [56.26, 79.42],
    ],
    sentences: [' A young woman is seen standing in a room.', ' She then begins to dance.', ' She ends by bowing.'],
  },
  v_ehGHCYKzyZ8: { duration: 61.72, timestamps: [[0, 62.5]], sentences: ['A man plays a guitar past the end.'] },
};

test('ActivityNet Captions: one row per sentence, written back to the same JSON', () =>
  withDir((dir, put) => {
    const f = put('val_1.json', JSON.stringify(ANET, null, 2));
    const rows = E.readActivityNetCaptions(f);
    assert.deepEqual(
      rows.map((r) => [r.id, r.segment, r.duration]),
      [
        ['v_QOlSCBRmfWY_0', [0.83, 19.86], 82.73],
        ['v_QOlSCBRmfWY_1', [17.37, 60.81], 82.73],
        ['v_QOlSCBRmfWY_2', [56.26, 79.42], 82.73],
        ['v_ehGHCYKzyZ8_0', [0, 62.5], 61.72], // ends after the duration: kept as written
      ],
    );
    assert.equal(rows[1].query, ' She then begins to dance.', 'sentences kept verbatim');
    assert.match(rows[1].prompt, /"She then begins to dance\."/);
    const out = join(dir, 'out.json');
    E.writeActivityNetCaptions(out, rows);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ANET);
    assert.throws(
      () => E.writeActivityNetCaptions(out, [{ ...rows[0], duration: null }]),
      /row 'v_QOlSCBRmfWY_0' has no 'duration'/,
    );
  }));

test('ActivityNet Captions: malformed files name file:line and the field', () =>
  withDir((_, put) => {
    const bad = { ...ANET, v_bad: { duration: 10, timestamps: [[1, 2], [3]], sentences: ['a', 'b'] } };
    const f = put('bad.json', JSON.stringify(bad, null, 2));
    const line =
      JSON.stringify(bad, null, 2)
        .split('\n')
        .findIndex((l) => l.includes('"v_bad"')) + 1;
    assert.throws(
      () => E.readActivityNetCaptions(f),
      (e) => e.message.includes(`${f}:${line}: field 'v_bad.timestamps[1]'`),
    );
    const g = put('bad2.json', JSON.stringify({ v_x: { duration: 5, timestamps: [[1, 2]], sentences: [] } }));
    assert.throws(
      () => E.readActivityNetCaptions(g),
      /bad2.json:1: video 'v_x': field 'sentences' must be a list with one sentence per timestamp/,
    );
    const h = put('bad3.json', '{\n  "v_x": {\n    "duration": 5,\n  }\n}\n');
    assert.throws(() => E.readActivityNetCaptions(h), /bad3.json:4: not valid JSON/);
    const k = put('bad4.json', JSON.stringify({ v_x: { duration: 0, timestamps: [], sentences: [] } }));
    assert.throws(() => E.readActivityNetCaptions(k), /field 'duration' must be seconds > 0/);
  }));

// Hand-written in TempCompass's layout (questions/<format>.json): {video: {dimension: [{question, answer}]}}.
const TC_MC = {
  1001: {
    action: [
      {
        question: 'What is the man doing?\nA. dribbling a ball\nB. dunking a ball\nC. passing a ball',
        answer: 'B. dunking a ball',
      },
      { question: 'Which action is shown?\nA. dunking a ball\nB. running', answer: 'A. dunking a ball' },
    ],
    direction: [{ question: 'Where does the man go?\nA. left\nB. right\nC. away\nD. closer', answer: 'D. closer' }],
  },
  '1001_reverse': {
    direction: [{ question: 'Where does the man go?\nA. left\nB. right\nC. away\nD. closer', answer: 'C. away' }],
  },
};
const TC_YN = {
  1001: {
    speed: [
      { question: 'Is the video in slow motion?', answer: 'no' },
      { question: 'Is the speed normal?', answer: 'yes' },
    ],
  },
};
const TC_CM = {
  1001: {
    order: [
      {
        question:
          'Which caption matches the video better?\nCaption A: He jumps, then sits.\nCaption B: He sits, then jumps.',
        answer: 'Caption B: He sits, then jumps.',
      },
      {
        question:
          'Which description is the better match?\nOption 1: He sits, then jumps.\nOption 2: He jumps, then sits.',
        answer: 'Option 1: He sits, then jumps.',
      },
    ],
  },
};

test('TempCompass: the three formats read into rows and written back unchanged', () =>
  withDir((dir, put) => {
    const mc = E.readTempCompass(put('multi-choice.json', JSON.stringify(TC_MC, null, 4)), { videoDir: 'videos' });
    assert.deepEqual(
      mc.map((r) => [r.id, r.format, r.dimension, r.answer, r.options.length]),
      [
        ['multi-choice/1001/action/0', 'multi-choice', 'action', 'B', 3],
        ['multi-choice/1001/action/1', 'multi-choice', 'action', 'A', 2],
        ['multi-choice/1001/direction/0', 'multi-choice', 'direction', 'D', 4],
        ['multi-choice/1001_reverse/direction/0', 'multi-choice', 'direction', 'C', 4],
      ],
    );
    assert.deepEqual(mc[0].options, ['dribbling a ball', 'dunking a ball', 'passing a ball']);
    assert.equal(mc[0].question, 'What is the man doing?');
    assert.deepEqual(mc[3].videos, ['videos/1001_reverse.mp4']);
    const yn = E.readTempCompass(put('yes_no.json', JSON.stringify(TC_YN)));
    assert.deepEqual(
      yn.map((r) => [r.id, r.options, r.answer]),
      [
        ['yes_no/1001/speed/0', ['yes', 'no'], 'B'],
        ['yes_no/1001/speed/1', ['yes', 'no'], 'A'],
      ],
    );
    const cm = E.readTempCompass(put('caption_matching.json', JSON.stringify(TC_CM)));
    assert.deepEqual(
      cm.map((r) => [r.answer, r.option_labels]),
      [
        ['B', ['Caption A', 'Caption B']],
        ['A', ['Option 1', 'Option 2']],
      ],
    );
    for (const [rows, ref] of [
      [mc, TC_MC],
      [yn, TC_YN],
      [cm, TC_CM],
    ]) {
      const out = join(dir, 'out.json');
      E.writeTempCompass(out, rows);
      assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ref);
    }
  }));

test('TempCompass: predictions, captioning and malformed items', () =>
  withDir((_, put) => {
    const pred = structuredClone(TC_YN);
    pred[1001].speed[0].prediction = 'No.';
    pred[1001].speed[1].response = 'yes';
    assert.deepEqual(E.readTempCompassPredictions(put('pred.json', JSON.stringify(pred))), [
      { id: 'yes_no/1001/speed/0', answer: 'No.' },
      { id: 'yes_no/1001/speed/1', answer: 'yes' },
    ]);
    const cap = {
      7: {
        action: [{ question: 'Describe.\nInformation A: {}\nInformation B: {}\nGenerated Caption:', answer: 'B. x' }],
      },
    };
    assert.throws(() => E.readTempCompass(put('captioning.json', JSON.stringify(cap))), /captioning question/);
    const bad = structuredClone(TC_MC);
    bad[1001].action[1].answer = 'C. flying';
    const text = JSON.stringify(bad, null, 4);
    const f = put('bad.json', text);
    const line = text.split('\n').findIndex((l) => l.includes('"1001"')) + 1;
    assert.throws(
      () => E.readTempCompass(f),
      (e) => e.message.includes(`${f}:${line} (1001.action[1]): field 'answer' "C. flying" names no option`),
    );
    const g = put('bad2.json', JSON.stringify({ 1001: { action: [{ question: 'Q?' }] } }));
    assert.throws(() => E.readTempCompass(g), /bad2.json:1 \(1001.action\[0\]\): each item must be/);
  }));

test('pacer rows: checks name file:line and field; duplicate ids name both lines', () =>
  withDir((_, put) => {
    const g = put('g.jsonl', '{"id":"a","segment":[0,1]}\n{"id":"b","segment":[0]}\n');
    assert.throws(
      () => E.readRows(g, E.groundingRow),
      (e) => e.message.includes(`${g}:2: field 'segment' must be [start, end]`),
    );
    const d = put('d.jsonl', '{"id":"a","segment":[0,1]}\n\n{"id":"a","segment":[1,2]}\n');
    assert.throws(
      () => E.byId(E.readRows(d, E.groundingRow)),
      (e) => e.message.includes(`${d}:3: id 'a' repeats the id of ${d}:1`),
    );
    const c = put('c.jsonl', '{"id":"q","options":["x","y"],"answer":"C"}\n');
    assert.throws(
      () => E.readRows(c, E.choiceRow),
      /c.jsonl:1: field 'answer' must be the correct option's letter \(A to B\), got 'C'/,
    );
    const y = put('y.jsonl', '{"id":"q","options":["x","y"],"answer":"A","format":"yes_no"}\n');
    assert.throws(() => E.readRows(y, E.choiceRow), /y.jsonl:1: a yes_no row's 'options' must be "yes" and "no"/);
    const v = put('v.jsonl', '{"id":"1_pos","pair_id":"1","variant":"pos","caption":"x","videos":["a.mp4"]}\n');
    assert.throws(() => E.vinoPairs(E.readRows(v, E.vinogroundRow)), /v.jsonl:1: pair '1' has no 'neg' row/);
    const p = put('p.jsonl', '{"id":"a","answer":[1,2]}\n');
    assert.throws(() => E.readRows(p, E.predictionRow), /p.jsonl:1: field 'answer' must be the model's text/);
  }));
