// TEMPLE (src/tasks/temple.ts, `pacer temple pairs`, `pacer recipe temple`): convert_to_swift.py's filters
// on hand-made pairs; HF's repetition penalty in generate() against logits penalised by hand; the pairs
// command end to end on a smoke vlm-base (frame files perturbed as TEMPLE perturbs clips, every kept pair
// passing the filters, counts adding up); the recipe's --smoke through the CLI (summary shape, numbers in
// range, the curriculum's DPO steps equal to ceil(pairs / batch) per stage, trained weights differ from the
// base); and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P } from './helpers.js';
import { templeFilter } from '../dist/video/perturb.js';
import { readFramesNpz, encodeFramesNpz } from '../dist/video/npz.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { generate } from '../dist/models/generate.js';
import { readdirSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (env, ...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, ...env },
  });
const rowsOf = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const text = (msgs) => msgs[0].content[0].text;

/** convert_to_swift.py's build_items condition, written out again from the Python. */
function pythonKeeps(type, chosen, rejected) {
  const lc = [...chosen].length;
  const lr = [...rejected].length;
  const skip =
    (type === 'drop' && lc <= lr) ||
    rejected.includes(chosen) ||
    ((type === 'shuffle' || type === 'reverse') && (lc > 1.5 * lr || lr > 1.5 * lc));
  return !skip;
}

test('templeFilter: convert_to_swift.py on hand-made pairs', () => {
  const cases = [
    ['drop', 'abcdef', 'abc', null], // shorter rejected: kept
    ['drop', 'abc', 'abd', 'not_shorter'], // equal lengths
    ['drop', 'abc', 'abcd', 'not_shorter'],
    ['shuffle', 'abc', 'abc', 'contained'], // identical texts
    ['reverse', 'abc', 'xxabcxx', 'contained'], // chosen inside rejected (also > 1.5×, contained is checked first)
    ['shuffle', 'abc', 'xy', null], // 3 ≤ 1.5 · 2: kept at the boundary
    ['shuffle', 'abcd', 'xy', 'length_ratio'], // 4 > 3
    ['reverse', 'xy', 'abcd', 'length_ratio'],
    ['reverse', 'a b c.', 'c b a.', null],
    ['drop', 'ééé', 'abc', 'not_shorter'], // lengths in code points, as Python's len
  ];
  for (const [type, c, r, want] of cases) {
    assert.equal(templeFilter(type, c, r), want, `${type} ${c} / ${r}`);
    assert.equal(want === null, pythonKeeps(type, c, r), `${type} ${c} / ${r} (the Python condition)`);
  }
});

test("generate: HF's repetition penalty matches logits penalised by hand", () =>
  P.scope(() => {
    const pm = fromPretrained(join(root, 'test', 'fixtures', 'models', 'qwen2'));
    const prompt = [3, 17, 17, 42, 5, 9];
    const V = pm.model.vocabSize;
    const logitsOf = (ids) =>
      P.noGrad(() => pm.model.forward({ ids: P.tensor([ids], { dtype: 'int64' }) }))
        .select(1, -1)
        .to('float32')
        .toArray();
    // by hand: l → l/p (l > 0) or l·p (l < 0) for every token in the prompt or generated so far, then argmax
    const byHand = (p, steps) => {
      const ids = [...prompt];
      for (let s = 0; s < steps; s++) {
        const l = logitsOf(ids);
        const seen = new Set(ids);
        let best = -1;
        let bestV = -Infinity;
        for (let v = 0; v < V; v++) {
          const x = seen.has(v) ? (l[v] > 0 ? l[v] / p : l[v] * p) : l[v];
          if (x > bestV) [best, bestV] = [v, x];
        }
        ids.push(best);
      }
      return ids.slice(prompt.length);
    };
    let differs = false;
    for (const p of [1.05, 3, 50]) {
      const [g] = generate(pm.model, [prompt], { maxNewTokens: 4, eosTokenId: [], repetitionPenalty: p });
      assert.deepEqual(g.tokens, byHand(p, 4), `penalty ${p}`);
      const [plain] = generate(pm.model, [prompt], { maxNewTokens: 4, eosTokenId: [] });
      differs ||= plain.tokens.join() !== g.tokens.join();
    }
    assert.ok(differs, 'some penalty changes the greedy tokens (the test would not see a no-op)');
    assert.throws(() => generate(pm.model, [prompt], { repetitionPenalty: 0 }), /repetition_penalty/);
    pm.model.dispose();
  }));

