// The reward library (hand-checked values), composition and failure handling, and the
// OpenRLHF-protocol reward server and client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as R from '../dist/rewards/index.js';
import { createRewardServer, RemoteRewardClient } from '../dist/server/rewards.js';
import { parseResponses, rawExchange, startCli } from './server-helpers.js';

const input = (completions, columns = {}, completionIds) => ({
  prompts: completions.map(() => 'q'),
  completions,
  columns,
  completionIds,
});

test('accuracy normalises numbers, fractions, percentages and \\boxed{}', async () => {
  const r = R.accuracyReward();
  const out = await r(
    input(
      ['so the answer is \\boxed{\\frac{1}{2}}', 'It is 1,000.', '<answer>50%</answer>', 'maybe 7', 'no idea', 'x'],
      { answer: ['0.5', '1000', '1/2', '8', '3', null] },
    ),
  );
  assert.deepEqual(out, [1, 1, 1, 0, 0, null]);
  assert.equal(R.extractAnswer('a \\boxed{x^{2}} b'), 'x^{2}');
  assert.equal(R.normalizeAnswer('\\dfrac{3}{4}'), '0.75');
  assert.equal(R.normalizeAnswer(' Paris. '), 'paris');
  assert.deepEqual(await R.exactMatchReward()(input([' Paris ', 'paris!'], { answer: ['paris', 'paris'] })), [1, 0]);
  assert.deepEqual(
    await R.multipleChoiceReward()(
      input(['The answer is (C).', '<answer>b</answer>', 'A', 'I think D is wrong'], { answer: ['C', 'B', 'A', 'B'] }),
    ),
    [1, 1, 1, 0],
  );
  assert.throws(() => R.accuracyReward()(input(['1'], { other: [1] })), /needs a 'solution' column/);
});

test('format, length and DAPO overlong rewards', async () => {
  assert.deepEqual(
    await R.thinkAnswerFormatReward()(
      input([
        '<think>a</think> <answer>b</answer>',
        '<answer>b</answer>',
        '<think>a</think><answer>b</answer> trailing',
      ]),
    ),
    [1, 0, 0],
  );
  const rp = await R.reasoningPatternReward()(input(['First add, then check: the answer is 4 because 2+2.', 'four']));
  assert.equal(rp[0], 1);
  assert.equal(rp[1], 0);
  // DAPO: Lmax 20, cache 5 → 0 up to 15, linear to -1 at 20, -1 beyond
  assert.deepEqual(
    [10, 15, 16, 20, 21].map((L) => R.overlongPenalty(L, 20, 5)),
    [0, 0, -0.2, -1, -1],
  );
  assert.deepEqual(
    await R.overlongPenaltyReward({ maxLength: 20, cache: 5 })(
      input(['a', 'b'], {}, [new Array(10).fill(0), new Array(18).fill(0)]),
    ),
    [0, -0.6],
  );
  assert.deepEqual(await R.lengthPenaltyReward({ budget: 4 })(input(['abc', 'abcdef', 'a'.repeat(20)])), [0, -0.5, -1]);
});

test('box IoU, temporal IoU and the Gaussian point reward', async () => {
  assert.equal(R.boxIoU([0, 0, 2, 2], [1, 1, 3, 3]), 1 / 7);
  assert.equal(R.temporalIoU([2, 6], [4, 8]), 2 / 6);
  assert.equal(R.temporalIoU([6, 2], [4, 8]), 2 / 6, 'reversed segments are reordered');
  assert.equal(R.temporalIoU([0, 1], [2, 3]), 0);
  assert.deepEqual(
    await R.temporalIoUReward()(
      input(['from [2, 6] seconds', 'no segment'], {
        segment: [
          [4, 8],
          [0, 1],
        ],
      }),
    ),
    [2 / 6, 0],
  );
  assert.deepEqual(await R.iouReward()(input(['box: [0, 0, 2, 2]'], { box: [[0, 0, 2, 2]] })), [1]);
  assert.equal(R.gaussianPointReward([5, 5], [0, 0, 10, 10]), 1);
  const off = R.gaussianPointReward([10, 5], [0, 0, 10, 10]); // dx = 5 = σ/0.5·... σ = 5
  assert.ok(Math.abs(off - Math.exp(-0.5)) < 1e-12);
  const g = await R.gaussianPointRewardFn()(
    input(['click [5, 5]', 'box [0, 0, 10, 10]'], {
      box: [
        [0, 0, 10, 10],
        [0, 0, 10, 10],
      ],
    }),
  );
  assert.deepEqual(g, [1, 1]);
});

