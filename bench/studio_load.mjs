#!/usr/bin/env node
// Benchmarks for the preference studio (issue 16), each run R times (default 3) with min/median/max:
//
//   load: a `pacer studio` child process on 127.0.0.1; N annotators (default 50) each take and answer
//     V pairwise tasks (default 200) back to back — GET /api/projects/P/next, then POST .../votes — with
//     their own bearer tokens. Afterwards the project's database is checked: every acknowledged vote is
//     there, once, and nothing else (no lost or duplicated vote). Reports latency p50/p99/max of the
//     vote POSTs and of next+vote, and votes per second.
//   bt: Bradley–Terry with 1,000 bootstrap resamples on 10,000 simulated votes over 50 items (10% ties),
//     with ties as half wins and with Davidson's model; reports seconds per fit + bootstrap.
//
//   node bench/studio_load.mjs [load|bt|all] [--clients 50] [--votes 200] [--runs 3] [--sync normal|full]
//
// Prints one JSON line per run and a summary. Timings depend on the machine and what else runs on it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Project, Users, addGroups } from '../dist/studio/index.js';
import { bootstrapRatings } from '../dist/preferences/index.js';
import { rng } from '../dist/data/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: 'string' },
    votes: { type: 'string' },
    runs: { type: 'string' },
    sync: { type: 'string' },
  },
});
const CLIENTS = Number(values.clients ?? 50);
const VOTES = Number(values.votes ?? 200);
const RUNS = Number(values.runs ?? 3);
const SYNC = values.sync ?? 'normal';
const TOKEN = 'bench-admin-token-0123456789';

const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const r1 = (x) => Math.round(x * 10) / 10;

function serve(data) {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/pacer.js'), 'studio', '--data', data, '--port', '0', '--sync', SYNC],
    {
      env: { ...process.env, PACER_STUDIO_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  process.on('exit', () => child.kill('SIGKILL')); // no server outlives a failed bench
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((res, rej) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) res({ child, url: JSON.parse(out.split('\n')[0]).url.replace(/\/$/, '') });
    });
    child.on('exit', (c) => rej(new Error(`pacer studio exited (${c}): ${err}`)));
  });
}

/** fetch, retried on a network error (a vote is idempotent by its assignment: a resend is a duplicate). */
async function retrying(url, init, stats) {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetch(url, init);
      return { status: r.status, body: await r.json() };
    } catch (e) {
      if (attempt >= 5) throw e;
      stats.retries++;
    }
  }
}

async function client(url, token, n, lat, stats) {
  const acked = [];
  const auth = { authorization: `Bearer ${token}` };
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const task = (await retrying(`${url}/api/projects/load/next`, { headers: auth }, stats)).body;
    if (task.done) throw new Error('ran out of tasks');
    const t1 = performance.now();
    const init = {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ assignment: task.assignment, choice: i % 2 ? 'A' : 'B' }),
    };
    const r = await retrying(`${url}/api/projects/load/votes`, init, stats);
    const t2 = performance.now();
    if (r.status !== 200) throw new Error(`vote ${i}: ${r.status} ${JSON.stringify(r.body)}`);
    if (r.body.duplicate) stats.resentStored++;
    lat.vote.push(t2 - t1);
    lat.both.push(t2 - t0);
    acked.push(task.assignment);
  }
  return acked;
}