/** The smoke vlm-base and a shots dataset of 2 videos × 8 shots (16 frames), in a temp cache. */
function setup(d) {
  const env = { PACER_CACHE: join(d, 'cache') };
  const b = pacer(env, 'recipe', 'vlm-base', '--smoke', '--threads', '1', '--json');
  assert.equal(b.status, 0, b.stderr);
  const model = join(JSON.parse(b.stdout).dir, 'model');
  const m = pacer(
    env,
    'video',
    'make',
    '--world',
    'shots',
    '--n',
    '2',
    '--seed',
    '3',
    '--out',
    join(d, 'shots'),
    '--frames-only',
    '--shots',
    '8',
  );
  assert.equal(m.status, 0, m.stderr);
  return { env, model };
}

test('temple pairs: perturbed frame files, filtered pairs per magnitude, counts; bad input', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-temple-'));
  try {
    const { env, model } = setup(d);
    const shots = join(d, 'shots');
    const out = join(d, 'pairs');
    const args = ['--model', model, '--data', join(shots, 'data.jsonl'), '--out', out, '--threads', '1'];
    const r = pacer(env, 'temple', 'pairs', ...args, '--magnitudes', '16,2', '--max-new-tokens', '12', '--json');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    const info = JSON.parse(readFileSync(join(out, 'pairs.json'), 'utf8'));
    assert.equal(info.config.temperature, 0.7);
    assert.equal(info.config.repetitionPenalty, 1.05);
    for (const m of [16, 2]) {
      const rows = rowsOf(join(out, `pairs-r${m}.jsonl`));
      let kept = 0;
      for (const type of ['drop', 'shuffle', 'reverse']) {
        const c = res.counts[m][type];
        assert.equal(c.generated, 2); // one per video
        assert.equal(c.kept + c.not_shorter + c.contained + c.length_ratio, c.generated);
        assert.equal(rows.filter((x) => x.perturbation.type === type).length, c.kept);
        kept += c.kept;
      }
      assert.equal(rows.length, kept);
      for (const x of rows) {
        assert.ok(pythonKeeps(x.perturbation.type, text(x.chosen), text(x.rejected)), x.id);
        assert.deepEqual(x.prompt[0].content[0], { type: 'video' });
        assert.ok(existsSync(join(out, x.videos[0])) && existsSync(join(out, x.perturbed_video)));
      }
    }
    // the frame files: 16 frames = 8 clips of 2; reverse at m = 2 swaps the halves; drop at m = 16 keeps
    // max(1, 8 // 16) = 1 clip; shuffle at m = 2 permutes the two halves (either order)
    const clean = readFramesNpz(join(out, 'videos', 'shots-000000.npz'));
    const orig = readFramesNpz(join(shots, 'videos', 'shots-000000.npz'));
    assert.deepEqual(Buffer.from(clean.data), Buffer.from(orig.data));
    const half = clean.data.length / 2;
    const swapped = Buffer.concat([clean.data.subarray(half), clean.data.subarray(0, half)]);
    const rev = readFramesNpz(join(out, 'videos', 'shots-000000-reverse-r2.npz'));
    assert.deepEqual(Buffer.from(rev.data), swapped);
    const sh = Buffer.from(readFramesNpz(join(out, 'videos', 'shots-000000-shuffle-r2.npz')).data);
    assert.ok(sh.equals(swapped) || sh.equals(Buffer.from(clean.data)));
    const drop = readFramesNpz(join(out, 'videos', 'shots-000000-drop-r16.npz'));
    assert.equal(drop.frames, 2);
    // bad input: required options, an unknown type, a video whose frames do not split into clips
    assert.equal(pacer(env, 'temple', 'pairs', '--model', model).status, 2);
    const t = pacer(env, 'temple', 'pairs', ...args, '--types', 'drop,flip');
    assert.equal(t.status, 2);
    assert.match(t.stderr, /--types must list drop, shuffle, reverse, got 'flip'/);
    const odd = { ...orig, frames: 15, data: orig.data.subarray(0, (orig.data.length / 16) * 15) };
    writeFileSync(join(d, 'odd.npz'), encodeFramesNpz(odd));
    writeFileSync(join(d, 'odd.jsonl'), `${JSON.stringify({ prompt: 'x', videos: ['odd.npz'] })}\n`);
    const o = pacer(env, 'temple', 'pairs', '--model', model, '--data', join(d, 'odd.jsonl'), '--out', join(d, 'o'));
    assert.notEqual(o.status, 0);
    assert.match(o.stderr, /odd\.jsonl:1: the video has 15 frames, not a multiple of --clip-frames 2/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('recipe temple --smoke: five arms, summary.json and report; the curriculum trains in stages', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-temple-recipe-'));
  try {
    const env = { PACER_CACHE: join(d, 'cache') };
    const out = join(d, 'study');
    const r = pacer(env, 'recipe', 'temple', '--smoke', '--threads', '1', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(s.seeds, [0]);
    assert.equal(s.spec.dpo.rpo_alpha, 1);
    assert.deepEqual(Object.keys(s.arms), ['sft', 'sft_dpo_mixed', 'temple', 'dpo_mixed_sft', 'reversed_sft']);
    const pct = ['temporal_order_accuracy', 'attribute_qa_accuracy', 'temporal_qa_accuracy'].concat([
      'vinoground_text',
      'vinoground_video',
      'vinoground_group',
    ]);
    for (const [arm, ms] of Object.entries(s.arms)) {
      for (const k of pct) assert.ok(ms[k].mean >= 0 && ms[k].mean <= 100, `${arm} ${k}: ${ms[k].mean}`);
      assert.equal(ms.sft_steps.mean, s.spec.sft.steps);
    }
    // equal pairs across the DPO arms: the union of the per-magnitude files
    const seed = join(out, 'seed-0');
    const counts = s.spec.magnitudes.map((m) => rowsOf(join(seed, 'pairs', `pairs-r${m}.jsonl`)).length);
    const total = counts.reduce((a, b) => a + b, 0);
    assert.ok(total > 0, 'some pairs survive the filters');
    for (const arm of ['sft_dpo_mixed', 'temple', 'dpo_mixed_sft', 'reversed_sft'])
      assert.equal(s.arms[arm].pairs.mean, total, arm);
    // one epoch per stage: ceil(n / batch) steps for each non-empty magnitude; mixed: ceil(total / batch)
    const bs = s.spec.dpo.batch_size;
    const staged = counts.filter((n) => n > 0).reduce((a, n) => a + Math.ceil(n / bs), 0);
    assert.equal(s.arms.temple.dpo_steps.mean, staged);
    assert.equal(s.arms.reversed_sft.dpo_steps.mean, staged);
    assert.equal(s.arms.dpo_mixed_sft.dpo_steps.mean, Math.ceil(total / bs));
    // the curriculum's last stage trained: its merged weights differ from the base model's
    const bases = join(d, 'cache', 'recipes', 'vlm-base');
    const base = join(bases, readdirSync(bases)[0], 'model');
    P.scope(() => {
      const a = P.loadSafetensors(join(base, 'model.safetensors'));
      const last = counts.filter((n) => n > 0).length;
      const b = P.loadSafetensors(join(seed, 'temple', 'dpo', `stage-${last}`, 'merged', 'model.safetensors'));
      const key = 'model.layers.0.self_attn.q_proj.weight';
      assert.ok(a.get(key).sub(b.get(key)).abs().max().item() > 0, 'DPO changed the merged weights');
    });
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /temple/);
    const again = pacer(env, 'recipe', 'temple', '--smoke', '--threads', '1', '--out', out, '--json');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).cached, true);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
