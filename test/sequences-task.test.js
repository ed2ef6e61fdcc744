// The error-compounding tasks (src/tasks/sequences.ts) by hand: running sums mod 10, FrozenLake's
// shortest safe paths and the execution check, distinct seeded problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../dist/tasks/sequences.js';
import { rng } from '../dist/data/random.js';

test('running sums mod 10 and their check', () => {
  const digits = [3, 1, 4, 1, 5];
  let i = 0;
  const p = S.runningSum(5, () => (digits[i++] + 0.5) / 10);
  assert.deepEqual(p, { prompt: '31415=', target: '34894', size: 5 }); // 3, 3+1, 4+4, 8+1, 9+5 mod 10
  assert.ok(S.runningSumCorrect(p, '34894') && S.runningSumCorrect(p, ' 34894 '));
  assert.ok(!S.runningSumCorrect(p, '3489') && !S.runningSumCorrect(p, '348945') && !S.runningSumCorrect(p, '34884'));
});

test('FrozenLake: the shortest safe path is found, and any safe path to G is right', () => {
  const cells = 'FHFFFFFF'.split(''); // the 7 free cells of a 3x3 map in order, then padding
  let k = 0;
  // pHole 0.5 with draws: F -> 0.9 (no hole), H -> 0.1 (hole)
  const p = S.frozenLake(3, 0.5, () => (cells[k++] === 'H' ? 0.1 : 0.9));
  assert.equal(p.prompt, 'SFH/FFF/FFG=');
  assert.equal(p.target, 'DDRR', 'BFS tries D, R, U, L in that order');
  for (const ok of ['DDRR', 'RDDR', 'DRDR', 'DRRD']) assert.ok(S.frozenLakeSolved(p, ok), ok);
  for (const bad of ['RR', 'RRDD', 'DDR', 'UDDRR', 'DDRRX', '', 'LDDRR'])
    assert.ok(!S.frozenLakeSolved(p, bad), bad || '(empty)');
  const many = S.makeSeqProblems(200, (r) => S.frozenLake(5, 0.3, r), 7);
  assert.equal(new Set(many.map((x) => x.prompt)).size, 200);
  assert.ok(many.every((x) => S.frozenLakeSolved(x, x.target)));
  const again = S.makeSeqProblems(200, (r) => S.frozenLake(5, 0.3, r), 7);
  assert.deepEqual(again, many, 'seeded');
  assert.ok(rng(1)() !== rng(2)());
});
