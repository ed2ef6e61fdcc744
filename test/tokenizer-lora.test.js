// Tokenizers and chat templates; scoring; generation features; LoRA in PEFT layout; scalar heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { generate, processLogits } from '../dist/models/generate.js';
import { scoreCompletions } from '../dist/models/scoring.js';
import { LoraAdapters } from '../dist/models/lora.js';
import { ScalarHeadModel } from '../dist/models/heads.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const dirOf = (n) => join(FIXTURES, 'models', n);
const ref = (n) => JSON.parse(readFileSync(join(dirOf(n), 'reference.json'), 'utf8'));

test('byte-level BPE encodes as the reference BPE does, and decodes back', () => {
  for (const name of ['gpt2', 'llama']) {
    const tok = Tokenizer.fromPretrained(dirOf(name));
    const r = ref(name);
    r.texts.forEach((t, i) => {
      assert.deepEqual(tok.encode(t), r.ids[i], `${name}: ${t}`);
      assert.equal(tok.decode(tok.encode(t)), t);
    });
  }
  const llama = Tokenizer.fromPretrained(dirOf('llama'));
  assert.deepEqual(llama.encode('The', { addSpecialTokens: true })[0], llama.bosTokenId, 'the post-processor adds BOS');
  const gpt2 = Tokenizer.fromPretrained(dirOf('gpt2'));
  assert.deepEqual(gpt2.encode('The', { addSpecialTokens: true }), gpt2.encode('The'), 'GPT-2 adds nothing');
  assert.equal(llama.eosToken, '<|im_end|>');
  assert.equal(typeof llama.eosTokenId, 'number');
  assert.equal(llama.decode([llama.eosTokenId, ...llama.encode('hi')], { skipSpecialTokens: true }), 'hi');
});

test('chat templates render with @huggingface/jinja', () => {
  const tok = Tokenizer.fromPretrained(dirOf('qwen2'));
  const s = tok.applyChatTemplate([{ role: 'user', content: 'Two and two?' }], { addGenerationPrompt: true });
  assert.equal(s, '<|im_start|>user\nTwo and two?<|im_end|>\n<|im_start|>assistant\n');
  const ids = tok.encode(s);
  assert.equal(ids[0], tok.tokenToId('<|im_start|>'));
  assert.throws(
    () =>
      new Tokenizer(JSON.parse(readFileSync(join(dirOf('gpt2'), 'tokenizer.json'), 'utf8')), {}).applyChatTemplate([]),
    /no chat_template/,
  );
  assert.throws(() => Tokenizer.fromPretrained(tmpdir()), /tokenizer\.json not found/);
});

test('scores do not depend on how items are batched', () =>
  P.scope(() => {
    const pm = fromPretrained(dirOf('llama'));
    const tok = Tokenizer.fromPretrained(dirOf('llama'));
    const items = [
      ['The river', ' runs down'],
      ['One and one make', ' two'],
      ['The fox', ' runs through the field'],
      ['A', ' small boat'],
    ].map(([p, c]) => ({ prompt: tok.encode(p, { addSpecialTokens: true }), completion: tok.encode(c) }));
    const one = scoreCompletions(pm.model, items, { batchSize: 1 });
    const all = scoreCompletions(pm.model, items, { batchSize: 4 });
    const two = scoreCompletions(pm.model, items, { batchSize: 3 });
    one.forEach((r, i) => {
      assert.equal(r.tokens, items[i].completion.length);
      assert.ok(r.logprob < 0);
      assert.ok(Math.abs(r.logprob - all[i].logprob) < 1e-4, `${r.logprob} vs ${all[i].logprob}`);
      assert.ok(Math.abs(r.logprob - two[i].logprob) < 1e-4);
    });
    // hand check: the same sum from full-sequence logits
    const seq = [...items[0].prompt, ...items[0].completion];
    const logits = P.noGrad(() => pm.model.forward({ ids: P.tensor([seq], { dtype: 'int64' }) })).logSoftmax(-1);
    let s = 0;
    for (let j = items[0].prompt.length; j < seq.length; j++)
      s += logits
        .select(1, j - 1)
        .select(1, seq[j])
        .item();
    assert.ok(Math.abs(s - one[0].logprob) < 1e-4);
  }));

