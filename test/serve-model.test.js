// OpenAI-compatible model server and client: formats, log-probs equal to local generation,
// validation, auth, and the client's retries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { P, FIXTURES } from './helpers.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { generate } from '../dist/models/generate.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { createModelServer } from '../dist/server/openai.js';
import { OpenAICompatClient } from '../dist/clients/openai.js';

const dir = join(FIXTURES, 'models', 'qwen2');

async function withServer(opts, fn) {
  const { model } = fromPretrained(dir);
  const tokenizer = Tokenizer.fromPretrained(dir);
  const server = createModelServer({ model, tokenizer, modelName: 'tiny-qwen2', ...opts });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}`, model, tokenizer);
  } finally {
    server.close();
    model.dispose();
  }
}

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

test('token ids on request (vLLM return_tokens_as_token_ids) and weight reload (SGLang update_weights_from_disk)', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { savePretrained } = await import('../dist/models/pretrained.js');
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
  });
});
