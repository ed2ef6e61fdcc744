// Intuitive Fine-Tuning (src/objectives/ift.ts, trainer: ift): the relation-propagation loss and its
// gradients against an independent PyTorch reference (test/fixtures/make_ift_fixture.py, a loop over
// the authors' discounted cumsum), the guessed ids and λ schedule by hand, and λ = γ = 0 giving exactly
// SFT's loss and gradients through the trainer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import { iftLoss, iftGuessIds, iftLambda, discountedCumsumRight } from '../dist/objectives/index.js';
import { resolveConfig, train } from '../dist/trainers/index.js';

test('the IFT loss and its gradients equal the PyTorch reference (γ 0.95 and 0)', () => {
  P.scope(() => {
    const f = P.loadSafetensors(join(FIXTURES, 'ift.safetensors'));
    for (const tag of ['g95', 'g0']) {
      const logits = f.get('logits').clone().requiresGrad_();
      const out = iftLoss(logits, f.get('labels'), tag === 'g95' ? 0.95 : 0);
      out.loss.backward();
      assertClose(out.loss.view(1), f.get(`loss_${tag}`), { rtol: 1e-5, what: `loss ${tag}` });
      assertClose(logits.grad, f.get(`grad_${tag}`), { rtol: 1e-5, atol: 1e-7, what: `grad ${tag}` });
    }
  });
});

test('discounted cumsum, guessed ids and the λ schedule by hand', () => {
  P.scope(() => {
    const w = discountedCumsumRight(P.tensor([[1, 2, 3]]), 0.5).toArray();
    // [1 + 0.5·2 + 0.25·3, 2 + 0.5·3, 3]
    assert.deepEqual(w, [2.75, 3.5, 3]);
    const ids = P.tensor([[5, 6, 7, 8]], { dtype: 'int64' });
    const labels = P.tensor([[-100, 7, 8, -100]], { dtype: 'int64' }); // tokens 2 and 3 are completion
    const logits = P.zeros([1, 4, 10]);
    for (const [t, v] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ])
      logits.select(1, t).select(1, v).fill_(9); // argmax at t predicts token t + 1
    // token 1 (prompt) keeps 6; tokens 2 and 3 take the guesses 2 and 3 from positions 1 and 2
    assert.deepEqual(iftGuessIds(ids, labels, logits).tolist(), [[5, 6, 2, 3]]);
  });
  const s = { lambda: 0.2, minLambda: 0, schedule: 'linear', warmupSteps: 10, noiseStd: 0 };
  assert.ok(Math.abs(iftLambda(5, s, 0) - 0.1) < 1e-12);
  assert.equal(iftLambda(20, s, 0), 0.2);
  assert.ok(Math.abs(iftLambda(20, { ...s, noiseStd: 0.5 }, 1) - 0.3) < 1e-12, 'λ·(1 + std·z)');
  assert.equal(iftLambda(20, { ...s, lambda: 0.9, noiseStd: 0.5 }, 1), 1, 'clamped to [0, 1]');
});

function data(d) {
  const rows = [];
  for (let a = 1; a <= 8; a++) rows.push({ prompt: `${a}+${a}=`, completion: `${a + a}${a % 3 ? ' ok' : ''}` });
  writeFileSync(join(d, 'sft.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return join(d, 'sft.jsonl');
}

test('trainer ift with λ = 0 and γ = 0 is SFT: the same losses and weights; with λ, γ it differs', async () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-ift-'));
  const common = {
    model_name_or_path: join(FIXTURES, 'models', 'llama'),
    train_dataset: data(d),
    per_device_train_batch_size: 4,
    max_steps: 3,
    logging_steps: 1,
    threads: 1,
    learning_rate: 1e-3,
    report: false,
    shuffle: false,
  };
  const run = async (extra, tag) => {
    const c = resolveConfig({ ...common, ...extra, output_dir: join(d, tag) }, 'test', d);
    await train(c, { progress: false, log: () => {} });
    return readFileSync(join(d, tag, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  };
  const sft = await run({ trainer: 'sft' }, 'sft');
  const ift0 = await run({ trainer: 'ift', ift_lambda: 0, ift_gamma: 0 }, 'ift0');
  const ift = await run({ trainer: 'ift' }, 'ift');
  for (let i = 0; i < 3; i++)
    assert.ok(Math.abs(sft[i].loss - ift0[i].loss) < 1e-6, `step ${i + 1}: ${sft[i].loss} vs ${ift0[i].loss}`);
  P.scope(() => {
    const a = P.loadSafetensors(join(d, 'sft', 'model.safetensors'));
    const b = P.loadSafetensors(join(d, 'ift0', 'model.safetensors'));
    for (const [k, t] of a) assertClose(b.get(k), t, { rtol: 1e-5, atol: 1e-7, what: k });
  });
  assert.ok(ift.every((m) => m.lambda === 0.2 && Number.isFinite(m.nll) && Number.isFinite(m.nll_mixed)));
  assert.notEqual(ift[1].loss, sft[1].loss, 'mixed inputs and propagation weights change the loss');
});