test('batched left-padded generation equals one-by-one generation; sampling is seeded', () =>
  P.scope(() => {
    const pm = fromPretrained(dirOf('qwen3'));
    const tok = Tokenizer.fromPretrained(dirOf('qwen3'));
    const prompts = ['The river runs', 'One', 'The old clock in the hall'].map((t) =>
      tok.encode(t, { addSpecialTokens: true }),
    );
    const batch = generate(pm.model, prompts, { maxNewTokens: 6, eosTokenId: [] }, tok);
    prompts.forEach((p, i) =>
      assert.deepEqual(
        generate(pm.model, [p], { maxNewTokens: 6, eosTokenId: [] }).map((r) => r.tokens)[0],
        batch[i].tokens,
      ),
    );
    assert.equal(typeof batch[0].text, 'string');
    const s1 = generate(pm.model, prompts, { maxNewTokens: 6, temperature: 0.9, topP: 0.9, seed: 5, eosTokenId: [] });
    const s2 = generate(pm.model, prompts, { maxNewTokens: 6, temperature: 0.9, topP: 0.9, seed: 5, eosTokenId: [] });
    assert.deepEqual(
      s1.map((r) => r.tokens),
      s2.map((r) => r.tokens),
    );
    const k1 = generate(pm.model, prompts, { maxNewTokens: 6, doSample: true, topK: 1, seed: 1, eosTokenId: [] });
    assert.deepEqual(
      k1.map((r) => r.tokens),
      batch.map((r) => r.tokens),
      'top-k 1 sampling is greedy',
    );
    s1.forEach((r) => r.logprobs.forEach((lp) => assert.ok(lp <= 0 && Number.isFinite(lp))));
    // EOS ends a row; stop strings cut the text
    const first = batch[0].tokens[2];
    const e = generate(pm.model, [prompts[0]], { maxNewTokens: 6, eosTokenId: first }, tok)[0];
    assert.equal(e.finishReason, 'eos');
    assert.equal(e.tokens.length, batch[0].tokens.indexOf(first) + 1);
    const stopText = tok.decode(batch[0].tokens.slice(0, 2), { skipSpecialTokens: true });
    if (stopText.trim()) {
      const st = generate(
        pm.model,
        [prompts[0]],
        { maxNewTokens: 6, eosTokenId: [], stopStrings: [stopText.trim()] },
        tok,
      )[0];
      assert.equal(st.finishReason, 'stop');
      assert.ok(!st.text.includes(stopText.trim()));
    }
  }));

test('logits processors: top-k, top-p, min-p, temperature (hand-computed)', () =>
  P.scope(() => {
    const l = P.tensor([[Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]]);
    const finite = (t) => t.isfinite().toArray();
    assert.deepEqual(finite(processLogits(l, { topK: 2 })), [1, 1, 0, 0]);
    assert.deepEqual(finite(processLogits(l, { topP: 0.7 })), [1, 1, 0, 0]);
    assert.deepEqual(finite(processLogits(l, { topP: 0.85 })), [1, 1, 1, 0]);
    assert.deepEqual(finite(processLogits(l, { topP: 0.1 })), [1, 0, 0, 0]);
    assert.deepEqual(finite(processLogits(l, { minP: 0.2 })), [1, 1, 1, 0]);
    const t = processLogits(l, { temperature: 2 }).softmax(-1).toArray();
    const z = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
    const sum = z.reduce((a, b) => a + b);
    t.forEach((v, i) => assert.ok(Math.abs(v - z[i] / sum) < 1e-6));
    assert.throws(() => processLogits(l, { temperature: 0 }), /temperature must be > 0/);
  }));

