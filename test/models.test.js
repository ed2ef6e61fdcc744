// HF checkpoints: logit parity with PyTorch references for each architecture (tiny random
// checkpoints from test/fixtures/make_models.py), save/load round trips, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, FIXTURES, assertClose } from './helpers.js';
import { fromPretrained, savePretrained, modelFromConfig } from '../dist/models/pretrained.js';
import { generate } from '../dist/models/generate.js';

const MODELS = ['gpt2', 'llama', 'llama-linear-sharded', 'qwen2', 'qwen3', 'mistral'];
const dirOf = (n) => join(FIXTURES, 'models', n);
const tmp = () => mkdtempSync(join(tmpdir(), 'pacer-models-'));

for (const name of MODELS) {
  test(`${name}: logits of a left-padded batch match the PyTorch reference`, () =>
    P.scope(() => {
      const pm = fromPretrained(dirOf(name));
      assert.deepEqual(pm.unexpected, []);
      const ref = P.loadSafetensors(join(dirOf(name), 'reference.safetensors'));
      const logits = P.noGrad(() => pm.model.forward({ ids: ref.get('ids'), attentionMask: ref.get('mask') }));
      assertClose(logits, ref.get('logits'), { rtol: 1e-4, what: `${name} logits` });
      pm.model.dispose();
    }));

  test(`${name}: cached and uncached greedy generation agree with the reference`, () =>
    P.scope(() => {
      const pm = fromPretrained(dirOf(name));
      const ref = P.loadSafetensors(join(dirOf(name), 'reference.safetensors'));
      const prompt = JSON.parse(readFileSync(join(dirOf(name), 'reference.json'), 'utf8')).ids[0];
      const want = ref.get('greedy').toArray();
      const cached = generate(pm.model, [prompt], { maxNewTokens: want.length, eosTokenId: [] });
      const uncached = generate(pm.model, [prompt], { maxNewTokens: want.length, eosTokenId: [], useCache: false });
      assert.deepEqual(cached[0].tokens, want);
      assert.deepEqual(uncached[0].tokens, want);
      cached[0].logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - uncached[0].logprobs[i]) < 1e-4));
      pm.model.dispose();
    }));
}

test('load -> save -> load keeps every tensor bitwise; save -> load -> save keeps the bytes', () =>
  P.scope(() => {
    for (const name of ['gpt2', 'llama', 'qwen2']) {
      const a = fromPretrained(dirOf(name), { dtype: name === 'qwen2' ? 'bfloat16' : 'float32' });
      const d1 = tmp();
      savePretrained(a, d1);
      const b = fromPretrained(d1, { dtype: name === 'qwen2' ? 'bfloat16' : 'float32' });
      for (const [[n, p], [, q]] of [...a.model.namedParameters()].map((x, i) => [
        x,
        [...b.model.namedParameters()][i],
      ])) {
        assert.equal(p.dtype, q.dtype, n);
        assert.ok(p.eq(q).all().item(), `${name}: ${n} changed in the round trip`);
      }
      const orig = P.loadSafetensors(join(dirOf(name), 'model.safetensors'));
      const saved = P.loadSafetensors(join(d1, 'model.safetensors'));
      for (const [k, t] of orig) {
        if (/attn\.bias$/.test(k)) continue; // GPT-2's causal-mask buffer is not a weight
        const key = name === 'gpt2' ? `transformer.${k}` : k;
        assert.ok(saved.has(key), `${name}: ${key} not saved`);
        assert.deepEqual(saved.get(key).shape, t.shape, key);
        assert.equal(saved.get(key).dtype, t.dtype, key);
        assert.ok(saved.get(key).eq(t).all().item(), `${name}: ${key} differs from the original file`);
      }
      const d2 = tmp();
      savePretrained(b, d2);
      assert.ok(readFileSync(join(d1, 'model.safetensors')).equals(readFileSync(join(d2, 'model.safetensors'))));
      assert.equal(
        JSON.parse(readFileSync(join(d2, 'config.json'), 'utf8')).architectures[0],
        a.config.architectures[0],
      );
      a.model.dispose();
      b.model.dispose();
    }
  }));

test('weights stored in bfloat16 load in the requested dtype', () =>
  P.scope(() => {
    const f32 = fromPretrained(dirOf('qwen2'));
    const bf = fromPretrained(dirOf('qwen2'), { dtype: 'bfloat16' });
    assert.equal(f32.model.parameters()[0].dtype, 'float32');
    assert.equal(bf.model.parameters()[0].dtype, 'bfloat16');
    const ref = P.loadSafetensors(join(dirOf('qwen2'), 'reference.safetensors'));
    const lb = P.noGrad(() => bf.model.forward({ ids: ref.get('ids'), attentionMask: ref.get('mask') })).float();
    assertClose(lb, ref.get('logits'), { rtol: 5e-2, what: 'bf16 logits' });
    f32.model.dispose();
    bf.model.dispose();
  }));

