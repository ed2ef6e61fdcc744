// TEMPLE's perturbations (src/video/perturb.ts) by hand: drop keeps max(1, ⌊n/m⌋) clips in order,
// shuffle permutes chunks of that size, reverse reverses the chunk order; frames follow the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P } from './helpers.js';
import { perturbClips, perturbFrames } from '../dist/video/perturb.js';

const clips = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

test('reverse and shuffle move whole chunks of max(1, n//m); drop keeps max(1, n//m) in order', () => {
  assert.deepEqual(perturbClips(clips, { type: 'reverse', magnitude: 2 }), ['e', 'f', 'g', 'h', 'a', 'b', 'c', 'd']);
  assert.deepEqual(perturbClips(clips, { type: 'reverse', magnitude: 4 }), ['g', 'h', 'e', 'f', 'c', 'd', 'a', 'b']);
  assert.deepEqual(perturbClips(clips, { type: 'reverse', magnitude: 16 }), [...clips].reverse(), 'chunks of 1');
  for (let seed = 0; seed < 20; seed++) {
    const s = perturbClips(clips, { type: 'shuffle', magnitude: 4, seed });
    const pairs = [0, 2, 4, 6].map((i) => s.slice(i, i + 2).join(''));
    assert.deepEqual([...pairs].sort(), ['ab', 'cd', 'ef', 'gh'], `seed ${seed}: chunks stay whole`);
    const d = perturbClips(clips, { type: 'drop', magnitude: 4, seed });
    assert.equal(d.length, 2);
    assert.deepEqual(d, [...d].sort(), 'kept clips keep their order');
    assert.equal(perturbClips(clips, { type: 'drop', magnitude: 16, seed }).length, 1);
  }
  const shuffles = new Set(
    Array.from({ length: 20 }, (_, seed) => perturbClips(clips, { type: 'shuffle', magnitude: 8, seed }).join('')),
  );
  assert.ok(shuffles.size > 5, 'seeds give different shuffles');
  assert.deepEqual(
    perturbClips(clips, { type: 'shuffle', magnitude: 8, seed: 3 }),
    perturbClips(clips, { type: 'shuffle', magnitude: 8, seed: 3 }),
  );
  assert.throws(() => perturbClips(clips, { type: 'swap', magnitude: 2 }), /type must be drop, shuffle, reverse/);
  assert.throws(() => perturbClips(clips, { type: 'drop', magnitude: 0 }), /magnitude must be a positive integer/);
});

test('frames on the first axis follow the same order as a list', () => {
  P.scope(() => {
    const frames = P.arange(8).view(8, 1, 1, 1).expand(8, 2, 2, 3).contiguous();
    for (const type of ['drop', 'shuffle', 'reverse']) {
      const order = perturbClips([0, 1, 2, 3, 4, 5, 6, 7], { type, magnitude: 4, seed: 11 });
      const out = perturbFrames(frames, { type, magnitude: 4, seed: 11 });
      assert.deepEqual(out.shape, [order.length, 2, 2, 3]);
      assert.deepEqual(out.select(1, 0).select(1, 0).select(1, 0).toArray(), order);
    }
  });
});
