// Helpers for the server tests: a model server on 127.0.0.1 port 0, a `pacer serve …` child
// process (its first stdout line is its address), and raw HTTP over one socket.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES } from './helpers.js';
import { fromPretrained } from '../dist/models/pretrained.js';
import { Tokenizer } from '../dist/tokenizers/index.js';
import { createModelServer } from '../dist/server/openai.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const modelDir = (name = 'qwen2') => join(FIXTURES, 'models', name);

export async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

/** Run fn(base, model, tokenizer) against a model server for the fixture `name`. */
export async function withModelServer(opts, fn, name = 'qwen2') {
  const { model } = fromPretrained(modelDir(name));
  const tokenizer = Tokenizer.fromPretrained(modelDir(name));
  const server = createModelServer({ model, tokenizer, modelName: `tiny-${name}`, ...opts });
  const base = await listen(server);
  try {
    return await fn(base, model, tokenizer);
  } finally {
    server.closeAllConnections?.();
    server.close();
    model.dispose();
  }
}

/** Start `pacer ARGS…` (a server), resolve with its first stdout line (JSON) once printed. */
export async function startCli(args, env = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/pacer.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const info = await new Promise((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) res(JSON.parse(buf.split('\n')[0]));
    });
    child.on('exit', (c) => rej(new Error(`server exited ${c}: ${stderr}`)));
  });
  /** Resolves once stderr matches re (the server writes it; the pipe may deliver it a little later). */
  const waitStderr = (re) =>
    new Promise((res) => {
      if (re.test(stderr)) return res(stderr);
      const on = () => {
        if (!re.test(stderr)) return;
        child.stderr.off('data', on);
        res(stderr);
      };
      child.stderr.on('data', on);
    });
  return { child, info, stderr: () => stderr, waitStderr, stop: () => child.kill('SIGKILL') };
}

/**
 * Send raw bytes over one TCP connection and collect everything the server sends until it closes
 * the connection (or `until(text)` holds); reports whether the close was clean (FIN) or a reset.
 */
export function rawExchange(port, writes, { until } = {}) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    let reset = false;
    const finish = () => resolve({ data, reset });
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (until?.(data)) {
        sock.destroy();
        finish();
      }
    });
    sock.on('error', (e) => {
      if (e.code === 'ECONNRESET') reset = true;
      else reject(e);
    });
    sock.on('close', finish);
    sock.on('connect', async () => {
      for (const w of writes) {
        if (sock.destroyed) break;
        await new Promise((r) => sock.write(w, r));
      }
    });
  });
}

/** Parse HTTP/1.1 responses out of a raw stream: [{status, headers, body}] (Content-Length bodies). */
export function parseResponses(raw) {
  const out = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const len = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + len) break; // the body has not all arrived
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}
