// The arithmetic task family (levels, plain and column forms, the sloppy teacher, answer checking)
// and the demo's steps-to-target helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeProblems,
  makeProblem,
  teacherAnswer,
  writeAnswer,
  isCorrect,
  parseAnswer,
  rng,
} from '../dist/tasks/arithmetic.js';
import { stepsToTarget, finalAccuracy, tokensToTarget, generatedTokens } from '../dist/cli/demo.js';

const withAB = (a, op, b) => {
  // find a problem with these operands by building it through the public generator's shape
  const v = op === '+' ? a + b : op === '-' ? a - b : a * b;
  const n = (x) => String(x).padStart(2, '0');
  return {
    prompt: `${n(a)}${op}${n(b)}=`,
    answer: String(v),
    target: writeAnswer(v, op, 'columns'),
    level: 2,
    a,
    b,
    op,
    format: 'columns',
  };
};

test('levels draw the right operand sizes and operations; prompts are distinct and respect exclusions', () => {
  const ps = makeProblems(400, [1, 2, 3, 4, 5], 3, new Set(['12+34=']));
  assert.equal(new Set(ps.map((p) => p.prompt)).size, ps.length);
  assert.ok(!ps.some((p) => p.prompt === '12+34='));
  for (const p of ps) {
    const v = p.op === '+' ? p.a + p.b : p.op === '-' ? p.a - p.b : p.a * p.b;
    assert.equal(p.answer, String(v));
    if (p.level === 1) assert.ok(p.a < 10 && p.b < 10 && p.op === '+');
    if (p.level === 4) assert.ok(p.b < 10 && p.op === '*');
    if (p.level === 5) assert.equal(p.op, '*');
    if (p.level === 3) assert.ok(p.op === '+' || p.op === '-');
  }
  // level 1 has only 100 problems: asking for more returns what exists
  assert.equal(makeProblems(500, [1], 0).length, 100);
  assert.throws(() => makeProblem(9, rng(0)), /unknown arithmetic level 9/);
});

test('column form pads operands to two digits and answers to a fixed width per operation', () => {
  assert.equal(writeAnswer(32, '+', 'columns'), '032');
  assert.equal(writeAnswer(-51, '-', 'columns'), '-51');
  assert.equal(writeAnswer(-7, '-', 'columns'), '-07');
  assert.equal(writeAnswer(135, '*', 'columns'), '0135');
  assert.equal(writeAnswer(135, '*', 'plain'), '135');
  for (const p of makeProblems(200, [1, 2, 3, 4, 5], 1, new Set(), 'columns')) {
    assert.match(p.prompt, /^\d\d[+\-*]\d\d=$/);
    assert.equal(p.target.length, p.op === '*' ? 4 : 3);
    assert.equal(Number(p.target), Number(p.answer));
    assert.ok(isCorrect(p, p.target) && isCorrect(p, p.answer));
  }
});

test('the sloppy teacher forgets carries and borrows, only on problems that have them', () => {
  const never = rng(0),
    always = rng(0);
  const p = withAB(27, '+', 15); // 42, carry → 32
  assert.equal(teacherAnswer(p, 0, never), '042');
  assert.equal(teacherAnswer(p, 1, always), '032');
  assert.equal(teacherAnswer(withAB(8, '+', 7), 1, always), '005'); // 15 without the carry
  assert.equal(teacherAnswer(withAB(42, '-', 15), 1, always), '033'); // smaller-from-larger per column
  assert.equal(teacherAnswer(withAB(15, '-', 66), 1, always), '-51'); // negative results stay right
  assert.equal(teacherAnswer(withAB(21, '+', 34), 1, always), '055'); // no carry: right either way
  assert.equal(teacherAnswer(withAB(27, '*', 5), 1, always), '0135'); // × always right
  // the slip rate is what was asked for, on problems with a carry
  const r = rng(5);
  const carry = makeProblems(2000, [2], 7, new Set(), 'columns').filter(
    (q) => q.op === '+' && (q.a % 10) + (q.b % 10) >= 10,
  );
  const wrong = carry.filter((q) => teacherAnswer(q, 0.6, r) !== q.target).length / carry.length;
  assert.ok(Math.abs(wrong - 0.6) < 0.05, `slip rate ${wrong}`);
});

test('answers are parsed from the start of a completion, leading zeros and signs included', () => {
  assert.equal(parseAnswer('042'), '42');
  assert.equal(parseAnswer(' -051 and more'), '-51');
  assert.equal(parseAnswer('x42'), null);
  const p = withAB(27, '+', 15);
  assert.ok(isCorrect(p, '042') && isCorrect(p, '42') && !isCorrect(p, '032') && !isCorrect(p, ''));
});

test('steps to target: the first evaluated step at or above it; the final accuracy is the mean of the last evaluations', () => {
  const curve = [
    [10, 0.3],
    [20, 0.5],
    [30, 0.48],
    [40, 0.55],
    [50, 0.52],
    [60, 0.5],
    [70, 0.51],
    [80, 0.53],
  ];
  assert.equal(finalAccuracy(curve, 5), (0.55 + 0.52 + 0.5 + 0.51 + 0.53) / 5);
  assert.equal(stepsToTarget(curve, 0.52), 40);
  assert.equal(stepsToTarget(curve, 0.5), 20);
  assert.equal(stepsToTarget(curve, 0.9), null);
  assert.equal(finalAccuracy([[5, 0.25]]), 0.25);
  // tokens_to_target: the tokens/generated of the training record at the step steps_to_target names
  // (each step here samples 100 tokens; eval records carry no count)
  const history = [];
  for (let s = 1; s <= 80; s++) history.push({ step: s, 'tokens/generated': 100 * s }, { step: s, eval_accuracy: 0 });
  assert.equal(tokensToTarget(curve, 0.52, history), 4000);
  assert.equal(tokensToTarget(curve, 0.5, history), 2000);
  assert.equal(tokensToTarget(curve, 0.9, history), null);
  assert.equal(tokensToTarget(curve, 0.5, history.slice(0, 10)), null);
  assert.equal(generatedTokens(history), 8000);
});
