// Data parallelism: c10d process groups (Gloo, 2 processes on 127.0.0.1) against hand-computed
// collectives and their failures (a dead peer, a stalled peer, a missing peer); the launcher
// (torchrun's environment, a dead worker stops the rest and is named, signals are passed on); and
// training: 2 ranks × batch b give the losses and weights of 1 process × batch 2b for SFT, DPO and
// GRPO, kill -9 of a worker stops the job and resume continues exactly, and a run resumes with
// another world size. Every child process runs under a timeout.
//
// Tolerance of the training comparisons (fp32, 1 thread, deterministic inputs, so each comparison
// gives the same numbers on every run): the two runs add the same per-example terms in a different
// order (one batch of 2b rows, against two batches of b whose means Gloo averages), so losses and
// gradients differ by fp32 rounding (unit roundoff u = 6e-8) compounded over a few sums: relative
// 1e-7..1e-6 (measured up to 4e-7). loss and grad_norm (the global norm of the averaged gradient, the
// direct check that the gradients agree) are compared at rtol 1e-5 — 10-100x the measured error, and
// far below what a wrong weighting or a missing all-reduce gives (percents). The weights pass through
// AdamW: lr·m/(sqrt(v)+eps) carries a gradient difference δ into the weights as lr·δ/|g| — fp32
// rounding for most elements — but as lr·δ/eps where the gradient is ~0 (|g| ≲ eps = 1e-8): there a
// rounding difference of 1e-10 moves the weight by lr/100. Measured after 4 DPO steps at lr 1e-3:
// 3 of 43,168 weights differ by more than 1e-6 (the largest by 2.6e-5), the rest by ≤ 3e-7. So every
// weight must agree within 0.1·lr (a tenth of one step's largest move) and their mean difference
// must be ≤ 1e-7 (a missing all-reduce gives ~lr/2 = 5e-4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, P } from './helpers.js';
import { freePort, launch } from '../dist/cli/launcher.js';
import { combine, train, resolveConfig } from '../dist/trainers/index.js';
import { parseCommandArgs } from '../dist/cli/command.js';
import { launchCmd } from '../dist/cli/commands/launch.js';
import { modelFromConfig, savePretrained } from '../dist/models/pretrained.js';
import { makeProblems, writeTinyArithmeticModel } from '../dist/tasks/arithmetic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACER = join(root, 'bin/pacer.js');
const DIST = join(root, 'dist/index.js');
const TRAINERS = join(root, 'dist/trainers/index.js');
const LLAMA = join(FIXTURES, 'models', 'llama');
const quiet = { progress: false, log: () => {} };
const dirs = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-dist-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run `node file` as ranks 0..n-1 of a group on a free port; resolves to each rank's {code, signal, out, err}. */
async function runRanks(file, { n = 2, env = {}, timeoutMs = 60_000 } = {}) {
  const port = await freePort();
  const procs = Array.from({ length: n }, (_, r) =>
    spawn(process.execPath, [file], {
      env: { ...process.env, RANK: String(r), WORLD_SIZE: String(n), MASTER_PORT: String(port), ...env },
    }),
  );
  const timer = setTimeout(() => procs.forEach((p) => p.kill('SIGKILL')), timeoutMs);
  const res = await Promise.all(
    procs.map(
      (p) =>
        new Promise((resolve) => {
          let out = '';
          let err = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (err += d));
          p.on('close', (code, signal) => resolve({ code, signal, out, err }));
        }),
    ),
  );
  clearTimeout(timer);
  return res;
}

function script(d, name, body) {
  const f = join(d, name);
  writeFileSync(f, `import * as P from ${JSON.stringify(DIST)};\n${body}\n`);
  return f;
}