test('partial and hierarchical credit', async () => {
  assert.deepEqual(
    await R.partialMatchReward()(
      input(['<answer>red, blue</answer>', 'green'], { answer: [['red', 'blue', 'green'], 'green;red'] }),
    ),
    [2 / 3, 0.5],
  );
  assert.deepEqual(
    await R.hierarchicalReward()(
      input(['animal/dog/poodle', 'animal/cat', 'plant'], {
        answer: ['animal/dog/terrier', 'animal/cat', 'animal/dog'],
      }),
    ),
    [2 / 3, 1, 0],
  );
});

test('aggregation, gating, noise; failing rewards are handled, never fatal', async () => {
  const a = () => [1, 0, null];
  const b = () => [2, 4, 6];
  const rep = await R.runRewards(
    [
      { name: 'a', fn: a, weight: 2 },
      { name: 'b', fn: b, weight: 0.5 },
    ],
    input(['x', 'y', 'z']),
  );
  assert.deepEqual(rep.rewards, [3, 2, 3]);
  assert.equal(rep.metrics['rewards/a/mean'], 0.5);
  assert.equal(rep.metrics['rewards/b/mean'], 4);
  const tamed = R.aggregate([{ values: [3, -1], weight: 1 }], 'log_tamed');
  assert.ok(Math.abs(tamed[0] - Math.log(4)) < 1e-12 && Math.abs(tamed[1] + Math.log(2)) < 1e-12);
  const norm = R.aggregate([{ values: [1, 3], weight: 1 }], 'normalized');
  assert.ok(Math.abs(norm[0] + 1) < 1e-5 && Math.abs(norm[1] - 1) < 1e-5);
  assert.deepEqual(
    await R.gated(
      () => [0.7, 0.9],
      () => [1, 0],
    )(input(['x', 'y'])),
    [0.7, 0],
  );
  const noisy = await R.withNoise(() => new Array(1000).fill(1), 0.3, 1)(input(new Array(1000).fill('x')));
  const flipped = noisy.filter((v) => v === 0).length;
  assert.ok(flipped > 240 && flipped < 360, `${flipped} flips`);
  const logs = [];
  const bad = await R.runRewards(
    [
      {
        name: 'throws',
        fn: () => {
          throw new Error('boom');
        },
      },
      { name: 'hangs', fn: () => new Promise(() => {}) },
      { name: 'nan', fn: () => [NaN, 1] },
      { name: 'ok', fn: () => [1, 1] },
    ],
    input(['x', 'y']),
    { timeoutMs: 50, onError: 'zero', log: (s) => logs.push(s) },
  );
  assert.deepEqual(bad.perReward.throws, [0, 0]);
  assert.deepEqual(bad.perReward.hangs, [0, 0]);
  assert.deepEqual(bad.perReward.nan, [0, 1]);
  assert.deepEqual(bad.rewards, [1, 2]);
  assert.equal(bad.errors.length, 3);
  assert.ok(logs.some((l) => /timed out after 50 ms/.test(l)));
  const skip = await R.runRewards(
    [
      {
        name: 'throws',
        fn: () => {
          throw new Error('x');
        },
      },
    ],
    input(['x']),
    { onError: 'skip' },
  );
  assert.deepEqual(skip.rewards, [null]);
  assert.throws(() => R.rewardsFromSpec('acuracy'), /unknown reward 'acuracy'/);
  assert.throws(
    () => R.rewardsFromSpec('overlong:max_length=10'),
    /'overlong:cache' is required for reward 'overlong'/,
  );
  assert.equal(R.rewardsFromSpec('accuracy,overlong:max_length=10:cache=2', [1, 0.5])[1].weight, 0.5);
});

