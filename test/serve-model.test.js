// OpenAI-compatible model server and client: formats, log-probs equal to local generation,
// validation, auth, the client's retries; driven also by the official openai npm client (as
// vLLM is), streaming included. Weight reload is all-or-nothing. Hostile input is in test/security/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { P } from './helpers.js';
import { listen, modelDir, withModelServer } from './server-helpers.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { createModelServer } from '../dist/server/openai.js';
import { fromPretrained, modelFromConfig, savePretrained } from '../dist/models/pretrained.js';
import { generate } from '../dist/models/generate.js';
import { scoreCompletions } from '../dist/models/scoring.js';
import { OpenAICompatClient } from '../dist/clients/openai.js';

const dir = modelDir('qwen2');
const withServer = (opts, fn) => withModelServer(opts, fn, 'qwen2');
const openai = (base, apiKey = 'none') => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });

test('completions and chat completions in OpenAI format, log-probs as local generation gives them', async () => {
  await withServer({}, async (base, model, tok) => {
    const client = new OpenAICompatClient(base, { model: 'tiny-qwen2' });
    const [[greedy]] = await client.complete(['The river'], { maxTokens: 6, temperature: 0 });
    const local = generate(model, [tok.encode('The river', { addSpecialTokens: true })], { maxNewTokens: 6 }, tok)[0];
    assert.equal(greedy.text, local.text);
    assert.equal(greedy.logprobs.length, local.tokens.length);
    greedy.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - local.logprobs[i]) < 1e-5));
    const sampled = await client.complete(['One', 'The fox'], { maxTokens: 4, temperature: 0.8, n: 3, seed: 7 });
    assert.equal(sampled.length, 2);
    assert.ok(sampled.every((g) => g.length === 3));
    const again = await client.complete(['One', 'The fox'], { maxTokens: 4, temperature: 0.8, n: 3, seed: 7 });
    assert.deepEqual(again, sampled, 'seeded');
    const chat = await (
      await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 3,
          temperature: 0,
          logprobs: true,
        }),
      })
    ).json();
    assert.equal(chat.object, 'chat.completion');
    assert.equal(chat.choices[0].message.role, 'assistant');
    assert.equal(chat.choices[0].logprobs.content.length, chat.usage.completion_tokens);
    assert.ok(['stop', 'length'].includes(chat.choices[0].finish_reason));
    const models = await (await fetch(`${base}/v1/models`)).json();
    assert.equal(models.data[0].id, 'tiny-qwen2');
  });
});

test('the server validates requests and enforces its token', async () => {
  await withServer({ token: 'k' }, async (base) => {
    const post = (path, body, auth = 'Bearer k') =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify(body),
      });
    assert.equal((await post('/v1/completions', { prompt: 'a' }, 'Bearer nope')).status, 401);
    assert.equal((await post('/v1/completions', { prompt: 'a', max_tokens: 1 })).status, 200);
    const bad = await post('/v1/completions', { prompt: 'a', temperature: 9 });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /'temperature' must be a number in \[0, 2\]/);
    assert.equal((await post('/v1/completions', { prompt: 3 })).status, 400);
    assert.equal((await post('/v1/chat/completions', { messages: [] })).status, 400);
    assert.equal((await post('/v1/embeddings', {})).status, 404);
    await assert.rejects(new OpenAICompatClient(base, { apiKey: 'wrong' }).complete(['a']), /answered 401/);
  });
  await assert.rejects(
    new OpenAICompatClient('http://127.0.0.1:9', { retries: 1, backoffMs: 5, timeoutMs: 300 }).complete(['a']),
    /did not answer after 2 attempts/,
  );
});

