// Oversized bodies: the server answers 413 with Connection: close and closes the connection cleanly
// (the client gets the answer, not a reset), and a keep-alive client's next request succeeds on a
// fresh connection. Both servers; bodies declared with Content-Length and sent chunked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createRewardServer } from '../../dist/server/rewards.js';
import { rewardsFromSpec } from '../../dist/rewards/index.js';
import { listen, parseResponses, rawExchange, withModelServer } from '../server-helpers.js';

function oversized(path, size, { chunked = false, token } = {}) {
  const body = `{"query": ["${'x'.repeat(size)}"]}`;
  const head = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: keep-alive',
    'Content-Type: application/json',
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`,
  ].join('\r\n');
  if (!chunked) return [`${head}\r\n\r\n`, body];
  const half = body.length >> 1;
  const chunk = (s) => `${s.length.toString(16)}\r\n${s}\r\n`;
  return [`${head}\r\n\r\n`, chunk(body.slice(0, half)), chunk(body.slice(half)), '0\r\n\r\n'];
}

/** POST over a keep-alive agent with one socket, so a second request reuses the connection if it can. */
function post(agent, port, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function check413(port, path, limit, token) {
  for (const chunked of [false, true]) {
    const { data, reset } = await rawExchange(port, oversized(path, limit + 200_000, { chunked, token }));
    const res = parseResponses(data);
    assert.equal(reset, false, `${chunked ? 'chunked' : 'content-length'}: the connection was reset`);
    assert.equal(res.length, 1, data);
    assert.equal(res[0].status, 413);
    assert.equal(res[0].headers.connection, 'close');
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const auth = token ? { authorization: `Bearer ${token}` } : {};
    // large enough that the server cannot have read it all when it answers (it reset the next request)
    const big = await post(agent, port, path, JSON.stringify({ query: ['x'.repeat(limit + 200_000)] }), auth);
    assert.equal(big.status, 413);
    const next = await post(agent, port, path, JSON.stringify({ query: ['1'], labels: ['1'] }), auth);
    assert.notEqual(next.status, 413, 'the next request on the keep-alive client is answered');
    return next;
  } finally {
    agent.destroy();
  }
}

test('reward server: 413 with Connection: close, then the next request works', async () => {
  const server = createRewardServer({
    rewards: rewardsFromSpec('accuracy'),
    token: 't',
    maxBodyBytes: 1000,
    workers: 0,
  });
  await listen(server);
  try {
    const next = await check413(server.address().port, '/get_reward', 1000, 't');
    assert.equal(next.status, 200);
    assert.deepEqual(JSON.parse(next.text).rewards, [1]);
  } finally {
    server.close();
  }
});

test('model server: 413 with Connection: close on the reload endpoint, then the next request works', async () => {
  await withModelServer({ token: 'k' }, async (base) => {
    const port = Number(new URL(base).port);
    const next = await check413(port, '/update_weights_from_disk', 2 ** 16, 'k');
    assert.equal(next.status, 400, next.text); // {"query": …} is not a reload request: 400, on a fresh connection
  });
});
