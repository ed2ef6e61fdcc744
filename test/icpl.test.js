// The ICPL loop: preference sources (ICPL's proxy rule by hand, answer files, the studio's HTTP contract
// against a small server written here), the offline proposer (reproducible, says it is not an LLM, moves
// from the preferred program away from the rejected one), an LLM proposer on a stand-in OpenAI chat server
// (requests carry ICPL's messages; unusable answers are asked for again), and the CI smoke run of
// `pacer icpl` with the offline proposer (2 iterations, every arm, tiny budgets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRASH_SCORE, filePreferences, proxyChoice, studioPreferences } from '../dist/reward-design/preferences.js';
import { OfflineProposer, OFFLINE_NOTICE, programCode, readPrograms } from '../dist/reward-design/offline-proposer.js';
import { LLMProposer } from '../dist/reward-design/proposers.js';
import { feedbackMessage, initialMessages, TEMPLATES } from '../dist/reward-design/prompts.js';
import { rewardTask } from '../dist/reward-design/tasks.js';
import { runICPL } from '../dist/reward-design/icpl.js';
import { proxyPreferences } from '../dist/reward-design/preferences.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'pacer-icpl-'));
const MCC = rewardTask('mountaincar-continuous');

test('proxy preferences: best = argmax, worst = argmin, a crash is never worst, ties by return then index', () => {
  const c = (scores, crashed = [], returns = []) =>
    scores.map((score, i) => ({ score, crashed: !!crashed[i], gymReturn: returns[i] ?? Number.NaN }));
  assert.deepEqual(proxyChoice(c([0.2, 0.9, 0.1, 0.5])), { best: 1, worst: 2 });
  // a crash (−10000) is counted as +10000 for the worst
  assert.deepEqual(proxyChoice(c([0.2, CRASH_SCORE, 0.1, 0.5], [false, true])), { best: 3, worst: 2 });
  // all equal, no returns: best the first, worst the next (never the same candidate)
  assert.deepEqual(proxyChoice(c([0, 0, 0])), { best: 0, worst: 1 });
  assert.deepEqual(proxyChoice(c([1, 0, 0])), { best: 0, worst: 1 });
  // equal scores are ordered by the ground-truth return
  assert.deepEqual(proxyChoice(c([1, 1, 1, 0, 0], [], [-90, -80, -85, -500, -400])), { best: 1, worst: 3 });
  // a crash with an unknown return is still never worst
  assert.deepEqual(proxyChoice(c([0, CRASH_SCORE, 0], [false, true], [-3, Number.NaN, -1])), { best: 2, worst: 0 });
  assert.throws(() => proxyChoice(c([1])), /at least two candidates/);
});

const query = (iteration, n = 3) => ({
  run: 'r',
  arm: 'icpl',
  iteration,
  task: 't',
  candidates: Array.from({ length: n }, (_, i) => ({
    index: i,
    code: `c${i}`,
    video: null,
    score: 0,
    gymReturn: 0,
    crashed: false,
  })),
});

