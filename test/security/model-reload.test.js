// Hostile input to the model server's weight reload (POST /update_weights_from_disk): who may
// reload (token or reload root), browsers (cross-origin, text/plain), paths outside the root
// (traversal, symlinks), files that leak or hang (a secret behind config.json, a FIFO), oversized and
// truncated files. After every refusal the served weights are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAICompatClient } from '../../dist/clients/openai.js';
import { modelDir, startCli, withModelServer } from '../server-helpers.js';

const SECRET = 'sk-live-SECRET-0123456789abcdef';

/** A temp tree: root/ (the reload root) with a valid checkpoint copy, and outside/ with a secret. */
function tree() {
  const t = mkdtempSync(join(tmpdir(), 'pacer-reload-sec-'));
  const root = join(t, 'root');
  mkdirSync(root);
  cpSync(modelDir('qwen2'), join(root, 'good'), { recursive: true });
  mkdirSync(join(t, 'outside'));
  writeFileSync(join(t, 'outside', 'secret.txt'), SECRET);
  cpSync(modelDir('qwen2'), join(t, 'outside', 'model'), { recursive: true });
  return { t, root, cleanup: () => rmSync(t, { recursive: true, force: true }) };
}

const reload = (base, body, headers = {}) =>
  fetch(`${base}/update_weights_from_disk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const greedy = async (base, token) =>
  (
    await new OpenAICompatClient(base, { apiKey: token }).complete(['The river'], { maxTokens: 4, temperature: 0 })
  )[0][0].logprobs;

test('without a token, reloads are refused unless the server has a reload root', async () => {
  const { root, cleanup } = tree();
  try {
    await withModelServer({}, async (base) => {
      const r = await reload(base, { model_path: join(root, 'good') });
      assert.equal(r.status, 403);
      assert.match((await r.json()).message, /--token T .* or with --reload-root DIR/);
    });
    await withModelServer({ token: 'k' }, async (base) => {
      assert.equal((await reload(base, { model_path: join(root, 'good') })).status, 401);
      assert.equal((await reload(base, { model_path: join(root, 'good') }, { authorization: 'Bearer k' })).status, 200);
    });
    await withModelServer({ reloadRoot: root }, async (base) => {
      assert.equal((await reload(base, { model_path: join(root, 'good') })).status, 200);
      assert.equal((await reload(base, { model_path: 'good' })).status, 200, 'relative to the root');
    });
  } finally {
    cleanup();
  }
});

test('a browser cannot reload: cross-origin requests and non-JSON content types are refused', async () => {
  const { root, cleanup } = tree();
  try {
    await withModelServer({ reloadRoot: root }, async (base) => {
      const before = await greedy(base);
      // what a page on another site can send without a preflight: text/plain, with its Origin
      const simple = await reload(
        base,
        { model_path: join(root, 'good') },
        { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(simple.status, 403);
      const json = await reload(base, { model_path: join(root, 'good') }, { origin: 'http://evil.example' });
      assert.equal(json.status, 403);
      const plain = await reload(base, { model_path: join(root, 'good') }, { 'content-type': 'text/plain' });
      assert.equal(plain.status, 415);
      assert.deepEqual(await greedy(base), before);
    });
  } finally {
    cleanup();
  }
});

test('paths outside the reload root are refused alike, whether or not they exist (traversal, symlinks)', async () => {
  const { t, root, cleanup } = tree();
  try {
    mkdirSync(join(root, 'linked'));
    symlinkSync(join(t, 'outside', 'model', 'config.json'), join(root, 'linked', 'config.json'));
    symlinkSync(join(t, 'outside', 'model', 'model.safetensors'), join(root, 'linked', 'model.safetensors'));
    symlinkSync(join(t, 'outside', 'model'), join(root, 'dirlink'));
    await withModelServer({ reloadRoot: root }, async (base) => {
      const before = await greedy(base);
      const answers = [];
      for (const p of [
        join(t, 'outside', 'model'), // exists
        join(t, 'outside', 'nothing-here'), // does not
        join(root, '..', 'outside', 'model'),
        '../outside/model',
        'dirlink',
        '/etc',
      ]) {
        const r = await reload(base, { model_path: p });
        assert.equal(r.status, 403, p);
        answers.push((await r.json()).message);
      }
      assert.equal(new Set(answers).size, 1, 'one answer for every outside path: no existence oracle');
      const l = await reload(base, { model_path: 'linked' });
      assert.equal(l.status, 403);
      assert.match((await l.json()).message, /config\.json resolves outside the server's reload root/);
      assert.deepEqual(await greedy(base), before);
    });
  } finally {
    cleanup();
  }
});

test('file content never appears in errors: a secret behind config.json, a symlink to it', async () => {
  const { t, root, cleanup } = tree();
  try {
    mkdirSync(join(root, 'leak'));
    writeFileSync(join(root, 'leak', 'config.json'), SECRET); // not JSON: the parser's message quotes it
    mkdirSync(join(root, 'leak2'));
    writeFileSync(join(root, 'secret.txt'), SECRET);
    symlinkSync(join(root, 'secret.txt'), join(root, 'leak2', 'config.json'));
    mkdirSync(join(root, 'leak3'));
    symlinkSync(join(t, 'outside', 'secret.txt'), join(root, 'leak3', 'config.json'));
    await withModelServer({ reloadRoot: root }, async (base) => {
      for (const p of ['leak', 'leak2', 'leak3']) {
        const r = await reload(base, { model_path: join(root, p) });
        const text = await r.text();
        assert.ok([400, 403].includes(r.status), `${p}: ${r.status}`);
        assert.ok(!text.includes('sk-live') && !text.includes('SECRET'), `${p} leaks: ${text}`);
      }
    });
  } finally {
    cleanup();
  }
});

test('oversized, truncated and device files are refused before they are read', async () => {
  const { root, cleanup } = tree();
  try {
    cpSync(join(root, 'good'), join(root, 'big'), { recursive: true });
    writeFileSync(join(root, 'big', 'config.json'), `{"pad": "${'x'.repeat(2 ** 21)}"}`);
    cpSync(join(root, 'good'), join(root, 'cut'), { recursive: true });
    const w = join(root, 'cut', 'model.safetensors');
    truncateSync(w, statSync(w).size - 100);
    cpSync(join(root, 'good'), join(root, 'dev'), { recursive: true });
    rmSync(join(root, 'dev', 'model.safetensors'));
    symlinkSync('/dev/zero', join(root, 'dev', 'model.safetensors'));
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE(2n ** 40n);
    cpSync(join(root, 'good'), join(root, 'hdr'), { recursive: true });
    writeFileSync(join(root, 'hdr', 'model.safetensors'), Buffer.concat([header, Buffer.from('{}')]));
    await withModelServer({ token: 'k', reloadRoot: root }, async (base) => {
      const before = await greedy(base, 'k');
      const expect = async (p, re) => {
        const r = await reload(base, { model_path: p }, { authorization: 'Bearer k' });
        const m = (await r.json()).message;
        assert.ok([400, 403].includes(r.status), `${p}: ${r.status} ${m}`);
        assert.match(m, re, p);
      };
      await expect('big', /config\.json is larger than 1048576 bytes/);
      await expect('cut', /file size does not match its header/);
      await expect('dev', /resolves outside the server's reload root|is not a regular file/);
      await expect('hdr', /model\.safetensors is not a safetensors file/);
      assert.deepEqual(await greedy(base, 'k'), before);
    });
  } finally {
    cleanup();
  }
});

test('a FIFO in the checkpoint does not freeze the server (pacer serve model, --token and --reload-root)', async () => {
  const { root, cleanup } = tree();
  const args = ['serve', 'model', '--model', modelDir('qwen2'), '--port', '0', '--threads', '1'];
  const srv = await startCli([...args, '--token', 'k']);
  try {
    cpSync(join(root, 'good'), join(root, 'fifo'), { recursive: true });
    rmSync(join(root, 'fifo', 'config.json'));
    assert.equal(spawnSync('mkfifo', [join(root, 'fifo', 'config.json')]).status, 0);
    const base = `${srv.info.url}:${srv.info.port}`;
    // the signal only keeps a frozen server from hanging the test; a working one answers at once
    const r = await fetch(`${base}/update_weights_from_disk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: JSON.stringify({ model_path: join(root, 'fifo') }),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(r.status, 400);
    assert.match((await r.json()).message, /config\.json is not a regular file/);
    const models = await fetch(`${base}/v1/models`, {
      headers: { authorization: 'Bearer k' },
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(models.status, 200);
  } finally {
    srv.stop();
  }
  // --reload-root without a token: reloads inside the root only
  const rooted = await startCli([...args, '--reload-root', root]);
  try {
    const base = `${rooted.info.url}:${rooted.info.port}`;
    assert.equal((await reload(base, { model_path: 'good' })).status, 200);
    assert.equal((await reload(base, { model_path: modelDir('qwen2') })).status, 403);
  } finally {
    rooted.stop();
    cleanup();
  }
});
