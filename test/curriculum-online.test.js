// Online curriculum samplers: each one's rule on hand-made feedback, and exact state round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as C from '../dist/curriculum/online.js';

const items = Array.from({ length: 30 }, (_, i) => ({ index: i, difficulty: (i % 3) * 40, category: `L${i % 3}` }));
const fb = (index, o) => ({ index, rewardMean: 0.5, rewardVar: 0, meanAbsAdvantage: 0, passRate: 0.5, ...o });

test('SEC moves probability to the category with the largest mean |advantage|', () => {
  const s = C.makeSampler('sec', items, 1);
  for (let k = 0; k < 5; k++)
    s.update(items.map((it) => fb(it.index, { meanAbsAdvantage: it.category === 'L2' ? 0.9 : 0.1 })));
  const m = s.metrics();
  assert.ok(m['curriculum/p/L2'] > 0.9, JSON.stringify(m));
  // Q after 5 updates with α 0.5 from 0: 0.9·(1 − 0.5⁵)
  assert.ok(Math.abs(m['curriculum/q/L2'] - 0.9 * (1 - 0.5 ** 5)) < 1e-12);
  const drawn = s.next(200).map((i) => items[i].category);
  assert.ok(drawn.filter((c) => c === 'L2').length > 170);
});

test('DUMP: UCB from windows of |advantage| with an exploration bonus', () => {
  const s = C.makeSampler('dump', items, 2, { window: 3 });
  s.update([
    fb(0, { meanAbsAdvantage: 1 }),
    fb(0, { meanAbsAdvantage: 1 }),
    fb(0, { meanAbsAdvantage: 1 }),
    fb(0, { meanAbsAdvantage: 0.1 }),
    fb(1, { meanAbsAdvantage: 0.2 }),
  ]);
  const m = s.metrics();
  // arm L0 window keeps the last 3: [1, 1, 0.1]; N = 4 observations in windows
  const N = 4;
  assert.ok(Math.abs(m['curriculum/ucb/L0'] - (2.1 / 3 + Math.sqrt((2 * Math.log(N + 1)) / 4))) < 1e-12);
  assert.ok(
    Math.abs(m['curriculum/ucb/L2'] - Math.sqrt(2 * Math.log(N + 1))) < 1e-12,
    'an unseen arm gets the full bonus',
  );
});

test('AdaRFT moves the target difficulty by eta·tanh(alpha·(r − beta)) and serves the closest items', () => {
  const s = C.makeSampler('adarft', items, 3);
  assert.ok(s.next(5).every((i) => items[i].difficulty === 0));
  s.update([fb(0, { rewardMean: 1 })]);
  assert.ok(Math.abs(s.metrics()['curriculum/target_difficulty'] - 50 * Math.tanh(1)) < 1e-12);
  assert.ok(s.next(5).every((i) => items[i].difficulty === 40));
  s.update([fb(0, { rewardMean: 0 })]);
  s.update([fb(0, { rewardMean: 0 })]);
  assert.equal(s.metrics()['curriculum/target_difficulty'], 0, 'clipped at the minimum');
  assert.throws(() => C.makeSampler('adarft', [{ index: 0 }], 0), /numeric difficulty/);
});

test('balanced filtering keeps pass rates inside (low, high); staged advances by pass rate; VCRL replays', () => {
  const b = C.makeSampler('balanced', items, 4);
  b.update(items.map((it) => fb(it.index, { passRate: it.index < 10 ? 0 : it.index < 20 ? 1 : 0.5 })));
  assert.ok(b.next(100).every((i) => i >= 20));
  assert.equal(b.metrics()['curriculum/eligible_fraction'], 10 / 30);
  const st = C.makeSampler('staged', items, 5, { advance_at: 0.8 });
  assert.ok(st.next(20).every((i) => items[i].difficulty === 0));
  st.update(items.filter((it) => it.difficulty === 0).map((it) => fb(it.index, { passRate: 0.9 })));
  assert.equal(st.metrics()['curriculum/level'], 1);
  assert.ok(st.next(20).every((i) => items[i].difficulty === 40));
  const v = C.makeSampler('vcrl', items, 6, { replay_fraction: 0.5 });
  v.update([
    fb(7, { rewardVar: 0.25 }),
    ...items.filter((i) => i.index !== 7).map((it) => fb(it.index, { rewardVar: 0 })),
  ]);
  const draw = v.next(40);
  assert.ok(
    draw.slice(0, 20).every((i) => i === 7),
    'replayed from the bank',
  );
  assert.ok(draw.filter((i) => i === 7).length > 25, 'and favoured by variance');
});