async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * The request OpenRLHF's remote-RM client makes (openrlhf/utils/remote_rm_utils.py:
 * requests.post(url, json=data, headers={"Content-Type": "application/json"})), byte for byte as
 * python-requests 2.28 sends it (captured on a socket): no Authorization header; json.dumps spacing.
 */
function openrlhfRequest(port, data) {
  const body = pyDumps(data);
  return [
    'POST /get_reward HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'User-Agent: python-requests/2.28.1',
    'Accept-Encoding: gzip, deflate',
    'Accept: */*',
    'Connection: keep-alive',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Python's json.dumps (", " and ": " separators, ensure_ascii). */
function pyDumps(v) {
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function openrlhfPost(port, data) {
  const { data: raw } = await rawExchange(port, [openrlhfRequest(port, data)], {
    until: (d) => parseResponses(d).length === 1,
  });
  const [r] = parseResponses(raw);
  return { status: r.status, json: JSON.parse(r.body) };
}

const WITH_METAS = {
  query: ['2+2= 4', '2+3= 6'],
  prompts: ['2+2=', '2+3='],
  labels: ['4', '5'],
  metas: [{ id: 1 }, { id: 2 }],
};

test('reward server: OpenRLHF protocol, auth, validation, bounded concurrency', async () => {
  // a reward that, once the gate is closed, holds its request until the test opens it: no timing involved
  let gate = Promise.resolve();
  let entered = () => {};
  const slow = {
    name: 'slow',
    fn: async (inp) => {
      entered();
      await gate;
      return inp.completions.map(() => 0);
    },
  };
  const server = createRewardServer({
    rewards: R.rewardsFromSpec('accuracy').concat([{ ...slow, weight: 0 }]),
    token: 's3cret',
    maxConcurrency: 1,
    maxQueue: 0,
  });
  const base = await listen(server);
  try {
    const post = (body, token = 's3cret') =>
      fetch(`${base}/get_reward`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const ok = await post({ query: ['2+2= 4', '2+3= 6'], prompts: ['2+2=', '2+3='], labels: ['4', '5'] });
    assert.equal(ok.status, 200);
    const j = await ok.json();
    assert.deepEqual(j.rewards, [1, 0]);
    assert.deepEqual(j.scores, [1, 0]);
    assert.equal(j.extra_logs['rewards/accuracy/mean'], 0.5);
    assert.equal((await post({ query: ['x'] }, null)).status, 401);
    assert.equal((await post({ query: ['x'] }, 'wrong')).status, 401);
    assert.equal((await post('{"query": [', 's3cret')).status, 400);
    const bad = await post({ query: ['a', 'b'], prompts: ['a'] });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /"prompts" must be a list of 2 strings/);
    assert.equal((await post({ query: 'a' })).status, 400);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    let open;
    gate = new Promise((r) => {
      open = r;
    });
    const scoring = new Promise((r) => {
      entered = r;
    });
    const first = post({ query: ['1'], labels: ['1'] });
    await scoring; // the first request holds the only slot
    assert.equal((await post({ query: ['1'], labels: ['1'] })).status, 503, 'the second concurrent request is refused');
    open();
    assert.equal((await first).status, 200);
    assert.equal((await post({ query: ['1'], labels: ['1'] })).status, 200, 'the slot is free again');
  } finally {
    server.close();
  }
});

test('remote reward client retries with backoff, then reports clearly', async () => {
  let calls = 0;
  const flaky = createServer((req, res) => {
    calls++;
    if (calls < 3) {
      res.writeHead(503);
      res.end('busy');
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const q = JSON.parse(body).query;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ rewards: q.map(() => 1), scores: q.map(() => 1), extra_logs: {} }));
    });
  });
  const base = await listen(flaky);
  try {
    const c = new RemoteRewardClient(`${base}/get_reward`, { retries: 3, backoffMs: 10 });
    assert.deepEqual((await c.score(['a', 'b'])).rewards, [1, 1]);
    assert.equal(calls, 3);
  } finally {
    flaky.close();
  }
  const dead = new RemoteRewardClient('http://127.0.0.1:9/get_reward', { retries: 1, backoffMs: 10, timeoutMs: 500 });
  await assert.rejects(dead.score(['a']), /did not answer after 2 attempts/);
  const server = createRewardServer({ rewards: R.rewardsFromSpec('accuracy'), token: 't' });
  const url = await listen(server);
  try {
    await assert.rejects(new RemoteRewardClient(`${url}/get_reward`, { token: 'x' }).score(['1']), /answered 401/);
  } finally {
    server.close();
  }
});

