// The shared-prompt training forward (src/models/shared-prompt.ts, src/trainers/shared-prompt.ts): rows that
// share a prompt run it once, the completions on its keys and values. The claim is that this is the plain
// forward of the concatenated rows computed in another order, so the reference is the plain forward
// (collate + forwardBatch + labelLogps, itself checked against the PyTorch ports in qwen2-vl*.test.js and
// llama.test.js): per-token completion log-probs in fp32 within 1e-5 relative, and the gradients of a loss
// on them for every parameter within 1e-4 relative. Batches as the trainers make them: prompts of
// different lengths (right-padded), completions of different lengths (EOS, length 1), video prompts (M-RoPE
// positions of the completions after the video: the rope deltas are non-zero), a text row in a video batch,
// a row whose prompt no other row shares; and the GRPO trainer takes the shared path by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, P, assertClose } from './helpers.js';
import { makeDataset } from '../dist/video/worlds/index.js';
import { train, resolveConfig } from '../dist/trainers/index.js';
import { forwardBatch, prepareVision } from '../dist/trainers/vision.js';
import { planLayout, rowsLogps, sharedLogits, sharedPlan } from '../dist/trainers/shared-prompt.js';
import { groupPrompts } from '../dist/models/shared-prompt.js';
import { loadDataset } from '../dist/data/datasets.js';
import { collate, completionSeq, renderPrompt } from '../dist/data/tokenize.js';
import { labelLogps } from '../dist/models/scoring.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { Qwen2VLForConditionalGeneration } from '../dist/models/qwen2_vl/index.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { REWARDS } from '../dist/rewards/index.js';

const model = (name) => join(FIXTURES, 'models', name);
const quiet = { progress: false, log: () => {} };
// a reward with spread on random completions: the parity of the completion's id sum
REWARDS.shared_id_sum_odd = () => (input) => input.completionIds.map((ids) => ids.reduce((a, b) => a + b, 0) % 2);

/** A deterministic spread of completion ids in [lo, hi) (not the vision pads: those are ≥ 256 in the VLMs). */
const comp = (seed, n, lo, hi) => Array.from({ length: n }, (_, j) => lo + ((seed * 37 + j * 11) % (hi - lo)));