test('token ids (vLLM return_tokens_as_token_ids), weight reload (SGLang update_weights_from_disk)', async () => {
  await withServer({ token: 'w' }, async (base, model, tok) => {
    const client = new OpenAICompatClient(base, { model: 'tiny-qwen2', apiKey: 'w' });
    const [[c]] = await client.complete(['The river'], { maxTokens: 5, temperature: 0, tokenIds: true });
    const local = generate(model, [tok.encode('The river', { addSpecialTokens: true })], { maxNewTokens: 5 }, tok)[0];
    assert.deepEqual(c.tokenIds, local.tokens);
    assert.match(c.tokens[0], /^token_id:\d+$/);
    const [[plain]] = await client.complete(['The river'], { maxTokens: 5, temperature: 0 });
    assert.equal(plain.tokenIds, undefined);
    // new weights: the same checkpoint with its embeddings scaled, loaded from disk
    const other = fromPretrained(dir);
    const out = mkdtempSync(join(tmpdir(), 'pacer-reload-'));
    P.noGrad(() => {
      for (const [n, p] of other.model.namedParameters()) if (n.includes('embed_tokens')) p.mul_(3);
    });
    savePretrained(other, out);
    const post = (body, token = 'w') =>
      fetch(`${base}/update_weights_from_disk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    assert.equal((await post({ model_path: out }, 'nope')).status, 401);
    assert.equal((await post({ model_path: '/nonexistent' })).status, 400);
    const ok = await post({ model_path: out });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).success, true);
    const [[after]] = await client.complete(['The river'], { maxTokens: 5, temperature: 0 });
    const expect = generate(
      other.model,
      [tok.encode('The river', { addSpecialTokens: true })],
      { maxNewTokens: 5 },
      tok,
    )[0];
    after.logprobs.forEach((lp, i) =>
      assert.ok(Math.abs(lp - expect.logprobs[i]) < 1e-5, 'the served model now has the new weights'),
    );
    other.model.dispose();
    rmSync(out, { recursive: true, force: true });
  });
});

/** A server for a randomly initialised qwen2 (config patched): near-uniform next-token distributions. */
async function withRandomModel(patch, opts, fn) {
  const { config } = fromPretrained(dir);
  const cfg = { ...config, ...patch };
  const model = modelFromConfig(cfg);
  const tokenizer = Tokenizer.fromPretrained(dir);
  const server = createModelServer({ model, tokenizer, modelName: 'random', ...opts });
  const base = await listen(server);
  try {
    return await fn(base, tokenizer, cfg);
  } finally {
    server.closeAllConnections();
    server.close();
    model.dispose();
  }
}

/** Greedy log-probs of a fixed prompt, as the server gives them. */
async function greedyLogprobs(base, token, model = 'tiny-qwen2') {
  const c = new OpenAICompatClient(base, { model, apiKey: token });
  const [[g]] = await c.complete(['The river'], { maxTokens: 6, temperature: 0 });
  return g.logprobs;
}

test('item 1: a reload that fails validation leaves every served weight as it was', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-reload-'));
  try {
    // same tensor names, another MLP width: embeddings and layer-0 attention would fit, the MLP not
    const { config } = fromPretrained(dir);
    const wider = { ...config, intermediate_size: config.intermediate_size + 16 };
    const m = modelFromConfig(wider);
    savePretrained({ model: m, config: wider, modelType: 'qwen2' }, join(out, 'wider'));
    m.dispose();
    await withServer({ token: 'w' }, async (base) => {
      const before = await greedyLogprobs(base, 'w');
      const r = await fetch(`${base}/update_weights_from_disk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer w' },
        body: JSON.stringify({ model_path: join(out, 'wider') }),
      });
      assert.equal(r.status, 400);
      const j = await r.json();
      assert.equal(j.success, false);
      assert.match(j.message, /intermediate_size/);
      assert.deepEqual(await greedyLogprobs(base, 'w'), before, 'not one weight changed');
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('item 2: streaming (openai client): SSE chunks add up to the non-streamed answer, usage, [DONE]', async () => {
  await withServer({}, async (base) => {
    const client = openai(base);
    const req = { model: 'tiny-qwen2', prompt: ['The river', 'One'], max_tokens: 12, n: 2, seed: 3, stop: ['ver'] };
    const whole = await client.completions.create({ ...req, temperature: 0.9 });
    const stream = await client.completions.create({
      ...req,
      temperature: 0.9,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', '', '', ''];
    const finish = [];
    let usage = null;
    let chunks = 0;
    for await (const ch of stream) {
      chunks++;
      for (const c of ch.choices) {
        texts[c.index] += c.text;
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
      if (ch.usage) usage = ch.usage;
    }
    assert.ok(chunks > 4, `${chunks} chunks`);
    assert.deepEqual(
      texts,
      whole.choices.map((c) => c.text),
    );
    assert.deepEqual(
      finish,
      whole.choices.map((c) => c.finish_reason),
    );
    assert.deepEqual(usage, whole.usage);
    // chat: the first delta carries the role, then content deltas
    const chatReq = { model: 'tiny-qwen2', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, temperature: 0 };
    const chat = await client.chat.completions.create(chatReq);
    const roles = [];
    let content = '';
    for await (const ch of await client.chat.completions.create({ ...chatReq, stream: true })) {
      assert.equal(ch.object, 'chat.completion.chunk');
      if (ch.choices[0]?.delta?.role) roles.push(ch.choices[0].delta.role);
      content += ch.choices[0]?.delta?.content ?? '';
    }
    assert.deepEqual(roles, ['assistant']);
    assert.equal(content, chat.choices[0].message.content);
    // on the wire: data: events, the last one [DONE]; no usage chunk unless asked for
    const raw = await (
      await fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'The river', max_tokens: 3, temperature: 0, stream: true }),
      })
    ).text();
    const events = raw.split('\n\n').filter(Boolean);
    assert.ok(events.every((e) => e.startsWith('data: ')));
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.ok(events.slice(0, -1).every((e) => !('usage' in JSON.parse(e.slice(6)))));
  });
});

test('item 4: /v1/models answers while a large generation runs; the queue is bounded (503 + Retry-After)', async () => {
  // a random-weight model with a long context, so one request can generate for a long time
  const logs = [];
  const opts = { modelName: 'long', maxQueue: 1, log: (s) => logs.push(s) };
  await withRandomModel({ max_position_embeddings: 4096 }, opts, async (base, tokenizer, config) => {
    const eos = [tokenizer.eosTokenId, config.eos_token_id].filter((x) => x != null);
    const big = await openai(base).completions.create({
      prompt: ['The river', 'One'],
      n: 8,
      max_tokens: 4000,
      temperature: 1,
      logit_bias: Object.fromEntries(eos.map((id) => [id, -100])),
      stream: true,
    });
    const it = big[Symbol.asyncIterator]();
    await it.next(); // generation is under way
    const models = await fetch(`${base}/v1/models`);
    assert.equal((await models.json()).data[0].id, 'long');
    assert.equal((await it.next()).done, false, '/v1/models answered while the large request was streaming');
    // one more request may wait, the next is refused; which of the two is which is up to the network
    const post = () =>
      fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'x', max_tokens: 1 }),
      });
    const [a, b] = [post(), post()];
    const refused = await Promise.race([a, b]); // the waiting one cannot finish before the large one
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    big.controller.abort(); // a client that goes away stops its generation, and the waiting request runs
    const statuses = (await Promise.all([a, b])).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 503]);
    assert.ok(
      logs.some((l) => /client went away; its generation stopped/.test(l)),
      logs.join('\n'),
    );
  });
});