test("item 7: OpenRLHF's remote-RM request, which carries no token, is served on 127.0.0.1 with noToken", async () => {
  assert.equal(
    openrlhfRequest(1234, WITH_METAS).split('\r\n\r\n')[1],
    // python3 -c 'import json; print(json.dumps({...}))'
    '{"query": ["2+2= 4", "2+3= 6"], "prompts": ["2+2=", "2+3="], "labels": ["4", "5"], ' +
      '"metas": [{"id": 1}, {"id": 2}]}',
  );
  const tokenServer = createRewardServer({ rewards: R.rewardsFromSpec('accuracy'), token: 'k', workers: 0 });
  await listen(tokenServer);
  try {
    assert.equal((await openrlhfPost(tokenServer.address().port, WITH_METAS)).status, 401, 'why --no-token exists');
  } finally {
    tokenServer.close();
  }
  assert.throws(() => createRewardServer({ rewards: R.rewardsFromSpec('accuracy') }), /needs a token/);
  const server = createRewardServer({ rewards: R.rewardsFromSpec('accuracy'), noToken: true });
  const base = await listen(server);
  try {
    const port = server.address().port;
    for (const data of [
      WITH_METAS,
      { query: WITH_METAS.query, prompts: WITH_METAS.prompts, labels: WITH_METAS.labels },
    ]) {
      const r = await openrlhfPost(port, data);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.rewards, [1, 0]);
      assert.deepEqual(r.json.scores, [1, 0]);
      assert.equal(r.json.extra_logs['rewards/accuracy/mean'], 0.5);
    }
    // without a token, web pages are refused
    const page = await fetch(`${base}/get_reward`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify(WITH_METAS),
    });
    assert.equal(page.status, 403);
  } finally {
    server.close();
  }
});

test('item 7: pacer serve rewards --no-token: loopback hosts only, said loudly', async () => {
  const { spawnSync } = await import('node:child_process');
  const refused = spawnSync(
    process.execPath,
    ['bin/pacer.js', 'serve', 'rewards', '--reward', 'accuracy', '--no-token', '--host', '0.0.0.0'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--no-token is allowed only on a loopback --host/);
  const srv = await startCli(['serve', 'rewards', '--reward', 'accuracy', '--no-token', '--port', '0'], {
    PACER_TOKEN: '',
  });
  try {
    assert.match(await srv.waitStderr(/WARNING/), /WARNING: .* WITHOUT A TOKEN \(--no-token\)/);
    const r = await openrlhfPost(Number(new URL(srv.info.listening).port), WITH_METAS);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.rewards, [1, 0]);
  } finally {
    srv.stop();
  }
});

