// DeepVideo-R1's difficulty-aware augmentation (Eq. 9) as a prompt hook: ΔR from a reward window,
// hints for hard items from their best completion, perturbation for easy ones, exact state round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DifficultyAugmenter, maskCharacters } from '../dist/curriculum/augment.js';

test('ΔR is the window mean minus the item group mean; hard items get a hint, easy items a perturbation', () => {
  const a = new DifficultyAugmenter(
    { window: 8, hint_fraction: 0.5, hint_template: ' Hint: {hint}', mask_max: 1, mask_char: '#' },
    3,
  );
  assert.equal(a.delta(0), null);
  assert.equal(a.apply(0, 'what is 12+30?'), 'what is 12+30?', 'unseen items pass through');
  a.update([
    { index: 0, completions: ['wrong', 'answer is 42', 'nope', 'no'], rewards: [0, 1, 0, 0] }, // mean 0.25: hard
    { index: 1, completions: ['7', '7', '7', '8'], rewards: [1, 1, 1, 0] }, // mean 0.75: easy
  ]);
  assert.equal(a.delta(0), 0.5 - 0.25);
  assert.equal(a.delta(1), 0.5 - 0.75);
  assert.equal(a.apply(0, 'what is 12+30?'), 'what is 12+30? Hint: answer', 'first half of the best completion');
  const chat = a.apply(0, [
    { role: 'system', content: 's' },
    { role: 'user', content: 'q' },
  ]);
  assert.equal(chat[1].content, 'q Hint: answer');
  assert.equal(chat[0].content, 's');
  const easy = a.apply(1, 'abcdefghijklmnop');
  assert.notEqual(easy, 'abcdefghijklmnop');
  assert.match(easy, /#/);
  assert.equal(easy.length, 16);
  const m = a.metrics();
  assert.equal(m['augment/hinted_frac'], 2 / 4);
  assert.equal(m['augment/perturbed_frac'], 1 / 4);
  assert.equal(m['augment/window_reward_mean'], 0.5);
});

test('no hint without a better-than-average path; the window keeps the last W rewards', () => {
  const a = new DifficultyAugmenter({ window: 4 }, 0);
  a.update([
    { index: 0, completions: ['a', 'b'], rewards: [0, 0] },
    { index: 1, completions: ['c', 'd'], rewards: [1, 1] },
  ]);
  assert.equal(a.delta(0), 0.5);
  assert.equal(a.apply(0, 'p'), 'p', 'all-zero group: nothing to hint from');
  a.update([{ index: 2, completions: ['e', 'f', 'g', 'h'], rewards: [1, 1, 1, 1] }]);
  assert.equal(a.state().window.length, 4);
  assert.equal(a.delta(2), 0);
  assert.equal(a.apply(2, 'p'), 'p', '|ΔR| at min_delta: unchanged');
});

test('state round-trips, including the perturbation random stream', () => {
  const mk = () => new DifficultyAugmenter({ window: 10, mask_max: 1 }, 9);
  const a = mk();
  a.update([
    { index: 5, completions: ['x', 'y'], rewards: [1, 1] },
    { index: 6, completions: ['x', 'y'], rewards: [0, 0] },
  ]);
  a.apply(5, 'the quick brown fox');
  const b = mk();
  b.load(a.state());
  for (let i = 0; i < 3; i++) assert.equal(b.apply(5, 'the quick brown fox'), a.apply(5, 'the quick brown fox'));
});

test('options are validated; the mask perturbation scales with strength', () => {
  assert.throws(() => new DifficultyAugmenter({ window: 0 }), /'augmentation_options.window' must be >= 1, got 0/);
  assert.throws(
    () => new DifficultyAugmenter({ hint_fraction: 1.5 }),
    /'augmentation_options.hint_fraction' must be > 0 and <= 1, got 1.5/,
  );
  assert.throws(() => new DifficultyAugmenter({ hint_template: 'Hint:' }), /must contain '\{hint\}'/);
  let s = 1;
  const rand = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const text = 'a'.repeat(2000);
  const frac = (t) => [...t].filter((c) => c === '_').length / t.length;
  const lo = frac(maskCharacters('_', 0.5)(text, 0.2, rand)),
    hi = frac(maskCharacters('_', 0.5)(text, 1, rand));
  assert.ok(Math.abs(lo - 0.1) < 0.03 && Math.abs(hi - 0.5) < 0.04, `${lo} ${hi}`);
  assert.equal(maskCharacters('_', 1)('a b', 1, rand), '_ _', 'spaces are kept');
});