test('item 4: work per request is bounded (prompts × n, tokens)', async () => {
  await withServer({ maxBatchTokens: 2000 }, async (base) => {
    const post = (body) =>
      fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const many = await post({ prompt: new Array(64).fill('The river'), n: 64, max_tokens: 4 });
    assert.equal(many.status, 400);
    assert.match(
      (await many.json()).error.message,
      /4096 sequences \(64 prompts × n 64\).*256 per request \(--max-num-seqs\)/,
    );
    const long = await post({ prompt: new Array(32).fill('The river'), n: 2, max_tokens: 40 });
    assert.equal(long.status, 400);
    assert.match((await long.json()).error.message, /allows 2000 per request \(--max-batch-tokens\)/);
  });
});

test('item 5: prompts past the context get 400 with the limit (vLLM wording); max_tokens 0 is 400', async () => {
  for (const name of ['gpt2', 'llama'])
    await withModelServer(
      {},
      async (base, _model, tok) => {
        const client = openai(base);
        const ids = tok.encode('a b c d e f g h i j k l m n o p q r s t u v w x y z '.repeat(3));
        assert.ok(ids.length > 64);
        await assert.rejects(client.completions.create({ prompt: ids, max_tokens: 4 }), (e) => {
          assert.equal(e.status, 400);
          assert.match(e.message, /maximum context length is 64 tokens/);
          return true;
        });
        const sixty = ids.slice(0, 60);
        await assert.rejects(client.completions.create({ prompt: sixty, max_tokens: 10 }), (e) => {
          assert.equal(e.status, 400);
          assert.match(
            e.message,
            /maximum context length is 64 tokens\. However, you requested 70 tokens \(60 in the messages, 10 in the/,
          );
          return true;
        });
        // without max_tokens the default (16) is shortened to what fits
        const fit = await client.completions.create({ prompt: sixty, temperature: 0 });
        assert.ok(fit.usage.completion_tokens <= 4);
        await assert.rejects(client.completions.create({ prompt: 'a', max_tokens: 0 }), (e) => {
          assert.equal(e.status, 400);
          assert.equal(e.param, 'max_tokens');
          return true;
        });
        // pacer's own client reports the 400 at once, with the server's message
        const pc = new OpenAICompatClient(base, { retries: 3, backoffMs: 5 });
        await assert.rejects(
          pc.complete([tok.decode(ids)], { maxTokens: 4 }),
          /answered 400: .*maximum context length/,
        );
      },
      name,
    );
});

test('item 6: unseeded samples differ; top_logprobs, echo and logit_bias as OpenAI defines them', async () => {
  await withRandomModel({}, {}, async (base) => {
    // near-uniform over 384 tokens: two unseeded requests agree with probability about 384^-8
    const sample = () => openai(base).completions.create({ prompt: 'The river', max_tokens: 8, temperature: 1 });
    const [a, b] = [await sample(), await sample()];
    assert.notEqual(a.choices[0].text, b.choices[0].text, 'no seed: a fresh seed per request');
    const seeded = () =>
      openai(base).completions.create({ prompt: 'The river', max_tokens: 8, temperature: 1, seed: 5 });
    assert.equal((await seeded()).choices[0].text, (await seeded()).choices[0].text);
  });
  await withServer({}, async (base, model, tok) => {
    const client = openai(base);
    // top_logprobs: the k best raw log-probs at each position, best first, with the chosen token
    const prompt = tok.encode('The river', { addSpecialTokens: true });
    const g = await client.completions.create({ prompt: 'The river', max_tokens: 1, temperature: 0, logprobs: 3 });
    const first = g.choices[0].logprobs.top_logprobs[0];
    const logits = P.noGrad(() =>
      model
        .forward({ ids: P.tensor(prompt, { dtype: 'int64' }).view(1, prompt.length) })
        .select(1, -1)
        .logSoftmax(-1)
        .toArray(),
    );
    const best = [...logits.keys()].sort((i, j) => logits[j] - logits[i]).slice(0, 3);
    assert.deepEqual(
      Object.keys(first),
      best.map((i) => tok.decode([i])),
    );
    best.forEach((i) => assert.ok(Math.abs(first[tok.decode([i])] - logits[i]) < 1e-5));
    assert.equal(g.choices[0].logprobs.token_logprobs[0], Math.max(...Object.values(first)), 'greedy picks the best');
    // chat: top_logprobs entries with bytes
    const chat = await client.chat.completions.create({
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    assert.equal(chat.choices[0].logprobs.content[0].top_logprobs.length, 2);
    // echo: the prompt comes back first, its log-probs as scoring gives them (first token: null)
    const e = await client.completions.create({
      prompt: 'The river',
      max_tokens: 2,
      temperature: 0,
      echo: true,
      logprobs: 0,
    });
    assert.ok(e.choices[0].text.startsWith('The river'));
    const lp = e.choices[0].logprobs.token_logprobs;
    assert.equal(lp.length, prompt.length + 2);
    assert.equal(lp[0], null);
    const [scored] = scoreCompletions(model, [{ prompt: prompt.slice(0, 1), completion: prompt.slice(1) }]);
    scored.tokenLogprobs.forEach((x, i) => assert.ok(Math.abs(x - lp[i + 1]) < 1e-5));
    const scoreOnly = await client.completions.create({ prompt: 'The river', max_tokens: 0, echo: true, logprobs: 0 });
    assert.equal(scoreOnly.choices[0].text, 'The river');
    assert.equal(scoreOnly.usage.completion_tokens, 0);
    // logit_bias: +100 forces a token; -100 forbids the greedy one
    const forced = await client.completions.create({
      prompt: 'The river',
      max_tokens: 4,
      temperature: 0,
      logit_bias: { 42: 100 },
    });
    const plain = await client.completions.create({ prompt: 'The river', max_tokens: 1, temperature: 0, logprobs: 0 });
    assert.equal(forced.choices[0].text, tok.decode([42, 42, 42, 42]));
    const greedyId = tok.encode(plain.choices[0].logprobs.tokens[0])[0];
    const banned = await client.completions.create({
      prompt: 'The river',
      max_tokens: 1,
      temperature: 0,
      logit_bias: { [greedyId]: -100 },
    });
    assert.notEqual(banned.choices[0].text, plain.choices[0].text);
    // refused by name, as OpenAI and vLLM would fail them rather than ignore them
    for (const [k, v] of [
      ['tools', [{ type: 'function', function: { name: 'f', parameters: {} } }]],
      ['response_format', { type: 'json_object' }],
    ])
      await assert.rejects(
        client.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], [k]: v }),
        (err) => {
          assert.equal(err.status, 400);
          assert.equal(err.param, k);
          return true;
        },
      );
    await assert.rejects(
      client.completions.create({ prompt: 'x', best_of: 3 }),
      (err) => err.status === 400 && err.param === 'best_of',
    );
    // without a model name pacer's client lets the server use its own; an unknown name is a 404 at once
    const [[d]] = await new OpenAICompatClient(base).complete(['x'], { maxTokens: 1 });
    assert.equal(d.logprobs.length, 1);
    await assert.rejects(
      new OpenAICompatClient(base, { model: 'gpt-4o', retries: 3 }).complete(['x']),
      /answered 404: .*The model `gpt-4o` does not exist/,
    );
    await assert.rejects(client.completions.create({ model: 'gpt-4o', prompt: 'x' }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /The model `gpt-4o` does not exist/);
      return true;
    });
    await assert.rejects(
      client.chat.completions.create({ messages: [{ role: 'wizard', content: 'x' }] }),
      (err) => err.status === 400 && /role must be one of system, developer, user, assistant/.test(err.message),
    );
    await assert.rejects(
      client.completions.create({ prompt: 'x', top_p: 0 }),
      (err) => err.status === 400 && err.param === 'top_p',
    );
  });
});