test('item 9: non-number rewards from a remote server are counted in rewards/errors', async () => {
  const fake = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ rewards: [1, '0.5', null], scores: [1, '0.5', null], extra_logs: {} }));
    });
  });
  const base = await listen(fake);
  try {
    const logs = [];
    const rep = await R.runRewards(
      R.rewardsFromSpec(`remote:url=${base}/get_reward:retries=0`),
      input(['a', 'b', 'c']),
      {
        log: (s) => logs.push(s),
      },
    );
    assert.deepEqual(rep.perReward.remote, [1, null, null]);
    assert.equal(rep.metrics['rewards/errors'], 2);
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.ok(logs.every((l) => /reward 'remote' gave NaN for sample [12]/.test(l)));
  } finally {
    fake.close();
  }
});

test('with a worker pool, rewards the workers cannot build (added to REWARDS at run time) run in this thread', async () => {
  R.REWARDS.local_only = () => (inp) => inp.completions.map((c) => c.length);
  const pool = new R.RewardWorkerPool({ size: 1 });
  try {
    const rep = await R.runRewards(
      R.rewardsFromSpec('local_only,accuracy'),
      input(['ab', '4'], { answer: ['4', '4'] }),
      {
        pool,
      },
    );
    assert.deepEqual(rep.perReward.local_only, [2, 1]);
    assert.deepEqual(rep.perReward.accuracy, [0, 1]);
    assert.equal(await pool.has('accuracy'), true);
    assert.equal(await pool.has('local_only'), false);
  } finally {
    await pool.close();
    delete R.REWARDS.local_only;
  }
});

test('registerReward: a custom reward by name with typed options, checked like the built-ins', async () => {
  const { resolveConfig } = await import('../dist/trainers/config.js');
  const f = R.registerReward(
    'ends_with',
    { suffix: R.opt.str('!', 'the ending that earns the reward') },
    (o) => (inp) => inp.completions.map((c) => (c.endsWith(o.suffix) ? 1 : 0)),
  );
  assert.equal(R.REWARDS.ends_with, f);
  const [r] = R.rewardsFromSpec('ends_with:suffix=?');
  assert.deepEqual(r.fn({ prompts: ['', ''], completions: ['ok?', 'ok!'], columns: {} }), [1, 0]);
  const base = { trainer: 'grpo', model_name_or_path: 'm', train_dataset: 'd.jsonl', output_dir: 'o' };
  assert.ok(resolveConfig({ ...base, reward_funcs: ['ends_with:suffix=.'] }, 'c'));
  assert.throws(() => resolveConfig({ ...base, reward_funcs: ['ends_with:sufix=.'] }, 'c'), {
    name: 'ConfigError',
    key: 'ends_with:sufix',
    message: /did you mean 'ends_with:suffix'/,
  });
  assert.throws(() => R.registerReward('ends_with', {}, () => () => []), /already registered/);
  assert.throws(() => R.registerReward('accuracy', {}, () => () => [], { replace: true }), /built-in/);
  assert.throws(() => R.registerReward('a:b', {}, () => () => []), /letters, digits/);
  delete R.REWARDS.ends_with;
});

test('the remote reward sends a vision prompt as its text parts, not "[object Object]"', async () => {
  let body = null;
  const fake = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      body = JSON.parse(raw);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ rewards: [1] }));
    });
  });
  const base = await listen(fake);
  try {
    const prompt = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'When does it turn blue?' }] },
    ];
    const rep = await R.runRewards(R.rewardsFromSpec(`remote:url=${base}/get_reward:retries=0`), {
      ...input(['<answer>1 to 2</answer>']),
      prompts: [prompt],
    });
    assert.deepEqual(rep.perReward.remote, [1]);
    assert.deepEqual(body.prompts, ['Be brief.\nWhen does it turn blue?']);
    assert.doesNotMatch(JSON.stringify(body), /object Object/);
  } finally {
    fake.close();
  }
});