/** Plain and shared per-token log-probs [N, T], and every parameter's gradient of Σ w·logp under each. */
function bothWays(m, rows, pad) {
  const names = [...m.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
  const run = (shared) =>
    P.scope(() => {
      for (const p of m.parameters()) p.grad = null;
      const batch = collate(
        rows.map((r) => completionSeq(r.prompt, r.completion, r.vision)),
        pad,
      );
      const plan = sharedPlan(rows, pad);
      assert.ok(plan, 'rows share prompts: there is a plan');
      const lp = shared
        ? planLayout(plan, labelLogps(sharedLogits(m, plan), plan.labels).perToken)
        : labelLogps(forwardBatch(m, batch), batch.labels).perToken;
      const mask = batch.labels.ne(-100).float();
      // distinct weights per token so that no gradient cancels by symmetry
      const [N, T] = lp.shape;
      const w = P.tensor(Array.from({ length: N * T }, (_, i) => 1 + ((i * 7) % 5) / 4)).view(N, T);
      lp.mul(w).mul(mask).sum().backward();
      const named = new Map(m.namedParameters());
      return {
        lp: P.keep(lp.detach()),
        mask: P.keep(mask),
        grads: names.map((n) => P.keep(named.get(n).grad.clone())),
      };
    });
  return { plain: run(false), shared: run(true), names };
}

function assertSame(r, what) {
  const lpRel = assertClose(r.shared.lp, r.plain.lp, { rtol: 1e-5, atol: 0, what: `${what}: log-probs` });
  // off the completion tokens both are 0
  const off = P.scope(() => r.shared.lp.mul(r.plain.mask.neg().add(1)).abs().sum().item());
  assert.equal(off, 0);
  let worst = 0;
  let nonzero = 0;
  r.names.forEach((n, k) => {
    const g = r.plain.grads[k];
    if (P.scope(() => g.abs().max().item()) > 0) nonzero++;
    worst = Math.max(worst, assertClose(r.shared.grads[k], g, { rtol: 1e-4, atol: 1e-12, what: `${what}: ${n}.grad` }));
  });
  return { lpRel, worst, nonzero };
}

test('groupPrompts: rows with the same ids and the same media object share; different media do not', () => {
  const v = {};
  const w = {};
  assert.deepEqual(groupPrompts([[1, 2], [1, 2], [3], [1, 2], [1, 2]], [v, v, null, w, null]), {
    first: [0, 2, 3, 4],
    rowPrompt: [0, 0, 1, 2, 3],
  });
  assert.equal(groupPrompts([[1], [2]]), null);
});

for (const name of ['llama', 'qwen2', 'gpt2']) {
  test(`${name}: shared-prompt log-probs and gradients equal the plain forward's`, (t) => {
    const { model: m } = fromPretrained(model(name));
    const V = m.vocabSize;
    // three prompts of lengths 7, 3, 5 (right-padded in the prefill); groups of 3, 1 (not grouped), 2
    const prompts = [comp(1, 7, 1, V), comp(2, 3, 1, V), comp(3, 5, 1, V)];
    const rows = [
      [0, comp(4, 4, 1, V)],
      [0, comp(5, 1, 1, V)],
      [0, comp(6, 6, 1, V)],
      [1, comp(7, 3, 1, V)],
      [2, comp(8, 2, 1, V)],
      [2, comp(9, 5, 1, V)],
    ].map(([p, c]) => ({ prompt: prompts[p], completion: c }));
    const r = bothWays(m, rows, 0);
    const s = assertSame(r, name);
    t.diagnostic(`log-probs max rel diff ${s.lpRel.toExponential(2)}, worst gradient ${s.worst.toExponential(2)}`);
    assert.ok(s.nonzero >= r.names.length - 1, `${s.nonzero} of ${r.names.length} gradients non-zero`);
    m.dispose();
  });
}

/** The temporal world's video prompts (3 videos) as the trainers render them, with their visions. */
async function videoPrompts(name, d) {
  await makeDataset({ world: 'temporal', n: 3, seed: 5, out: join(d, 'w'), framesOnly: true, width: 56 });
  const rows = readFileSync(join(d, 'w', 'data.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const file = join(d, 'prompts.jsonl');
  writeFileSync(
    file,
    rows.map((r) => JSON.stringify({ prompt: r.prompt, videos: r.videos.map((v) => `w/${v}`) })).join('\n') + '\n',
  );
  writeFileSync(
    join(d, 'pref.jsonl'),
    rows
      .map((r) =>
        JSON.stringify({
          prompt: r.prompt,
          videos: r.videos.map((v) => `w/${v}`),
          chosen: r.completion,
          rejected: [{ role: 'assistant', content: [{ type: 'text', text: r.answer === 'A' ? 'B' : 'A' }] }],
        }),
      )
      .join('\n') + '\n',
  );
  const cfg = resolveConfig(
    {
      trainer: 'grpo',
      model_name_or_path: model(name),
      train_dataset: file,
      output_dir: join(d, 'o'),
      reward_funcs: ['accuracy'],
    },
    'test',
    d,
  );
  const ex = await loadDataset(file);
  await prepareVision(ex, cfg, file);
  const tok = Tokenizer.fromPretrained(model(name));
  return { ex, tok, ids: ex.map((e) => renderPrompt(tok, e.prompt, undefined, { rv: e.vision, where: e.where })) };
}

for (const name of ['qwen2_5_vl', 'qwen2_vl']) {
  test(`${name}: video prompts — shared-prompt log-probs and gradients (tower included) equal the plain forward's`, async (t) => {
    const d = mkdtempSync(join(tmpdir(), 'pacer-shared-'));
    try {
      const { ex, tok, ids } = await videoPrompts(name, d);
      const { model: m } = fromPretrained(model(name));
      const eos = tok.eosTokenId;
      const text = tok.encode('a question without a video');
      // the video prompts differ in length only by their question; add a text-only prompt of another length
      const prompts = [...ids.map((p, i) => ({ prompt: p, vision: ex[i].vision })), { prompt: text }];
      assert.ok(new Set(prompts.map((p) => p.prompt.length)).size >= 2, 'prompts of different lengths');
      const rows = [
        [0, [...comp(1, 3, 1, 250), eos]],
        [0, comp(2, 1, 1, 250)],
        [0, comp(3, 5, 1, 250)],
        [1, comp(4, 2, 1, 250)],
        [2, [...comp(5, 4, 1, 250), eos]],
        [2, comp(6, 2, 1, 250)],
        [3, comp(7, 3, 1, 250)],
        [3, comp(8, 4, 1, 250)],
      ].map(([p, c]) => ({ ...prompts[p], completion: c }));
      // M-RoPE: a video prompt's positions end below its length (the completions sit at index + delta)
      const grid = P.tensor([ex[0].vision.grids.video[0]], { dtype: 'int64' });
      const deltas = P.scope(
        () => m.ropeIndex({ ids: P.tensor([ids[0]], { dtype: 'int64' }), videoGridThw: grid }).ropeDeltas,
      );
      assert.ok(deltas[0] < 0, `rope delta ${deltas[0]}`);
      const r = bothWays(m, rows, tok.padTokenId ?? 0);
      // row sums (what DPO and the reference log-probs use) through rowsLogps
      const sums = P.noGrad(() => P.scope(() => P.keep(rowsLogps(m, rows, tok.padTokenId ?? 0).lp.sum)));
      assertClose(
        sums,
        P.scope(() => r.plain.lp.mul(r.plain.mask).sum(1)),
        { rtol: 1e-5, atol: 0, what: 'row sums' },
      );
      const s = assertSame(r, name);
      t.diagnostic(`log-probs max rel diff ${s.lpRel.toExponential(2)}, worst gradient ${s.worst.toExponential(2)}`);
      const visual = r.names.filter(
        (n, k) => n.startsWith('visual.') && P.scope(() => r.plain.grads[k].abs().max().item()) > 0,
      );
      assert.ok(visual.length > 10, `vision-tower gradients: ${visual.length}`);
      m.dispose();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
}

test('GRPO on video prompts trains through the shared-prompt forward: each group prompt runs once', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-shared-'));
  const orig = Qwen2VLForConditionalGeneration.prototype.hidden;
  const calls = [];
  Qwen2VLForConditionalGeneration.prototype.hidden = function (o) {
    if (P.isGradEnabled()) calls.push({ rows: o.ids.shape[0], past: o.cache?.length ?? 0, cache: !!o.cache });
    return orig.call(this, o);
  };
  try {
    await videoPrompts('qwen2_5_vl', d);
    const r = await train(
      resolveConfig(
        {
          trainer: 'grpo',
          model_name_or_path: model('qwen2_5_vl'),
          train_dataset: join(d, 'prompts.jsonl'),
          output_dir: join(d, 'out'),
          reward_funcs: ['shared_id_sum_odd'],
          num_generations: 3,
          per_device_train_batch_size: 6,
          max_completion_length: 4,
          max_steps: 1,
          threads: 1,
          report: false,
          save_steps: 100,
          seed: 1,
        },
        'test',
        d,
      ),
      quiet,
    );
    assert.ok(Number.isFinite(r.history.find((h) => 'loss' in h).loss));
    // the training forward (with gradients): 2 distinct prompts prefilled, then 6 completion rows on the cache;
    // the plain forward would run 6 rows without a cache
    assert.deepEqual(calls, [
      { rows: 2, past: 0, cache: true },
      { rows: 6, past: calls[1]?.past, cache: true },
    ]);
    assert.ok(calls[1].past > 100, `the completions attend ${calls[1].past} cached prompt positions`);
  } finally {
    Qwen2VLForConditionalGeneration.prototype.hidden = orig;
    rmSync(d, { recursive: true, force: true });
  }
});

test('DPO on video prompts: the prompt of a pair runs once, for the policy (with gradients) and the reference', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-shared-'));
  const orig = Qwen2VLForConditionalGeneration.prototype.hidden;
  const calls = [];
  Qwen2VLForConditionalGeneration.prototype.hidden = function (o) {
    calls.push({ grad: P.isGradEnabled(), rows: o.ids.shape[0], past: o.cache?.length ?? 0, cache: !!o.cache });
    return orig.call(this, o);
  };
  try {
    await videoPrompts('qwen2_5_vl', d);
    const cfg = {
      trainer: 'dpo',
      model_name_or_path: model('qwen2_5_vl'),
      train_dataset: join(d, 'pref.jsonl'),
      output_dir: join(d, 'out'),
      per_device_train_batch_size: 3,
      per_device_eval_batch_size: 6,
      max_steps: 1,
      threads: 1,
      report: false,
      save_steps: 100,
      seed: 1,
    };
    const r = await train(resolveConfig(cfg, 'test', d), quiet);
    assert.ok(Number.isFinite(r.history.find((h) => 'loss' in h).loss));
    const past = calls.map((c) => c.past);
    // reference (precomputed, no gradients): 3 prompts, then their 6 chosen/rejected rows; then the policy step
    assert.deepEqual(calls, [
      { grad: false, rows: 3, past: 0, cache: true },
      { grad: false, rows: 6, past: past[1], cache: true },
      { grad: true, rows: 3, past: 0, cache: true },
      { grad: true, rows: 6, past: past[3], cache: true },
    ]);
    assert.ok(past[1] > 100 && past[3] > 100, `cached prompt positions ${past}`);
  } finally {
    Qwen2VLForConditionalGeneration.prototype.hidden = orig;
    rmSync(d, { recursive: true, force: true });
  }
});