test('LoRA: zero-init is a no-op, merge/unmerge agree, only adapters train, PEFT round trip', () =>
  P.scope(() => {
    const pm = fromPretrained(dirOf('llama'));
    const x = P.tensor([[3, 7, 11, 2]], { dtype: 'int64' });
    const base = P.noGrad(() => pm.model.forward({ ids: x }));
    const lora = new LoraAdapters(
      pm.model,
      { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] },
      { generator: new P.Generator(0) },
    );
    assert.equal(lora.targets.size, 4);
    assertClose(
      P.noGrad(() => pm.model.forward({ ids: x })),
      base,
      { rtol: 0, atol: 0, what: 'zero-init LoRA' },
    );
    const trainable = [...pm.model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
    assert.equal(trainable.length, 8);
    assert.ok(trainable.every((n) => /lora\.lora_[AB]\.weight$/.test(n)));
    P.noGrad(() => lora.parameters().forEach((p) => p.normal_(0, 0.2)));
    const adapted = P.noGrad(() => pm.model.forward({ ids: x }));
    assert.ok(adapted.sub(base).abs().max().item() > 1e-3, 'adapters change the output');
    assertClose(
      lora.withDisabled(() => P.noGrad(() => pm.model.forward({ ids: x }))),
      base,
      { rtol: 0, atol: 0, what: 'disabled adapters = base model' },
    );
    lora.merge();
    assertClose(
      P.noGrad(() => pm.model.forward({ ids: x })),
      adapted,
      { rtol: 1e-5, what: 'merged' },
    );
    lora.unmerge();
    assertClose(
      P.noGrad(() => pm.model.forward({ ids: x })),
      adapted,
      { rtol: 1e-5, what: 'unmerged' },
    );
    // gradients reach only the adapters
    pm.model.forward({ ids: x }).logSoftmax(-1).mean().backward();
    assert.ok(lora.parameters().every((p) => p.grad));
    assert.equal(pm.model.model.embed_tokens.weight.grad, null);
    const d = mkdtempSync(join(tmpdir(), 'pacer-lora-'));
    lora.save(d);
    const cfg = JSON.parse(readFileSync(join(d, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.peft_type, 'LORA');
    assert.deepEqual(cfg.target_modules, ['q_proj', 'v_proj']);
    assert.ok(
      P.readHeader(join(d, 'adapter_model.safetensors')).tensors.has(
        'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      ),
    );
    const fresh = fromPretrained(dirOf('llama'));
    LoraAdapters.load(fresh.model, d);
    assertClose(
      P.noGrad(() => fresh.model.forward({ ids: x })),
      adapted,
      { rtol: 1e-6, what: 'reloaded adapters' },
    );
    assert.throws(
      () => new LoraAdapters(fresh.model, { r: 2, lora_alpha: 2, target_modules: ['nope'] }),
      /matched no Linear layer/,
    );
  }));

test('scalar head reads the last non-padding token', () =>
  P.scope(() => {
    const pm = fromPretrained(dirOf('gpt2'));
    const rm = new ScalarHeadModel(pm.model);
    const seq = [10, 20, 30];
    const plain = P.noGrad(() => rm.forward({ ids: P.tensor([seq], { dtype: 'int64' }) })).item();
    const right = P.noGrad(() =>
      rm.forward({
        ids: P.tensor([[...seq, 0, 0]], { dtype: 'int64' }),
        attentionMask: P.tensor([[1, 1, 1, 0, 0]], { dtype: 'int64' }),
      }),
    ).item();
    const left = P.noGrad(() =>
      rm.forward({
        ids: P.tensor([[0, 0, ...seq]], { dtype: 'int64' }),
        attentionMask: P.tensor([[0, 0, 1, 1, 1]], { dtype: 'int64' }),
      }),
    ).item();
    assert.ok(Math.abs(plain - right) < 1e-5, `${plain} vs ${right}`);
    assert.ok(Math.abs(plain - left) < 1e-5, `${plain} vs ${left}`);
    assert.ok(rm.parameters().some((p) => p === rm.score.weight));
  }));