async function loadRun(k) {
  const data = mkdtempSync(join(tmpdir(), 'pacer-studio-bench-'));
  try {
    const total = CLIENTS * VOTES;
    const p = Project.create(data, 'load', { overlap: 1 });
    const groups = Array.from({ length: total + CLIENTS }, (_, g) => ({
      prompt: `prompt ${g}`,
      candidates: [0, 1].map((c) => ({ kind: 'text', text: `answer ${g}.${c}`, system: `m${(g * 7 + c * 13) % 50}` })),
      source: 'bench',
    }));
    addGroups(p, groups);
    p.close();
    const users = new Users(data);
    const tokens = Array.from({ length: CLIENTS }, (_, i) => users.add(`a${i}`));
    users.close();
    const { child, url } = await serve(data);
    const cpu0 = cpuSeconds(child.pid);
    const lat = { vote: [], both: [] };
    const stats = { retries: 0, resentStored: 0 };
    const t0 = performance.now();
    const acked = (await Promise.all(tokens.map((t) => client(url, t, VOTES, lat, stats)))).flat();
    const secs = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid);
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    const check = Project.open(data, 'load');
    const stored = check.db
      .prepare('SELECT assignment_id AS a FROM votes')
      .all()
      .map((r) => r.a);
    check.close();
    const set = new Set(stored);
    const lost = acked.filter((a) => !set.has(a)).length;
    const duplicated = stored.length - set.size;
    const extra = stored.length - acked.length;
    lat.vote.sort((a, b) => a - b);
    lat.both.sort((a, b) => a - b);
    const out = {
      bench: 'load',
      run: k + 1,
      clients: CLIENTS,
      votes_each: VOTES,
      sync: SYNC,
      acknowledged: acked.length,
      stored: stored.length,
      network_retries: stats.retries,
      lost,
      duplicated,
      extra,
      seconds: r1(secs),
      votes_per_s: Math.round(acked.length / secs),
      // the server's CPU time per answered task (next + vote), less sensitive to other work on the machine
      server_cpu_ms_per_vote: Math.round((1e5 * (cpu.total - cpu0.total)) / acked.length) / 100,
      vote_ms: { p50: r1(q(lat.vote, 0.5)), p99: r1(q(lat.vote, 0.99)), max: r1(lat.vote[lat.vote.length - 1]) },
      next_and_vote_ms: {
        p50: r1(q(lat.both, 0.5)),
        p99: r1(q(lat.both, 0.99)),
        max: r1(lat.both[lat.both.length - 1]),
      },
      loadavg: loadavg()[0],
    };
    console.log(JSON.stringify(out));
    return out;
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

function btRun(k) {
  const r = rng(100 + k);
  const n = 50;
  const skill = Array.from({ length: n }, () => 3 * r());
  const cmp = [];
  while (cmp.length < 10_000) {
    const a = Math.floor(r() * n),
      b = Math.floor(r() * n);
    if (a === b) continue;
    const p = 1 / (1 + Math.exp(skill[b] - skill[a]));
    cmp.push({ a, b, outcome: r() < 0.1 ? 0.5 : r() < p ? 1 : 0 });
  }
  const out = { bench: 'bt', run: k + 1, items: n, votes: cmp.length, rounds: 1000 };
  for (const ties of ['half', 'davidson']) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    bootstrapRatings(n, cmp, { rounds: 1000, seed: k, ties });
    const c = process.cpuUsage(c0);
    out[`${ties}_s`] = Math.round(performance.now() - t0) / 1000;
    // CPU time is less sensitive than wall time to other work on the machine
    out[`${ties}_cpu_s`] = Math.round((c.user + c.system) / 1000) / 1000;
  }
  out.loadavg = loadavg()[0];
  console.log(JSON.stringify(out));
  return out;
}

/** User + system CPU seconds of a process (Linux /proc). */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { total: (Number(f[11]) + Number(f[12])) / 100 }; // utime, stime in clock ticks (USER_HZ = 100)
}

const spread = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const what = positionals[0] ?? 'all';
const summary = {};
if (what === 'load' || what === 'all') {
  const runs = [];
  for (let k = 0; k < RUNS; k++) runs.push(await loadRun(k));
  summary.load = {
    lost: runs.reduce((a, x) => a + x.lost, 0),
    duplicated: runs.reduce((a, x) => a + x.duplicated, 0),
    vote_p99_ms: spread(runs.map((x) => x.vote_ms.p99)),
    next_and_vote_p99_ms: spread(runs.map((x) => x.next_and_vote_ms.p99)),
    votes_per_s: spread(runs.map((x) => x.votes_per_s)),
    server_cpu_ms_per_vote: spread(runs.map((x) => x.server_cpu_ms_per_vote)),
  };
}
if (what === 'bt' || what === 'all') {
  const runs = Array.from({ length: RUNS }, (_, k) => btRun(k));
  summary.bt = Object.fromEntries(
    ['half_s', 'half_cpu_s', 'davidson_s', 'davidson_cpu_s'].map((key) => [key, spread(runs.map((x) => x[key]))]),
  );
}
console.log(JSON.stringify({ summary }));
