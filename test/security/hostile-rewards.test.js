// Hostile completions against the rewards: quadratic inputs (a 100k-digit <answer>, unclosed tags,
// long runs of spaces), numbers too long for a double, and rewards that never return — stopped by
// the timeout in a worker thread, logged as overruns in-process. The reward server keeps answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as R from '../../dist/rewards/index.js';
import { createRewardServer } from '../../dist/server/rewards.js';
import { listen, startCli } from '../server-helpers.js';

const BUSY = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'busy-reward.mjs');
const input = (completions, answer) => ({ prompts: completions.map(() => 'q'), completions, columns: { answer } });
const post = (url, body, headers = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

test('answers too long for a double are compared digit by digit; answers over the cap never match', () => {
  // as doubles both are Infinity (or the same rounded value), which made them "equal"
  assert.equal(R.answersMatch('1'.repeat(400), '2'.repeat(400)), false);
  assert.equal(R.answersMatch('1'.repeat(400), '1'.repeat(400)), true);
  assert.equal(R.answersMatch('12345678901234567890', '12345678901234567891'), false);
  assert.equal(R.answersMatch('1,234,567,890,123,456,789', '1234567890123456789'), true);
  assert.equal(R.normalizeAnswer('9'.repeat(R.MAX_ANSWER_CHARS + 1)), null);
  assert.equal(R.answersMatch('7'.repeat(R.MAX_ANSWER_CHARS + 1), '7'.repeat(R.MAX_ANSWER_CHARS + 1)), false);
  // the usual forms still normalise as before
  assert.equal(R.normalizeAnswer('\\dfrac{3}{4}'), '0.75');
  assert.equal(R.normalizeAnswer('$1,000.$'), '1000');
  assert.equal(R.normalizeAnswer('-12.50%'), '-0.125');
  assert.equal(R.extractAnswer(`${'<answer>'.repeat(5)}x</answer>`), '<answer><answer><answer><answer>x');
});

test('the reward server scores quadratic-looking completions at once, with no errors', async () => {
  const logs = [];
  const server = createRewardServer({
    rewards: R.rewardsFromSpec('accuracy,multiple_choice,think_answer'),
    token: 't',
    log: (s) => logs.push(s),
  });
  const base = await listen(server);
  try {
    const digits = '3'.repeat(100_000);
    const queries = [
      `<answer>${digits}</answer>`, // quadratic normalisation before
      '<answer>'.repeat(50_000), // a lazy <answer>…</answer> rescanned the rest from every opening
      `the answer${' '.repeat(200_000)}`, // two \s* around an optional group
      `<think>${'</think> '.repeat(20_000)}<answer>1</answer>`,
    ];
    const r = await post(
      `${base}/get_reward`,
      { query: queries, labels: ['4'.repeat(100_000), '1', 'B', '1'] },
      { authorization: 'Bearer t' },
    );
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.extra_logs['rewards/errors'], 0, logs.join('\n'));
    assert.equal(j.extra_logs['rewards/accuracy/mean'], 0.25); // only the last one holds the right answer
    assert.equal(j.extra_logs['rewards/multiple_choice/mean'], 0);
  } finally {
    server.close();
  }
});

test('a reward that never returns is stopped by the timeout in its worker; the server keeps answering', async () => {
  await import(BUSY); // registers busy_loop here too, so the spec resolves in this thread
  const logs = [];
  const server = createRewardServer({
    rewards: R.rewardsFromSpec('busy_loop,accuracy'),
    token: 't',
    timeoutMs: 1000,
    rewardModules: [BUSY],
    log: (s) => logs.push(s),
  });
  const base = await listen(server);
  try {
    const order = [];
    const scored = post(`${base}/get_reward`, { query: ['4'], labels: ['4'] }, { authorization: 'Bearer t' }).then(
      async (r) => {
        order.push('reward');
        return r.json();
      },
    );
    const health = await fetch(`${base}/health`);
    order.push('health');
    assert.equal(health.status, 200);
    const j = await scored;
    assert.deepEqual(order, ['health', 'reward'], 'the busy reward did not hold up the server');
    assert.deepEqual(j.rewards, [1], 'accuracy still counts; the stopped reward is skipped');
    assert.equal(j.extra_logs['rewards/errors'], 1);
    assert.ok(
      logs.some((l) => /reward 'busy_loop' timed out after 1000 ms \(its worker was stopped\)/.test(l)),
      logs.join('\n'),
    );
    // a fresh worker takes the stopped one's place
    const again = await post(`${base}/get_reward`, { query: ['5'], labels: ['4'] }, { authorization: 'Bearer t' });
    assert.equal((await again.json()).extra_logs['rewards/errors'], 1);
  } finally {
    server.close();
  }
});

test('pacer serve rewards --reward-module: a busy reward times out in a worker and is logged', async () => {
  const srv = await startCli([
    'serve',
    'rewards',
    '--reward',
    'busy_loop',
    '--reward-module',
    BUSY,
    '--timeout-ms',
    '300',
    '--no-token',
    '--port',
    '0',
  ]);
  try {
    const r = await post(srv.info.listening, { query: ['x'] });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).extra_logs['rewards/errors'], 1);
    assert.match(await srv.waitStderr(/timed out/), /reward 'busy_loop' timed out after 300 ms/);
  } finally {
    srv.stop();
  }
});

test('an in-process reward that overruns its timeout is logged and handled like a timeout', async () => {
  const logs = [];
  const busy = (inp) => {
    const end = Date.now() + 50;
    while (Date.now() < end); // synchronous: no timer can interrupt it
    return inp.completions.map(() => 1);
  };
  const rep = await R.runRewards([{ name: 'custom', fn: busy }], input(['a', 'b'], ['a', 'b']), {
    timeoutMs: 1,
    onError: 'zero',
    log: (s) => logs.push(s),
  });
  assert.deepEqual(rep.perReward.custom, [0, 0]);
  assert.equal(rep.metrics['rewards/errors'], 1);
  assert.ok(
    logs.some((l) => /reward 'custom' overran its 1 ms timeout .*cannot stop synchronous code/.test(l)),
    logs.join('\n'),
  );
});