test('sharded checkpoints save with an index above the shard size', () =>
  P.scope(() => {
    const a = fromPretrained(dirOf('llama'));
    const d = tmp();
    savePretrained(a, d, { maxShardBytes: 40_000 });
    assert.ok(existsSync(join(d, 'model.safetensors.index.json')));
    const b = fromPretrained(d);
    const x = P.tensor([[5, 9, 13]], { dtype: 'int64' });
    P.noGrad(() =>
      assertClose(b.model.forward({ ids: x }), a.model.forward({ ids: x }), {
        rtol: 0,
        atol: 0,
        what: 'sharded reload',
      }),
    );
  }));

test('bad checkpoints get errors naming the file, tensor and expectation', () => {
  const d = tmp();
  assert.throws(() => fromPretrained(d), /config\.json not found/);
  const cfg = JSON.parse(readFileSync(join(dirOf('llama'), 'config.json'), 'utf8'));
  writeFileSync(
    join(d, 'config.json'),
    JSON.stringify({ ...cfg, architectures: ['FalconForCausalLM'], model_type: 'falcon' }),
  );
  assert.throws(
    () => fromPretrained(d),
    /unsupported architecture 'FalconForCausalLM'; supported: GPT2LMHeadModel, LlamaForCausalLM/,
  );
  writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
  assert.throws(() => fromPretrained(d), /no weights found \(expected model\.safetensors/);
  cpSync(join(dirOf('llama'), 'model.safetensors'), join(d, 'model.safetensors'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 48 }));
  assert.throws(
    () => fromPretrained(d),
    /model\.safetensors: tensor 'model\.layers\.0\.mlp\.(down|gate|up)_proj\.weight' has shape \[\d+,\d+\] but .*config\.json implies \[\d+,\d+\] — the config and the weights disagree/,
  );
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
  assert.throws(() => fromPretrained(d), /missing \d+ tensor\(s\) the config needs: 'model\.layers\.2\./);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, hidden_size: 'big' }));
  assert.throws(() => fromPretrained(d), /'hidden_size' must be a positive integer, got "big"/);
  writeFileSync(join(d, 'config.json'), '{"architectures": [');
  assert.throws(() => fromPretrained(d), /config\.json: not valid JSON/);
  rmSync(d, { recursive: true });
});

test('packed rows (segment ids + restarted positions) give each segment its own logits', () =>
  P.scope(() => {
    for (const name of ['llama', 'gpt2']) {
      const pm = fromPretrained(dirOf(name));
      const a = [5, 9, 13, 2],
        b = [7, 3, 11];
      const packed = P.noGrad(() =>
        pm.model.forward({
          ids: P.tensor([[...a, ...b]], { dtype: 'int64' }),
          positionIds: P.tensor([[0, 1, 2, 3, 0, 1, 2]], { dtype: 'int64' }),
          segmentIds: P.tensor([[0, 0, 0, 0, 1, 1, 1]], { dtype: 'int64' }),
        }),
      );
      const la = P.noGrad(() => pm.model.forward({ ids: P.tensor([a], { dtype: 'int64' }) }));
      const lb = P.noGrad(() => pm.model.forward({ ids: P.tensor([b], { dtype: 'int64' }) }));
      assertClose(packed.narrow(1, 0, 4), la, { rtol: 1e-5, what: `${name} segment 1` });
      assertClose(packed.narrow(1, 4, 3), lb, { rtol: 1e-5, what: `${name} segment 2` });
    }
  }));

test('modelFromConfig initialises as transformers does: N(0, initializer_range), zero biases, unit norms, scaled GPT-2 projections', () => {
  P.scope(() => {
    const std = (t) => {
      const x = t.toArray();
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
    };
    const llama = modelFromConfig({
      model_type: 'llama',
      vocab_size: 500,
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      tie_word_embeddings: true,
      attention_bias: false,
      initializer_range: 0.05,
    });
    const p = new Map(llama.namedParameters());
    assert.ok(Math.abs(std(p.get('model.embed_tokens.weight')) - 0.05) < 0.003);
    assert.ok(Math.abs(std(p.get('model.layers.1.mlp.down_proj.weight')) - 0.05) < 0.004);
    assert.ok(
      p
        .get('model.layers.0.input_layernorm.weight')
        .toArray()
        .every((v) => v === 1),
    );
    assert.ok(
      p
        .get('model.norm.weight')
        .toArray()
        .every((v) => v === 1),
    );
    const gpt = modelFromConfig({
      model_type: 'gpt2',
      vocab_size: 300,
      n_embd: 64,
      n_layer: 8,
      n_head: 4,
      n_positions: 32,
    });
    const g = new Map(gpt.namedParameters());
    assert.ok(Math.abs(std(g.get('transformer.wte.weight')) - 0.02) < 0.002);
    assert.ok(
      Math.abs(std(g.get('transformer.h.0.attn.c_proj.weight')) - 0.02 / 4) < 0.001,
      'c_proj scaled by 1/sqrt(2 n_layer)',
    );
    assert.ok(
      g
        .get('transformer.h.0.attn.c_attn.bias')
        .toArray()
        .every((v) => v === 0),
    );
    assert.ok(
      g
        .get('transformer.ln_f.weight')
        .toArray()
        .every((v) => v === 1) &&
        g
          .get('transformer.ln_f.bias')
          .toArray()
          .every((v) => v === 0),
    );
  });
});

test('a batch-shaped forward: inputsEmbeds give the ids logits; text models refuse media; the registry', () => {
  P.scope(() => {
    for (const arch of ['gpt2', 'llama', 'qwen3']) {
      const pm = P.models.fromPretrained(join(FIXTURES, 'models', arch));
      const ids = P.tensor([[3, 9, 27, 4, 11]], { dtype: 'int64' });
      const mask = P.tensor([[1, 1, 1, 1, 1]], { dtype: 'int64' });
      const a = P.noGrad(() => pm.model.forward({ ids, attentionMask: mask }));
      const b = P.noGrad(() => pm.model.forward({ inputsEmbeds: pm.model.embed(ids), attentionMask: mask }));
      assertClose(b, a, { rtol: 0, atol: 0, what: `${arch} inputsEmbeds` });
      assert.throws(
        () => pm.model.forward({ ids, pixelValues: P.zeros([4, 12]) }),
        /text-only model: it takes no pixelValues/,
      );
      assert.throws(() => pm.model.forward({ attentionMask: mask }), /neither ids nor inputsEmbeds/);
      assert.throws(() => pm.model.forward({ ids, inputsEmbeds: pm.model.embed(ids) }), /not both/);
      // the registry knows the architecture: LoRA targets, init rule, checkpoint orientation
      const entry = P.models.modelEntry(pm.config);
      assert.equal(entry.modelType, pm.modelType);
      assert.ok(entry.loraTargets.length > 0);
      pm.model.dispose();
    }
  });
  assert.throws(
    () => P.models.modelEntry({ architectures: ['T5ForConditionalGeneration'] }),
    /unsupported architecture 'T5/,
  );
  // a new architecture is one registry entry
  const gpt = P.models.modelEntry({ model_type: 'gpt2' });
  P.models.registerModel({ ...gpt, modelType: 'mygpt', architectures: ['MyGPTForCausalLM'] });
  const m = P.models.modelFromConfig({
    architectures: ['MyGPTForCausalLM'],
    vocab_size: 16,
    n_positions: 8,
    n_embd: 8,
    n_layer: 1,
    n_head: 2,
  });
  assert.equal(m.vocabSize, 16);
  m.dispose();
});

test('attention: grouped-query heads, one GEMM per key/value head, equal a per-head loop (values and gradients)', async () => {
  const { scaledDotProductAttention, attentionBias } = await import('../dist/models/attention.js');
  P.scope(() => {
    const [B, H, Hkv, T, S, d] = [2, 6, 2, 3, 5, 4];
    const g = new P.Generator(7);
    const q = P.randn([B, H, T, d], { generator: g }).requiresGrad_(true);
    const k = P.randn([B, Hkv, S, d], { generator: g }).requiresGrad_(true);
    const v = P.randn([B, Hkv, S, d], { generator: g }).requiresGrad_(true);
    const mask = P.tensor([1, 1, 1, 1, 1, 0, 1, 1, 1, 1], { dtype: 'int64' }).view(B, S); // left padding in row 1
    const causal = attentionBias(mask, B, T, S); // [B, 1, T, S]
    const perHead = P.randn([B, H, T, S], { generator: g });
    const w = P.randn([B, T, H * d], { generator: g });
    for (const bias of [null, causal, perHead]) {
      // reference: head h of row b attends with key/value head floor(h / (H / Hkv)) (transformers' repeat_kv)
      const heads = [];
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++) {
          const kv = Math.floor(h / (H / Hkv));
          const qh = q.select(0, b).select(0, h);
          let s = qh.matmul(k.select(0, b).select(0, kv).transpose(0, 1)).mul(0.5);
          if (bias) s = s.add(bias.select(0, b).select(0, bias.shape[1] === H ? h : 0));
          heads.push(s.softmax(-1).matmul(v.select(0, b).select(0, kv)));
        }
      const want = P.stack(heads)
        .view(B, H, T, d)
        .transpose(1, 2)
        .reshape(B, T, H * d);
      const got = scaledDotProductAttention(q, k, v, bias, 0.5);
      assertClose(got, want, { rtol: 1e-5, atol: 1e-6, what: 'attention' });
      const grads = (out) => {
        for (const t of [q, k, v]) t.grad = null;
        out.mul(w).sum().backward();
        return [q, k, v].map((t) => P.keep(t.grad.clone()));
      };
      const [gw, gg] = [grads(want), grads(got)];
      gg.forEach((x, i) => assertClose(x, gw[i], { rtol: 1e-5, atol: 1e-6, what: `grad ${i}` }));
    }
  });
});