test('every sampler resumes exactly from its state', () => {
  for (const name of C.SAMPLERS) {
    const a = C.makeSampler(name, items, 9);
    for (let k = 0; k < 3; k++)
      a.update(
        a
          .next(6)
          .map((i, j) =>
            fb(i, { rewardMean: j % 2, rewardVar: 0.2 * (j % 3), meanAbsAdvantage: j / 6, passRate: (j % 4) / 4 }),
          ),
      );
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = C.makeSampler(name, items, 9);
    b.load(saved);
    assert.deepEqual(b.next(12), a.next(12), name);
    assert.deepEqual(b.metrics(), a.metrics(), name);
  }
  assert.throws(() => C.makeSampler('spiral', items, 0), /unknown curriculum sampler 'spiral'/);
});

test('registerSampler: a custom sampler by name, its options typed and checked by the trainer config', async () => {
  const { resolveConfig } = await import('../dist/trainers/config.js');
  const { k } = await import('../dist/util/spec.js');
  // always the `pick`-th item: a rule whose draws are known without running it
  class Fixed extends C.BaseSampler {
    name = 'fixed';
    constructor(items, seed, pick) {
      super(items, seed);
      this.pick = pick;
    }
    next(n) {
      return Array.from({ length: n }, () => this.items[this.pick].index);
    }
  }
  C.registerSampler('fixed', {
    options: { pick: k.int(0, 'the item drawn every time', { min: 0 }) },
    make: (its, seed, o) => new Fixed(its, seed, o.pick),
    check: (o) => (o.pick < 1000 ? null : 'curriculum_options.pick must be below 1000'),
  });
  assert.deepEqual(C.makeSampler('fixed', items, 0, { pick: 4 }).next(3), [4, 4, 4]);
  assert.ok(C.samplerNames().includes('fixed'));
  const base = {
    trainer: 'grpo',
    model_name_or_path: 'm',
    train_dataset: 'd.jsonl',
    output_dir: 'o',
    reward_funcs: ['accuracy'],
    curriculum_sampler: 'fixed',
  };
  const cfg = resolveConfig({ ...base, curriculum_options: { pick: 2 } }, 'cfg.yaml');
  assert.deepEqual(cfg.curriculum_options, { pick: 2 });
  assert.deepEqual(resolveConfig(base, 'cfg.yaml').curriculum_options, { pick: 0 }, 'defaults filled');
  assert.throws(() => resolveConfig({ ...base, curriculum_options: { pik: 2 } }, 'cfg.yaml'), {
    name: 'ConfigError',
    key: 'curriculum_options.pik',
    message:
      /'curriculum_options.pik' is not a key of curriculum sampler 'fixed' \(did you mean 'curriculum_options.pick'/,
  });
  assert.throws(() => resolveConfig({ ...base, curriculum_options: { pick: -1 } }, 'c'), /pick' must be >= 0/);
  assert.throws(() => resolveConfig({ ...base, curriculum_options: { pick: 5000 } }, 'c'), /must be below 1000/);
  assert.throws(() => resolveConfig({ ...base, curriculum_sampler: 'fixd' }, 'c'), /did you mean 'fixed'/);
  assert.throws(() => C.registerSampler('fixed', { options: {}, make: () => null }), /already registered/);
  assert.throws(() => C.registerSampler('sec', { options: {}, make: () => null }, { replace: true }), /built-in/);
  assert.throws(() => C.registerSampler('a:b', { options: {}, make: () => null }), /letters, digits/);
  C.registerSampler('fixed', { options: {}, make: (its, seed) => new Fixed(its, seed, 1) }, { replace: true });
  assert.deepEqual(C.makeSampler('fixed', items, 0).next(2), [1, 1]);
  // the base class's random source and step count round-trip through state()
  const a = new Fixed(items, 3, 0);
  a.rand.next();
  a.update([]);
  const b = new Fixed(items, 3, 0);
  b.load(JSON.parse(JSON.stringify(a.state())));
  assert.equal(b.rand.next(), a.rand.next());
});