test('file preferences: one JSON line per iteration; bad lines and answers are named by file and line', async () => {
  const d = tmp();
  try {
    const f = join(d, 'prefs.jsonl');
    writeFileSync(f, '{"iteration": 1, "best": 2, "worst": 0}\n\n{"iteration": 2, "best": 1, "worst": 1}\n');
    const src = filePreferences(f);
    assert.deepEqual(await src.choose(query(1)), { best: 2, worst: 0 });
    await assert.rejects(() => src.choose(query(2)), /prefs\.jsonl:3: best and worst must be two different/);
    await assert.rejects(() => src.choose(query(3)), /has no answer for iteration 3/);
    writeFileSync(f, '{"iteration": 1, "best": 2}\n');
    assert.throws(() => filePreferences(f), /prefs\.jsonl:1: field 'worst' must be an integer/);
    writeFileSync(f, 'x y\n');
    assert.throws(() => filePreferences(f), /prefs\.jsonl:1: not valid JSON/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('studio preferences: the documented contract — POST the query, poll until answered, bearer token', async () => {
  const d = tmp();
  const seen = [];
  let polls = 0;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: body && JSON.parse(body) });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/api/preference-queries') {
        res.statusCode = 201;
        return res.end(JSON.stringify({ id: 'q1' }));
      }
      if (req.method === 'GET' && req.url === '/api/preference-queries/q1')
        return res.end(JSON.stringify(++polls < 2 ? { status: 'pending' } : { status: 'answered', best: 1, worst: 0 }));
      res.statusCode = 404;
      res.end('{}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const video = join(d, 'v.mp4');
    writeFileSync(video, Buffer.from([1, 2, 3]));
    const q = query(1, 2);
    q.candidates[0].video = video;
    q.candidates[0].score = 0.7; // scores are not sent to a person
    q.candidates[0].gymReturn = -123.5;
    const src = studioPreferences({
      url: `http://127.0.0.1:${srv.address().port}`,
      token: 'tok',
      pollMs: 5,
      timeoutMs: 10_000,
    });
    assert.deepEqual(await src.choose(q), { best: 1, worst: 0 });
    const post = seen[0];
    assert.equal(post.auth, 'Bearer tok');
    assert.equal(post.body.kind, 'best_worst');
    assert.equal(post.body.iteration, 1);
    assert.deepEqual(post.body.candidates[0], { index: 0, code: 'c0', video: { format: 'mp4', base64: 'AQID' } });
    assert.equal(post.body.candidates[1].video, null);
    assert.ok(!/0\.7|123\.5/.test(JSON.stringify(post.body)), 'no ground-truth score or return in the query');
    assert.equal(seen.filter((s) => s.method === 'GET').length, 2);
  } finally {
    srv.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('offline proposer: says it is not an LLM, reproducible, and moves from the preferred program away from the rejected', async () => {
  const p = new OfflineProposer(MCC);
  assert.equal(p.isLLM, false);
  const first = initialMessages(MCC.observationCode, MCC.description);
  const a = await p.complete(first, 4, 7);
  assert.deepEqual(await p.complete(first, 4, 7), a, 'same messages and seed, same answers');
  assert.notDeepEqual(await p.complete(first, 4, 8), a);
  for (const ans of a) {
    assert.ok(ans.startsWith(OFFLINE_NOTICE) && /not an LLM/.test(ans));
    assert.match(ans, /```javascript\nfunction compute_reward\(s\) \{/);
  }
  // the weights round-trip through the code
  const good = { height: 1, velocity: 0.5 };
  const bad = { height: -1, velocity: 0.5, goal: 2 };
  assert.deepEqual(readPrograms(`${programCode(MCC, good)}\nand\n${programCode(MCC, bad)}`), [good, bad]);
  // ICPL feedback with the preference: the answers centre on good + 0.5·(good − bad) = height 2, velocity 0.5
  const fb = (w) => ({ text: programCode(MCC, w), feedback: '' });
  const msg = feedbackMessage({ shown: [fb(good), fb(bad)], preference: true, history: { iterations: 4, text: '' } });
  const answers = await p.complete([...first, { role: 'user', content: msg }], 200, 1);
  const ws = answers.flatMap((x) => readPrograms(x));
  const mean = (k) => ws.filter((w) => k in w).reduce((s, w) => s + w[k], 0) / ws.filter((w) => k in w).length;
  assert.ok(Math.abs(mean('height') - 2) < 0.15, `height ${mean('height')}`);
  assert.ok(Math.abs(mean('velocity') - 0.5) < 0.15, `velocity ${mean('velocity')}`);
  assert.ok(ws.filter((w) => 'height' in w).length > 150, 'terms of the good program mostly stay');
  // the difference request is answered with the terms that differ
  const diff = await p.complete(
    [
      { role: 'system', content: TEMPLATES.difference_initial_system },
      { role: 'user', content: `${programCode(MCC, good)}\n${programCode(MCC, bad)}` },
    ],
    1,
    0,
  );
  assert.match(
    diff[0],
    /- height: the first reward function weighs it by 1; the second reward function weighs it by -1\./,
  );
  assert.match(
    diff[0],
    /- goal: the first reward function does not use it; the second reward function weighs it by 2\./,
  );
  assert.doesNotMatch(diff[0], /velocity/);
});

const CODE = (w) =>
  `\`\`\`javascript\nfunction compute_reward(state) {\n  const h = Math.sin(3 * state.position);\n  return { total: ${w} * h, components: { height: ${w} * h } };\n}\n\`\`\``;

test('an LLM proposer on an OpenAI-compatible chat server: ICPL’s messages go out, broken answers are asked for again', async () => {
  const d = tmp();
  const requests = [];
  let call = 0;
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body);
      requests.push({ url: req.url, auth: req.headers.authorization, body: j });
      call++;
      // the first call answers one broken program (a syntax error) and one that throws while training
      const contents =
        call === 1
          ? [
              '```javascript\nfunction compute_reward(state) { return {\n```',
              '```js\nfunction compute_reward(s) { return s.nope.x; }\n```',
            ]
          : Array.from({ length: j.n }, (_, i) => CODE(1 + i + call));
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          choices: contents.map((c, index) => ({
            index,
            message: { role: 'assistant', content: c },
            finish_reason: 'stop',
          })),
        }),
      );
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const proposer = new LLMProposer({ url: `http://127.0.0.1:${srv.address().port}`, model: 'gpt-x', apiKey: 'k' });
    const out = join(d, 'run');
    const r = await runICPL({
      task: MCC,
      iterations: 1,
      samples: 2,
      proposer,
      preferences: proxyPreferences(),
      arms: ['icpl'],
      seed: 0,
      out,
      video: false,
      evalEpisodes: 1,
      finalSeeds: 0,
      ppo: { totalTimesteps: 256, numEnvs: 2, numSteps: 128, numMinibatches: 2, updateEpochs: 1 },
      threads: 1,
    });
    const it = r.arms[0].iterations[0];
    assert.equal(it.attempts, 4, 'two failed answers, then two that train');
    assert.ok(it.candidates.every((c) => c.ok));
    const failed = JSON.parse(readFileSync(join(out, 'icpl', 'iter1', 'attempt0', 'result.json'), 'utf8'));
    assert.match(failed.error, /^syntax/);
    const threw = JSON.parse(readFileSync(join(out, 'icpl', 'iter1', 'attempt1', 'result.json'), 'utf8'));
    assert.match(threw.error, /^threw at step 0: Cannot read properties of undefined \(reading 'x'\)/);
    const first = requests[0];
    assert.equal(first.url, '/v1/chat/completions');
    assert.equal(first.auth, 'Bearer k');
    assert.equal(first.body.model, 'gpt-x');
    assert.equal(first.body.temperature, 1);
    assert.equal(first.body.n, 2);
    assert.deepEqual(first.body.messages, initialMessages(MCC.observationCode, MCC.description));
    const fb = readFileSync(join(out, 'icpl', 'iter1', 'feedback.txt'), 'utf8');
    assert.ok(fb.includes(TEMPLATES.preference) && fb.includes('The 2nd generated reward function is provided:\n'));
    assert.match(fb, /height: \['-?\d+\.\d\d'/);
    assert.doesNotMatch(fb, /task_score/, 'ICPL hides the task score from the LLM');
  } finally {
    srv.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('CI smoke: pacer icpl with the offline proposer, 2 iterations, every arm', () => {
  const d = tmp();
  try {
    const out = join(d, 'run');
    const args = ['--env', 'mountaincar-continuous', '--iterations', '2', '--samples', '2', '--proposer', 'offline'];
    args.push('--timesteps', '512', '--eval-episodes', '1', '--final-seeds', '0', '--seed', '3');
    args.push('--video-every', '25', '--video-scale', '0.2', '--out', out);
    // a 512-step budget: 4 envs x 128 steps is one rollout
    const r = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'icpl', ...args], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env },
    });
    assert.equal(r.status, 1, 'a budget below one rollout of the task is refused');
    assert.match(r.stderr, /less than one rollout \(numEnvs·numSteps = 2048\)/);
    args[args.indexOf('--timesteps') + 1] = '2048';
    const ok = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'icpl', ...args], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /not an LLM/);
    assert.match(ok.stdout, /proposer: offline .*not an LLM/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(s.proposer_is_llm, false);
    assert.deepEqual(Object.keys(s.arms), ['icpl', 'eureka', 'bestofn', 'sparse', 'handwritten']);
    for (const arm of ['icpl', 'eureka', 'bestofn']) {
      assert.equal(s.arms[arm].iterations.length, 2);
      for (const f of [
        'iter1/prompt.json',
        'iter2/prompt.json',
        'iter1/attempt0/reward.js',
        'iter1/attempt0/rollout.mp4',
        'iter1/attempt0/metrics.jsonl',
      ])
        assert.ok(existsSync(join(out, arm, f)), `${arm}/${f}`);
    }
    // ICPL: preference, history with the difference of the good programs, the feedback replaces the last
    const p2 = JSON.parse(readFileSync(join(out, 'icpl', 'iter2', 'prompt.json'), 'utf8'));
    assert.equal(p2.length, 3);
    assert.ok(p2[2].content.startsWith('The reward function has been iterated 1 rounds.'));
    const fb2 = readFileSync(join(out, 'icpl', 'iter2', 'feedback.txt'), 'utf8');
    assert.match(fb2, /The difference between iter2-good and iter1-good is: \n /);
    assert.match(fb2, /^The reward function has been iterated 2 rounds\./);
    // Eureka shows the task score; best-of-N asks the first prompt every time
    assert.match(readFileSync(join(out, 'eureka', 'iter1', 'feedback.txt'), 'utf8'), /\ntask_score: \[/);
    const b2 = JSON.parse(readFileSync(join(out, 'bestofn', 'iter2', 'prompt.json'), 'utf8'));
    assert.equal(b2.length, 2);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /Arm icpl/);
    assert.match(html, /<video src="icpl\/iter1\/attempt0\/rollout\.mp4"/);
    assert.match(html, /not an LLM/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('pacer serve model as the endpoint: answers that are not code use up the attempts, crashes fill the places', async () => {
  const { createModelServer } = await import('../dist/server/openai.js');
  const { fromPretrained } = await import('../dist/models/pretrained.js');
  const { Tokenizer } = await import('../dist/tokenizers/index.js');
  const { writeRandomLlama } = await import('../dist/cli/bench/fixture.js');
  const d = tmp();
  // a random tiny Llama whose context holds ICPL's prompt (~2500 byte-level tokens)
  const dir = join(d, 'model');
  writeRandomLlama(dir, { vocab: 384, hidden: 16, layers: 1, heads: 2, kvHeads: 2, maxPositions: 4096 });
  const model = fromPretrained(dir).model;
  const srv = createModelServer({ model, tokenizer: Tokenizer.fromPretrained(dir), modelName: 'tiny' });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const proposer = new LLMProposer({ url: `http://127.0.0.1:${srv.address().port}`, maxTokens: 8 });
    const r = await runICPL({
      task: MCC,
      iterations: 2,
      samples: 2,
      maxAttempts: 3,
      proposer,
      preferences: proxyPreferences(),
      arms: ['icpl'],
      seed: 0,
      out: join(d, 'run'),
      video: false,
      evalEpisodes: 1,
      finalSeeds: 0,
    });
    for (const it of r.arms[0].iterations) {
      assert.equal(it.attempts, 3);
      assert.equal(it.candidates.length, 2);
      assert.ok(it.candidates.every((c) => c.crashed && c.score === CRASH_SCORE));
      assert.equal(it.best, null, 'nothing ran: no preference is asked');
    }
    const p2 = JSON.parse(readFileSync(join(d, 'run', 'icpl', 'iter2', 'prompt.json'), 'utf8'));
    assert.equal(p2.length, 2, 'the next iteration asks from the same prompt');
    assert.equal(r.arms[0].best, null);
  } finally {
    srv.close();
    model.dispose();
    rmSync(d, { recursive: true, force: true });
  }
});

test('pacer icpl: usage errors name the option', () => {
  const run = (...a) => spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'icpl', ...a], { encoding: 'utf8' });
  const cases = [
    [['--out', 'x'], /icpl needs --env/],
    [['--env', 'lunarlander', '--out', 'x'], /no reward-design task for 'lunarlander' \(known: mountaincar-continuous/],
    [['--env', 'acrobot', '--out', 'x', '--proposer', 'llm'], /--proposer llm needs --llm-url/],
    [
      ['--env', 'acrobot', '--out', 'x', '--proposer', 'offline', '--llm-model', 'm'],
      /--llm-model is for --proposer llm/,
    ],
    [['--env', 'acrobot', '--out', 'x', '--preferences', 'file'], /--preferences file needs --preference-file/],
    [['--env', 'acrobot', '--out', 'x', '--preferences', 'studio'], /--preferences studio needs --studio-url/],
    [['--env', 'acrobot', '--out', 'x', '--arms', 'icpl,prefppo'], /--arms: unknown arm 'prefppo'/],
    [['--env', 'acrobot', '--out', 'x', '--samples', '1'], /--samples must be an integer >= 2/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