test('reload reads GPT-2 checkpoints (Conv1D weights stored transposed) and sharded ones (index + shards)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-reload-'));
  try {
    const other = fromPretrained(modelDir('gpt2'));
    P.noGrad(() => {
      for (const [n, p] of other.model.namedParameters()) if (/c_attn\.weight|wte/.test(n)) p.mul_(1.5);
    });
    savePretrained(other, join(out, 'gpt2'));
    await withModelServer(
      { token: 'w' },
      async (base, _model, tok) => {
        const r = await fetch(`${base}/update_weights_from_disk`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer w' },
          body: JSON.stringify({ model_path: join(out, 'gpt2') }),
        });
        assert.equal(r.status, 200, await r.text());
        const c = new OpenAICompatClient(base, { apiKey: 'w' });
        const [[got]] = await c.complete(['The river'], { maxTokens: 5, temperature: 0 });
        const ids = tok.encode('The river', { addSpecialTokens: true });
        const want = generate(other.model, [ids], { maxNewTokens: 5 }, tok)[0];
        want.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - got.logprobs[i]) < 1e-5));
      },
      'gpt2',
    );
    other.model.dispose();
    await withModelServer(
      { token: 'w' },
      async (base) => {
        const before = await greedyLogprobs(base, 'w', 'tiny-llama-linear-sharded');
        const r = await fetch(`${base}/update_weights_from_disk`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer w' },
          body: JSON.stringify({ model_path: modelDir('llama-linear-sharded') }),
        });
        assert.equal(r.status, 200, await r.text());
        assert.deepEqual(
          await greedyLogprobs(base, 'w', 'tiny-llama-linear-sharded'),
          before,
          'the same weights again',
        );
      },
      'llama-linear-sharded',
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
