#!/usr/bin/env node
// Load tests for pacer's servers (issue 18), each against a `pacer serve …` child process:
//
//   rewards: N clients (default 50) post OpenRLHF /get_reward batches back to back for D seconds
//     (default 60) to `pacer serve rewards --reward accuracy`; every answer is checked against the
//     expected rewards (half the completions hold the right answer). Reports requests, lost (no
//     answer or an HTTP error), wrong (an answer with other rewards), 503s, latency p50/p99, and the
//     server's RSS before and after (from /proc).
//   model: one large completions request (P prompts × n, max_tokens) runs back to back for D seconds
//     (default 20) while N clients (default 20) poll GET /v1/models; reports the /v1/models latency
//     p50/p99/max, how many large requests finished and how long each took.
//
//   node bench/serve_load.mjs rewards [--clients 50] [--seconds 60] [--workers N]
//   node bench/serve_load.mjs model [--clients 20] [--seconds 20] [--model DIR]
//
// Prints one JSON object. Timing figures depend on the machine and on what else runs on it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: 'string' },
    seconds: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
  },
});

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
}

function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

const round = (x) => (x === null ? null : Math.round(x * 10) / 10);

/** Start `pacer ARGS…` and resolve with {child, info} once it prints its JSON line. */
function start(args) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/pacer.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) res({ child, info: JSON.parse(buf.split('\n')[0]) });
    });
    child.on('exit', (c) => rej(new Error(`server exited ${c}: ${err}`)));
  });
}

async function rewardsLoad(clients, seconds, workers) {
  const { child, info } = await start([
    'serve',
    'rewards',
    '--reward',
    'accuracy',
    '--token',
    'bench',
    '--port',
    '0',
    ...(workers === undefined ? [] : ['--workers', workers]),
  ]);
  const url = info.listening;
  const rssBefore = rssMiB(child.pid);
  const lat = [];
  let requests = 0,
    lost = 0,
    wrong = 0,
    busy = 0;
  const end = Date.now() + seconds * 1000;
  const client = async (c) => {
    for (let i = 0; Date.now() < end; i++) {
      const a = (c * 7919 + i) % 1000;
      const query = Array.from({ length: 8 }, (_, k) => `Q: ${a}+${k}=? A: ${k % 2 ? a + k : a + k + 1}`);
      const prompts = Array.from({ length: 8 }, (_, k) => `Q: ${a}+${k}=? A: `);
      const labels = Array.from({ length: 8 }, (_, k) => String(a + k));
      const want = Array.from({ length: 8 }, (_, k) => (k % 2 ? 1 : 0));
      const t0 = performance.now();
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
          body: JSON.stringify({ query, prompts, labels }),
        });
        const body = await r.json();
        requests++;
        if (r.status === 503) busy++;
        else if (r.status !== 200) lost++;
        else if (JSON.stringify(body.rewards) !== JSON.stringify(want)) wrong++;
        lat.push(performance.now() - t0);
      } catch {
        lost++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const rssAfter = rssMiB(child.pid);
  child.kill('SIGTERM');
  lat.sort((x, y) => x - y);
  return {
    test: 'rewards',
    workers: workers ?? 'default',
    clients,
    seconds,
    requests,
    lost,
    wrong,
    busy_503: busy,
    requests_per_s: Math.round(requests / seconds),
    p50_ms: round(quantile(lat, 0.5)),
    p99_ms: round(quantile(lat, 0.99)),
    rss_before_mib: rssBefore,
    rss_after_mib: rssAfter,
  };
}

async function modelLoad(clients, seconds, model) {
  const { child, info } = await start(['serve', 'model', '--model', model, '--port', '0', '--threads', '1']);
  const base = `${info.url}:${info.port}`;
  const end = Date.now() + seconds * 1000;
  const large = [];
  const big = { prompt: Array.from({ length: 64 }, (_, i) => `The river ${i}`), n: 4, max_tokens: 48, temperature: 1 };
  const generator = (async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const r = await fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(big),
      });
      const j = await r.json();
      if (r.status !== 200) throw new Error(`large request: ${r.status} ${JSON.stringify(j)}`);
      large.push({ ms: performance.now() - t0, tokens: j.usage.completion_tokens });
    }
  })();
  // wait until the first large request is generating before polling
  await new Promise((r) => setTimeout(r, 200));
  const lat = [];
  let failed = 0;
  const poller = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const r = await fetch(`${base}/v1/models`);
      await r.json();
      if (r.status === 200) lat.push(performance.now() - t0);
      else failed++;
    }
  };
  await Promise.all([generator, ...Array.from({ length: clients }, poller)]);
  child.kill('SIGTERM');
  lat.sort((x, y) => x - y);
  return {
    test: 'model',
    model,
    clients,
    seconds,
    large_request: '64 prompts × n 4, max_tokens 48',
    large_requests_done: large.length,
    large_request_ms: large.map((x) => Math.round(x.ms)),
    large_request_tokens: large.map((x) => x.tokens),
    models_requests: lat.length,
    models_failed: failed,
    models_p50_ms: round(quantile(lat, 0.5)),
    models_p99_ms: round(quantile(lat, 0.99)),
    models_max_ms: round(lat.at(-1) ?? null),
  };
}

const kind = positionals[0];
let out;
if (kind === 'rewards')
  out = await rewardsLoad(Number(values.clients ?? 50), Number(values.seconds ?? 60), values.workers);
else if (kind === 'model')
  out = await modelLoad(
    Number(values.clients ?? 20),
    Number(values.seconds ?? 20),
    values.model ?? join(ROOT, 'test/fixtures/models/qwen2'),
  );
else {
  console.error(
    'usage: node bench/serve_load.mjs rewards|model [--clients N] [--seconds S] [--workers N] [--model DIR]',
  );
  process.exit(2);
}
console.log(JSON.stringify(out));