test('collectives on 2 Gloo ranks match hand-computed results', async () => {
  const d = tmp();
  const f = script(
    d,
    'coll.mjs',
    `const pg = P.initProcessGroup();
const r = pg.rank;
const out = {};
for (const op of ['sum', 'avg', 'max', 'min', 'product']) {
  const t = P.tensor([r + 1, 10 * (r + 1)]);
  pg.allReduce(t, op);
  out[op] = t.toArray();
}
const i = P.tensor([r + 5], { dtype: 'int64' }); pg.allReduce(i, 'sum'); out.int64 = i.toArray();
const h = P.tensor([0.5 * (r + 1)]).to('bfloat16'); pg.allReduce(h, 'sum'); out.bf16 = [h.dtype, h.toArray()];
const b = P.tensor([[r, r], [r, r]]); pg.broadcast(b, 1); out.broadcast = b.toArray();
out.gather = pg.allGather(P.tensor([r, 7])).map((t) => t.toArray());
out.json = pg.allGatherJson({ r, s: 'x'.repeat(3 * r) });
out.numbers = pg.allReduceNumbers([r, 0.25], 'sum');
pg.barrier();
pg.destroy();
console.log(JSON.stringify(out));`,
  );
  const res = await runRanks(f);
  for (const [r, x] of res.entries()) {
    assert.equal(x.code, 0, `rank ${r}: ${x.err}`);
    const o = JSON.parse(x.out);
    assert.deepEqual(o.sum, [3, 30]);
    assert.deepEqual(o.avg, [1.5, 15]);
    assert.deepEqual(o.max, [2, 20]);
    assert.deepEqual(o.min, [1, 10]);
    assert.deepEqual(o.product, [2, 200]);
    assert.deepEqual(o.int64, [11]);
    assert.deepEqual(o.bf16, ['bfloat16', [1.5]]);
    assert.deepEqual(o.broadcast, [1, 1, 1, 1]);
    assert.deepEqual(o.gather, [
      [0, 7],
      [1, 7],
    ]);
    assert.deepEqual(o.json, [
      { r: 0, s: '' },
      { r: 1, s: 'xxx' },
    ]);
    assert.deepEqual(o.numbers, [1, 0.5]);
  }
});

test('a dead peer, a stalled peer and a missing peer end collectives with errors naming the op', async () => {
  const d = tmp();
  const f = script(
    d,
    'fail.mjs',
    `import { existsSync, writeFileSync } from 'node:fs';
const mode = process.env.MODE;
const done = ${JSON.stringify(join(d, 'done-'))} + mode;
let pg;
try { pg = P.initProcessGroup(); } catch (e) { console.log(JSON.stringify({ at: 'init', name: e.name, msg: e.message })); process.exit(0); }
if (pg.rank === 1 && mode === 'die') process.exit(9);
if (pg.rank === 1 && mode === 'stall') {
  // stay alive, out of the collective, until rank 0 has given up on it (at most 60 s); the group stays
  // reachable (a collected group's finalizer would close its connections: rank 0 would see 'closed by peer')
  globalThis.keepGroup = pg;
  const t0 = Date.now();
  const t = setInterval(() => { if (existsSync(done) || Date.now() - t0 > 60000) { clearInterval(t); process.exit(0); } }, 20);
} else try { pg.allReduce(P.tensor([1, 2]), 'sum'); console.log('{}'); }
catch (e) { console.log(JSON.stringify({ name: e.name, msg: e.message })); writeFileSync(done, ''); process.exit(0); }`,
  );
  const dead = await runRanks(f, { env: { MODE: 'die', PACER_DIST_TIMEOUT: '30' } });
  assert.equal(dead[1].code, 9);
  const e0 = JSON.parse(dead[0].out);
  assert.equal(e0.name, 'DistributedError');
  assert.match(e0.msg, /^pacer: allReduce\(.*\) failed: .*(closed|reset|peer)/i);

  const stall = await runRanks(f, { env: { MODE: 'stall', PACER_DIST_TIMEOUT: '2' } });
  const s0 = JSON.parse(stall[0].out);
  assert.equal(s0.name, 'DistributedError');
  assert.match(s0.msg, /^pacer: allReduce\(.*\) failed: .*timed out/i);

  // rank 1 never comes: the rendezvous on rank 0 gives up after the timeout
  const port = await freePort();
  const lone = spawnSync(process.execPath, [f], {
    env: { ...process.env, RANK: '0', WORLD_SIZE: '2', MASTER_PORT: String(port), PACER_RDZV_TIMEOUT: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const l0 = JSON.parse(lone.stdout);
  assert.equal(l0.at, 'init');
  assert.equal(l0.name, 'DistributedError');
  assert.match(l0.msg, /^pacer: init\(.*\) failed: rendezvous timed out after 1000 ms: 1 of 2 ranks joined/);
});

test('ranks whose curriculum or data position differ are stopped, naming the rank', async () => {
  const d = tmp();
  const f = join(d, 'same.mjs');
  writeFileSync(
    f,
    `import { World } from ${JSON.stringify(TRAINERS)};
const w = World.current();
w.checkSame('curriculum', { level: 2, p: [0.5, 0.5] }, 3);
try { w.checkSame('curriculum', { level: w.rank }, 4); console.log('{}'); }
catch (e) { console.log(JSON.stringify({ name: e.name, msg: e.message })); }`,
  );
  const res = await runRanks(f);
  for (const x of res) {
    assert.equal(x.code, 0, x.err);
    const o = JSON.parse(x.out);
    assert.equal(o.name, 'TrainingError');
    assert.match(o.msg, /the curriculum of rank 1 differs from rank 0's at step 4/);
  }
});

test('metric records combine by weight; counts add up within a batch', () => {
  // two ranks, two micro-batches: rank shares 0.75/0.25 then 0.5/0.5
  const recs = [
    { weight: 0.75, metrics: { loss: 2, num_tokens: 6 } },
    { weight: 0.25, metrics: { loss: 4, num_tokens: 2 } },
    { weight: 0.5, metrics: { loss: 1, num_tokens: 3, kl: Number.NaN } },
    { weight: 0.5, metrics: { loss: 3, num_tokens: 3 } },
  ];
  const m = combine(recs, new Set(['num_tokens']));
  assert.equal(m.loss, (0.75 * 2 + 0.25 * 4 + 0.5 * 1 + 0.5 * 3) / 2); // 2.25
  assert.equal(m.num_tokens, (6 + 2 + 3 + 3) / 2); // 7 tokens per batch
  assert.equal('kl' in m, false);
  assert.deepEqual(combine([{ weight: 1, metrics: { loss: 0.1, x: Number.NaN } }]), { loss: 0.1 });
});

test('the launcher sets torchrun’s environment and picks a free port', async () => {
  const d = tmp();
  const w = join(d, 'env.mjs');
  writeFileSync(
    w,
    `import { writeFileSync } from 'node:fs';
const keys = ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'PACER_DIST_TIMEOUT', 'PACER_RDZV_TIMEOUT'];
writeFileSync(${JSON.stringify(d)} + '/env-' + process.env.RANK + '.json', JSON.stringify(Object.fromEntries(keys.map((k) => [k, process.env[k]]))));`,
  );
  const lines = [];
  const code = await launch({
    nprocPerNode: 2,
    nnodes: 2,
    nodeRank: 1,
    masterAddr: '127.0.0.1',
    masterPort: null,
    timeoutS: 7,
    rendezvousTimeoutS: 70,
    argv: [w],
    log: (l) => lines.push(l),
  });
  assert.equal(code, 0);
  assert.deepEqual(lines, []);
  const e2 = JSON.parse(readFileSync(join(d, 'env-2.json'), 'utf8'));
  const e3 = JSON.parse(readFileSync(join(d, 'env-3.json'), 'utf8'));
  assert.deepEqual(
    { ...e2, MASTER_PORT: 0 },
    {
      RANK: '2',
      WORLD_SIZE: '4',
      LOCAL_RANK: '0',
      LOCAL_WORLD_SIZE: '2',
      GROUP_RANK: '1',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: 0,
      PACER_DIST_TIMEOUT: '7',
      PACER_RDZV_TIMEOUT: '70',
    },
  );
  assert.equal(e3.RANK, '3');
  assert.equal(e3.LOCAL_RANK, '1');
  assert.equal(e3.MASTER_PORT, e2.MASTER_PORT);
  assert.ok(Number(e2.MASTER_PORT) > 0 && Number(e2.MASTER_PORT) < 65536);
});

/**
 * A worker script following `plan[RANK]`: its SIGTERM handler (onTerm: exit code) is in place before
 * it writes its pid file; `exit`/`kill` happen once every worker has written its pid file.
 */
function workerScript(d, plans) {
  const f = join(d, 'w.mjs');
  writeFileSync(
    f,
    `import { existsSync, writeFileSync } from 'node:fs';
const rank = process.env.RANK;
const plan = ${JSON.stringify(plans)}[rank];
setTimeout(() => process.exit(0), 60000);
if (plan.onTerm !== undefined) process.on('SIGTERM', () => process.exit(plan.onTerm));
writeFileSync(${JSON.stringify(d)} + '/pid-' + rank, String(process.pid));
const all = () => Object.keys(${JSON.stringify(plans)}).every((r) => existsSync(${JSON.stringify(d)} + '/pid-' + r));
const when = (fn) => { const t = setInterval(() => { if (all()) { clearInterval(t); fn(); } }, 5); };
if (plan.exit !== undefined) when(() => process.exit(plan.exit));
if (plan.kill) when(() => process.kill(process.pid, plan.kill));`,
  );
  return f;
}
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const launchWith = (argv, lines) =>
  launch({
    nprocPerNode: 2,
    nnodes: 1,
    nodeRank: 0,
    masterAddr: '127.0.0.1',
    masterPort: null,
    argv,
    graceS: 5,
    log: (l) => lines.push(l),
  });

test('a worker killed with -9 stops the others; the launcher exits 137 naming its rank', async () => {
  const d = tmp();
  const lines = [];
  const code = await launchWith([workerScript(d, { 0: {}, 1: { kill: 'SIGKILL' } })], lines);
  assert.equal(code, 128 + 9);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^pacer launch: rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL; stopped the other 1/);
  assert.equal(alive(Number(readFileSync(join(d, 'pid-0'), 'utf8'))), false);
});

test('the failing worker is named, not the peer that failed because it was gone', async () => {
  const d = tmp();
  const lines = [];
  // rank 0 fails first as a consequence (exit 3: a collective lost its peer); rank 1 is the cause
  const argv = [workerScript(d, { 0: { exit: 3 }, 1: { onTerm: 7 } })];
  const code = await launchWith(argv, lines);
  assert.equal(code, 7);
  assert.match(lines[0], /^pacer launch: rank 1 .* exited with code 7/);
});

test('SIGTERM to the launcher reaches the workers; it exits 143', async () => {
  const d = tmp();
  const w = workerScript(d, { 0: {}, 1: {} });
  const l = join(d, 'launch.mjs');
  writeFileSync(
    l,
    `import { launch } from ${JSON.stringify(join(root, 'dist/cli/launcher.js'))};
process.exitCode = await launch({ nprocPerNode: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: null, argv: [${JSON.stringify(w)}] });`,
  );
  const child = spawn(process.execPath, [l], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (x) => (err += x));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  for (let i = 0; i < 3000 && !(existsSync(join(d, 'pid-0')) && existsSync(join(d, 'pid-1'))); i++)
    await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  assert.equal(code, 143);
  assert.match(err, /pacer launch: SIGTERM received; stopped 2 worker/);
  for (const r of [0, 1]) assert.equal(alive(Number(readFileSync(join(d, `pid-${r}`), 'utf8'))), false);
});

test('pacer launch: its own options end at the command; usage errors exit 2', () => {
  const { values, positionals } = parseCommandArgs(launchCmd, [
    '--nproc-per-node',
    '2',
    'train',
    'c.yaml',
    '--set',
    'max_steps=3',
    '--no-progress',
  ]);
  assert.equal(values['nproc-per-node'], '2');
  assert.deepEqual(positionals, ['train', 'c.yaml', '--set', 'max_steps=3', '--no-progress']);
  const run = (...a) => spawnSync(process.execPath, [PACER, 'launch', ...a], { encoding: 'utf8', timeout: 60_000 });
  const bad = run('--nproc-per-node', '2', 'serve', 'model');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /launch runs 'train CONFIG.yaml'/);
  const nodes = run('--nnodes', '2', 'train', 'c.yaml');
  assert.equal(nodes.status, 2);
  assert.match(nodes.stderr, /several nodes need --master-addr/);
});

// ---- training: 2 ranks × b against 1 process × 2b

function writeJsonl(file, rows) {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}
/** Small deterministic data: a + b sums (an LCG, so the rows are the same on every machine). */
function sums(n, seed) {
  let s = seed;
  const r = (k) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 1 + (s % k);
  };
  return Array.from({ length: n }, () => [r(99), r(9999), r(5)]);
}
const metricsOf = (dir) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const weightsOf = (dir) =>
  P.scope(() => [...P.loadSafetensors(join(dir, 'model.safetensors'))].map(([k, t]) => [k, t.toArray()]));

function yaml(d, name, cfg) {
  const f = join(d, name);
  writeFileSync(
    f,
    Object.entries(cfg)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n') + '\n',
  );
  return f;
}
function launchTrain(d, cfgFile, extra = []) {
  return spawnSync(
    process.execPath,
    [PACER, 'launch', '--nproc-per-node', '2', 'train', cfgFile, '--no-progress', ...extra],
    {
      cwd: d,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
}

/** loss and grad_norm (and `keys`) at rtol 1e-5; weights within 0.1·lr, their mean within 1e-7 (see the header). */
function assertSameRun(one, two, keys) {
  const [a, b] = [metricsOf(one), metricsOf(two)];
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    for (const k of keys) {
      assert.ok(typeof x[k] === 'number', `${k} missing at step ${x.step}`);
      assert.ok(
        Math.abs(x[k] - b[i][k]) <= 1e-5 * Math.abs(x[k]) + 1e-8,
        `${k} at step ${x.step}: ${x[k]} vs ${b[i][k]}`,
      );
    }
  });
  const [wa, wb] = [weightsOf(one), weightsOf(two)];
  let worst = 0;
  let total = 0;
  let n = 0;
  wa.forEach(([k, va], i) => {
    assert.equal(wb[i][0], k);
    va.forEach((v, j) => {
      const e = Math.abs(v - wb[i][1][j]);
      worst = Math.max(worst, e);
      total += e;
      n++;
    });
  });
  assert.ok(worst <= 0.1 * 1e-3, `largest weight difference ${worst}`);
  assert.ok(total / n <= 1e-7, `mean weight difference ${total / n}`);
  return { a, b, worst };
}

async function compare(d, base, perDevice, extraKeys) {
  const one = resolveConfig(
    { ...base, output_dir: join(d, 'one'), per_device_train_batch_size: 2 * perDevice },
    'test',
    d,
  );
  await train(one, quiet);
  const r = launchTrain(d, yaml(d, 'two.yaml', { ...base, output_dir: 'two', per_device_train_batch_size: perDevice }));
  assert.equal(r.status, 0, r.stderr);
  return assertSameRun(join(d, 'one'), join(d, 'two'), ['loss', 'grad_norm', ...extraKeys]);
}

const offline = (trainer, data) => ({
  trainer,
  model_name_or_path: LLAMA,
  train_dataset: data,
  max_steps: 5,
  logging_steps: 1,
  save_steps: 100,
  threads: 1,
  learning_rate: 1e-3,
});

test('sft: 2 ranks × 2 = 1 process × 4 (token-weighted: the rows have different lengths)', async () => {
  const d = tmp();
  const data = writeJsonl(
    join(d, 'sft.jsonl'),
    sums(16, 7).map(([a, b, k]) => ({ prompt: `${a}+${b}=`, completion: `${a + b}${'!'.repeat(k)}` })),
  );
  await compare(d, offline('sft', data), 2, ['num_tokens']);
});

test('dpo: 2 ranks × 2 = 1 process × 4', async () => {
  const d = tmp();
  const data = writeJsonl(
    join(d, 'pref.jsonl'),
    sums(16, 3).map(([a, b]) => ({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}` })),
  );
  await compare(d, { ...offline('dpo', data), max_steps: 4 }, 2, ['logps/chosen', 'logps/rejected']);
});

test('grpo: 2 ranks × 2 prompts = 1 process × 4 prompts, with the same rollouts and rewards', async () => {
  const d = tmp();
  const m = join(d, 'model');
  const config = writeTinyArithmeticModel(m, { hidden: 32, layers: 1, heads: 2 });
  savePretrained({ model: modelFromConfig(config), config, modelType: 'llama' }, m);
  const data = writeJsonl(
    join(d, 'p.jsonl'),
    makeProblems(24, [1, 2, 3], 5).map((p) => ({ prompt: p.prompt, answer: p.answer, difficulty: p.level })),
  );
  const base = {
    trainer: 'grpo',
    model_name_or_path: m,
    train_dataset: data,
    num_generations: 4,
    max_completion_length: 4,
    max_steps: 3,
    logging_steps: 1,
    save_steps: 100,
    threads: 1,
    learning_rate: 1e-3,
    beta: 0.04,
    reward_funcs: ['accuracy', 'length:budget=2'],
    reward_weights: [1, 0.5],
    curriculum_sampler: 'sec',
  };
  const { a, b } = await compare(d, base, 8, ['entropy']);
  // every completion has its own seed: the ranks sampled exactly what one process sampled
  for (const [i, x] of a.entries())
    for (const k of ['reward', 'reward_std', 'completions/mean_length', 'curriculum/p/1'])
      assert.equal(b[i][k], x[k], `${k} at step ${x.step}`);
});

/** Pids of the launcher's workers with RANK=rank (children of `ppid`). */
function workerPid(ppid, rank) {
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== ppid) continue;
      if (readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return Number(p);
    } catch {
      /* the process ended while we looked */
    }
  }
  return null;
}

test('kill -9 of one worker stops the job; resume continues exactly; another world size resumes too', async () => {
  const d = tmp();
  writeJsonl(
    join(d, 'pref.jsonl'),
    sums(16, 5).map(([a, b]) => ({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}` })),
  );
  const cfg = {
    ...offline('dpo', 'pref.jsonl'),
    output_dir: 'out',
    per_device_train_batch_size: 2,
    max_steps: 24,
    save_steps: 1,
  };
  const c = yaml(d, 'c.yaml', cfg);
  const ref = tmp();
  cpSync(d, ref, { recursive: true });
  const full = launchTrain(ref, c.replace(d, ref));
  assert.equal(full.status, 0, full.stderr);

  const child = spawn(process.execPath, [PACER, 'launch', '--nproc-per-node', '2', 'train', c, '--no-progress'], {
    cwd: d,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (x) => (err += x));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  let killed = null;
  for (let i = 0; i < 20_000 && killed === null; i++) {
    const n = existsSync(join(d, 'out'))
      ? readdirSync(join(d, 'out')).filter((x) => /^checkpoint-\d+$/.test(x)).length
      : 0;
    const pid = n >= 3 ? workerPid(child.pid, 1) : null;
    if (pid) {
      process.kill(pid, 'SIGKILL');
      killed = pid;
    } else await new Promise((r) => setTimeout(r, 5));
  }
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  assert.ok(killed, 'the run ended before a worker could be killed');
  assert.equal(code, 137, err);
  assert.match(err, new RegExp(`pacer launch: rank 1 \\(local rank 1, pid ${killed}\\) was killed by SIGKILL`));
  assert.equal(workerPid(child.pid, 0), null);

  const again = launchTrain(d, c, ['--set', 'resume_from_checkpoint=true']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(
    readFileSync(join(d, 'out', 'metrics.jsonl'), 'utf8'),
    readFileSync(join(ref, 'out', 'metrics.jsonl'), 'utf8'),
  );
  assert.ok(
    readFileSync(join(d, 'out', 'model.safetensors')).equals(readFileSync(join(ref, 'out', 'model.safetensors'))),
  );

  // one process with a batch of 4 resumes the 2 × 2 run from step 2 (data position: global samples)
  const from = join(d, 'out', 'checkpoint-2');
  const resumed = (extra) => resolveConfig({ ...cfg, resume_from_checkpoint: from, ...extra }, 'test', d);
  await train(resumed({ per_device_train_batch_size: 4 }), quiet);
  const [x, y] = [metricsOf(join(ref, 'out')), metricsOf(join(d, 'out'))];
  assert.equal(y.length, x.length);
  x.forEach((m, i) => {
    assert.equal(y[i].epoch, m.epoch);
    assert.ok(Math.abs(y[i].loss - m.loss) <= 1e-5 * Math.abs(m.loss), `step ${m.step}: ${y[i].loss} vs ${m.loss}`);
  });
  // a different global batch is a different run
  await assert.rejects(train(resumed({}), quiet), /belongs to a different run: global_batch.per_step: 4 -> 2/);
});

test('bench ddp: 1 and 2 processes, efficiency = tokens/s(2) / (2 · tokens/s(1)), all-reduce bytes = 4 · params', () => {
  const r = spawnSync(
    process.execPath,
    [PACER, 'bench', 'ddp', '--runs', '1', '--steps', '1', '--layers', '1', '--d-model', '32', '--seq', '16', '--json'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const [x] = j.runs;
  assert.ok(x.one_tokens_per_s > 0 && x.two_tokens_per_s > 0);
  assert.ok(Math.abs(x.scaling_efficiency - x.two_tokens_per_s / (2 * x.one_tokens_per_s)) < 2e-3);
  assert.equal(j.allreduce_bytes_per_step, 4 * j.params);
  // 1 block of width 32, vocab 512, 16 positions: 512·32 + 16·32 + 12·32² + 13·32 + 2·32 (tied head)
  assert.equal(j.params, 512 * 32 + 16 * 32 + 12 * 32 * 32 + 13 * 32 + 2 * 32);
});
