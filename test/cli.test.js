// The pacer CLI: help, usage errors, a small engine benchmark (with the PyTorch peer where
// python3-torch is installed, as CI installs it) and the demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P } from './helpers.js';
import { Tokenizer } from '../dist/tokenizers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const hasTorch = ['/usr/bin/python3', 'python3'].some(
  (py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
);

test('pacer --help lists the commands; each command explains its options', () => {
  const r = pacer('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /bench engine/);
  assert.match(r.stdout, /demo/);
  const b = pacer('bench', 'engine', '--help');
  assert.equal(b.status, 0);
  assert.match(b.stdout, /--vs-pytorch/);
  assert.match(b.stdout, /--threads/);
  assert.equal(pacer('help', 'demo').status, 0);
});

test('usage errors exit 2 with a message that says what to do', () => {
  const r = pacer('bench', 'engine', '--layerz', '2');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--layerz'/);
  assert.match(r.stderr, /--help/);
  const s = pacer('bench', 'engine', '--steps', 'ten');
  assert.equal(s.status, 2);
  assert.match(s.stderr, /--steps must be an integer >= 1, got 'ten'/);
  assert.equal(pacer('frobnicate').status, 2);
  assert.match(pacer('bench', 'engine', '--d-model', '30', '--heads', '4').stderr, /divisible/);
});

test('bench engine --json prints one line with the required figures', () => {
  const r = pacer(
    'bench',
    'engine',
    '--json',
    '--threads',
    '1',
    '--steps',
    '2',
    '--layers',
    '1',
    '--d-model',
    '32',
    '--heads',
    '2',
    '--seq',
    '16',
    '--batch',
    '2',
    '--vocab',
    '64',
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]);
  for (const k of ['params', 'blas', 'runs']) assert.ok(k in j, `missing ${k}`);
  assert.equal(j.runs.length, 1);
  const run = j.runs[0];
  for (const k of ['tokens_per_s', 'step_ms', 'threads', 'mfu', 'sgemm_best_gflops'])
    assert.ok(k in run, `missing ${k}`);
  assert.equal(run.threads, 1);
  assert.equal(
    j.params,
    64 * 32 + 16 * 32 + (2 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 2 * 32 + 32 * 128 + 128 + 128 * 32 + 32) + 2 * 32,
  );
  assert.ok(run.tokens_per_s > 0 && run.step_ms > 0 && run.mfu >= 0 && run.mfu <= 1);
});

test('bench engine --vs-pytorch runs the PyTorch peer in the same command', {
  skip: !hasTorch && 'python3-torch is not installed',
}, () => {
  const r = pacer(
    'bench',
    'engine',
    '--json',
    '--vs-pytorch',
    '--threads',
    '1',
    '--steps',
    '2',
    '--layers',
    '1',
    '--d-model',
    '32',
    '--heads',
    '2',
    '--seq',
    '16',
    '--batch',
    '2',
    '--vocab',
    '64',
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim());
  assert.equal(j.pytorch_error, undefined, j.pytorch_error);
  // the same-threads peer, and every peer configuration with the best of each side
  assert.deepEqual(j.runs[0].pytorch.intra_op, 1);
  assert.ok(j.runs[0].pytorch.step_ms > 0 && j.runs[0].ratio_vs_pytorch > 0);
  assert.ok(j.pytorch.configs.length >= 1 && j.pytorch.configs.every((c) => c.step_ms > 0));
  const fastest = Math.min(...j.pytorch.configs.map((c) => c.step_ms));
  assert.equal(j.best.pytorch.step_ms, fastest);
  // the ratio comes from unrounded medians; the printed step times are rounded to 0.01 ms
  const [lo, hi] = [
    (fastest - 0.005) / (j.best.pacer.step_ms + 0.005),
    (fastest + 0.005) / (j.best.pacer.step_ms - 0.005),
  ];
  assert.ok(
    j.ratio_best_vs_best >= lo - 5e-4 && j.ratio_best_vs_best <= hi + 5e-4,
    `${j.ratio_best_vs_best} in [${lo}, ${hi}]`,
  );
});

test('demo text trains, saves a loadable model and samples', () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-demo-'));
  const r = pacer('demo', 'text', '--steps', '30', '--threads', '1', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sample:/);
  const m = /loss ([\d.]+) -> ([\d.]+)/.exec(r.stdout);
  assert.ok(m && Number(m[2]) < Number(m[1]), `loss did not fall: ${m?.[0]}`);
  assert.ok(existsSync(join(out, 'model.safetensors')));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.n_layer, 3);
  P.scope(() => assert.ok(P.loadSafetensors(join(out, 'model.safetensors')).has('transformer.h.2.mlp.c_fc.weight')));
});

test('demo (the npm start job) runs SFT, GRPO uniform and curriculum, DPO and writes summary and report', () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-demo-'));
  const r = pacer('demo', '--quick', '--threads', '1', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  for (const k of ['sft', 'grpo', 'dpo', 'grpo_uniform'])
    assert.ok(s.accuracy[k] >= 0 && s.accuracy[k] <= 1, `accuracy.${k} = ${s.accuracy[k]}`);
  for (const k of ['curriculum', 'uniform'])
    assert.ok(s.steps_to_target[k] === null || Number.isInteger(s.steps_to_target[k]), `steps_to_target.${k}`);
  // the uniform run reaches the mean of its own last evaluations, by construction
  assert.ok(Number.isInteger(s.steps_to_target.uniform));
  // the same point in generated tokens: positive, and no more than the run generated in all
  assert.ok(s.tokens_to_target.uniform > 0 && s.tokens_to_target.uniform <= s.generated_tokens.uniform);
  assert.equal(s.tokens_to_target.target, s.steps_to_target.target);
  assert.equal(s.curriculum, 'sec');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /Accuracy by level/);
  for (const d of ['sft', 'grpo-uniform', 'grpo-curriculum', 'dpo'])
    assert.ok(existsSync(join(out, d, 'model.safetensors')), d);
  const m = readFileSync(join(out, 'grpo-curriculum', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    m.some((x) => 'curriculum/p/5' in x && 'curriculum/p/2' in x),
    'SEC level probabilities are logged',
  );
  assert.ok(
    m.some((x) => typeof x.eval_accuracy === 'number'),
    'held-out accuracy is logged during GRPO',
  );
  // the video stage: grounding GRPO from the committed base, scored on held-out videos before and after
  for (const k of ['before', 'after']) {
    const g = s.video[k];
    assert.equal(g.n, 3);
    assert.ok(g.mIoU >= 0 && g.mIoU <= 100 && g['R@0.5'] <= g['R@0.3'], `video.${k}`);
  }
  assert.match(html, /Video: temporal grounding GRPO/);
  const vhtml = readFileSync(join(out, 'video', 'report.html'), 'utf8');
  assert.equal((vhtml.match(/<svg[^>]*class="timeline"/g) ?? []).length, 6, 'before and after timelines of 3 videos');
  assert.equal((vhtml.match(/data:image\/png;base64/g) ?? []).length, 3, 'a contact sheet per test video');
  const vm = readFileSync(join(out, 'video', 'grpo', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(vm.filter((x) => typeof x.reward === 'number').length, 2, 'a tIoU reward per GRPO step');
  // a bad curriculum name is a usage error
  const bad = pacer('demo', '--curriculum', 'fastest', '--out', out);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--curriculum must be one of/);
});

test('bench grpo splits a step into generation, scoring and training, with a PyTorch peer', {
  skip: !hasTorch && 'python3-torch not installed',
}, () => {
  const r = pacer(
    'bench',
    'grpo',
    '--steps',
    '2',
    '--prompts',
    '2',
    '--generations',
    '2',
    '--new-tokens',
    '4',
    '--hidden',
    '32',
    '--layers',
    '1',
    '--threads',
    '1',
    '--vs-pytorch',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(j.bench, 'grpo');
  for (const side of [j.pacer, j.pytorch]) {
    // scoring 4 tiny completions can take under a microsecond's resolution: only >= 0 is meaningful
    for (const k of ['generation_s', 'training_s']) assert.ok(side[k] > 0, `${k} = ${side[k]}`);
    assert.ok(side.scoring_s >= 0 && Number.isFinite(side.scoring_s), `scoring_s = ${side.scoring_s}`);
    assert.ok(Math.abs(side.step_s - side.generation_s - side.scoring_s - side.training_s) < 1e-3);
    assert.ok(side.completion_mean_length > 0 && side.completion_mean_length <= 4);
  }
  for (const k of ['generation', 'training', 'step']) assert.ok(j.time_ratio_vs_pytorch[k] > 0, k);
  const sr = j.time_ratio_vs_pytorch.scoring;
  assert.ok(sr === null || (Number.isFinite(sr) && sr >= 0), `scoring ratio ${sr}`);
  assert.ok(j.ratio_best_vs_best > 0 && j.pytorch.configs.length >= 1);
});

test('bench tspo times a TSPO step against the same step in PyTorch (same initial scores)', {
  skip: !hasTorch && 'python3-torch not installed',
}, () => {
  const args = ['bench', 'tspo', '--steps', '2', '--frames', '140', '--dim', '32', '--k', '8', '--threads', '1'];
  const r = pacer(...args, '--vs-pytorch', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(j.bench, 'tspo');
  assert.ok(j.pacer.step_s > 0 && j.pacer.select_s > 0 && j.pytorch.step_s > 0);
  // scores of magnitude up to 2 / 0.025 = 80 in float32
  assert.ok(j.pytorch.max_abs_score_diff < 1e-3, `scores differ by ${j.pytorch.max_abs_score_diff}`);
  assert.ok(j.speedup_vs_pytorch > 0 && j.speedup_best_vs_best > 0);
  const bad = pacer('bench', 'tspo', '--dim', '30');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--dim must be a multiple of 8/);
});

const llamaDir = join(root, 'test/fixtures/models/llama');

test('logprobs writes one line per input in order, standard and conversational', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-lp-'));
  const f = join(d, 'data.jsonl');
  const lines = [
    { prompt: 'The river', completion: ' runs down' },
    { prompt: [{ role: 'user', content: 'Who runs?' }], completion: [{ role: 'assistant', content: 'The fox' }] },
    { prompt: 'One and one', completion: ' make two' },
  ];
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n\n');
  const a = pacer('logprobs', '--model', llamaDir, '--data', f, '--batch-size', '1', '--threads', '1');
  assert.equal(a.status, 0, a.stderr);
  const b = pacer('logprobs', '--model', llamaDir, '--data', f, '--batch-size', '3', '--threads', '1');
  const ra = a.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const rb = b.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(ra.length, 3);
  ra.forEach((r, i) => {
    assert.ok(r.logprob < 0 && Number.isInteger(r.tokens) && r.tokens > 0);
    assert.ok(Math.abs(r.logprob - rb[i].logprob) < 1e-4, 'independent of batching');
  });
  assert.equal(ra[0].tokens, Tokenizer.fromPretrained(llamaDir).encode(' runs down').length);
});

test('logprobs rejects bad lines naming file, line and field', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-lp-'));
  const f = join(d, 'bad.jsonl');
  writeFileSync(f, '{"prompt": "a", "completion": "b"}\n{"prompt": "only"}\n');
  const r = pacer('logprobs', '--model', llamaDir, '--data', f);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.jsonl:2: missing field 'completion'/);
  writeFileSync(f, '{"prompt": "a", "completion": "b"}\n{oops\n');
  assert.match(pacer('logprobs', '--model', llamaDir, '--data', f).stderr, /bad\.jsonl:2: not valid JSON/);
  writeFileSync(f, '{"prompt": "a", "completion": 3}\n');
  assert.match(
    pacer('logprobs', '--model', llamaDir, '--data', f).stderr,
    /bad\.jsonl:1: 'prompt' and 'completion' must both be strings/,
  );
  assert.match(pacer('logprobs', '--model', join(d, 'nope'), '--data', f).stderr, /tokenizer\.json not found/);
  assert.equal(pacer('logprobs', '--model', llamaDir).status, 2);
});

test('generate prints continuations; --json carries tokens and log-probs', () => {
  const r = pacer(
    'generate',
    '--model',
    llamaDir,
    '--prompt',
    'The river',
    '--prompt',
    'One',
    '--max-new-tokens',
    '5',
    '--json',
    '--threads',
    '1',
  );
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.tokens.length, row.logprobs.length);
    assert.ok(row.tokens.length >= 1 && row.tokens.length <= 5);
    assert.equal(typeof row.text, 'string');
  }
  const again = pacer(
    'generate',
    '--model',
    llamaDir,
    '--prompt',
    'The river',
    '--prompt',
    'One',
    '--max-new-tokens',
    '5',
    '--json',
    '--threads',
    '1',
  );
  assert.equal(again.stdout, r.stdout, 'greedy is deterministic');
  const chat = pacer(
    'generate',
    '--model',
    llamaDir,
    '--prompt',
    'hi',
    '--chat',
    '--temperature',
    '0.8',
    '--top-p',
    '0.9',
    '--seed',
    '3',
    '--max-new-tokens',
    '3',
  );
  assert.equal(chat.status, 0, chat.stderr);
});

test('bench generate reports tokens/s per batch size (and the PyTorch ratio where available)', () => {
  const args = [
    'bench',
    'generate',
    '--json',
    '--batches',
    '1,2',
    '--new-tokens',
    '4',
    '--prompt-len',
    '4',
    '--hidden',
    '32',
    '--layers',
    '1',
    '--heads',
    '4',
    '--kv-heads',
    '2',
    '--vocab',
    '64',
    '--repeats',
    '1',
    '--threads',
    '1',
  ];
  const r = pacer(...args, ...(hasTorch ? ['--vs-pytorch'] : []));
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim());
  assert.ok(j.results['1'].tokens_per_s > 0 && j.results['2'].tokens_per_s > 0);
  if (hasTorch) {
    assert.equal(j.pytorch_error, undefined, j.pytorch_error);
    assert.equal(j.results['1'].same_tokens_as_pytorch, true);
    assert.ok(j.results['2'].ratio_vs_pytorch > 0 && j.results['2'].ratio_best_vs_best > 0);
  }
});

test('bench dpo trains one epoch and agrees with the PyTorch loop on the first loss', () => {
  const r = pacer(
    'bench',
    'dpo',
    '--json',
    '--pairs',
    '8',
    '--batch',
    '4',
    '--hidden',
    '32',
    '--layers',
    '1',
    '--threads',
    '1',
    ...(hasTorch ? ['--vs-pytorch'] : []),
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim());
  assert.equal(j.steps, 2);
  assert.ok(Math.abs(j.first_loss - Math.log(2)) < 1e-6, 'DPO starts at log 2');
  // IFT's step and SFT's are measured side by side (their ratio is a benchmark figure, not asserted)
  assert.ok(j.ift.sft_step_s > 0 && j.ift.ift_step_s > 0 && Number.isFinite(j.ift.ift_over_sft));
  if (hasTorch) {
    assert.equal(j.pytorch_error, undefined, j.pytorch_error);
    assert.equal(j.first_loss_agrees, true);
    assert.ok(Math.abs(j.last_loss - j.pytorch.last_loss) < 1e-4, `${j.last_loss} vs ${j.pytorch.last_loss}`);
    assert.ok(j.ratio_best_vs_best > 0 && j.pytorch.best.seconds <= j.pytorch.seconds);
  }
});

test('serve rewards starts an authenticated OpenRLHF reward server', async () => {
  assert.equal(pacer('serve', 'rewards', '--reward', 'accuracy').status, 2, 'a token is required');
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/pacer.js'),
      'serve',
      'rewards',
      '--reward',
      'accuracy,think_answer',
      '--weights',
      '1,0.5',
      '--port',
      '0',
      '--token',
      'tok',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const line = await new Promise((res, rej) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) res(buf.split('\n')[0]);
      });
      child.on('exit', (c) => rej(new Error(`server exited ${c}`)));
    });
    const { listening } = JSON.parse(line);
    const r = await fetch(listening, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({
        query: ['Q: 1+1? <think>1+1</think> <answer>2</answer>'],
        prompts: ['Q: 1+1? '],
        labels: ['2'],
      }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual((await r.json()).rewards, [1.5]);
    // a second server on the same port: one line that says what to do, exit 2, no stack
    const port = new URL(listening).port;
    const busy = pacer('serve', 'rewards', '--reward', 'accuracy', '--token', 't', '--port', port);
    assert.equal(busy.status, 2);
    assert.match(busy.stderr, new RegExp(`pacer: port ${port} on 127\\.0\\.0\\.1 is in use .*--port 0 for a free one`));
    assert.doesNotMatch(busy.stderr, /\bat .*\.js:\d+/);
  } finally {
    child.kill('SIGTERM');
  }
});

test('serve model answers OpenAI completions from the command line', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [join(root, 'bin/pacer.js'), 'serve', 'model', '--model', llamaDir, '--port', '0', '--threads', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const line = await new Promise((res, rej) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) res(buf.split('\n')[0]);
      });
      child.on('exit', (c) => rej(new Error(`server exited ${c}`)));
    });
    const { url, port } = JSON.parse(line);
    const r = await fetch(`${url}:${port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'The river', max_tokens: 3, temperature: 0, logprobs: 1 }),
    });
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.object, 'text_completion');
    assert.equal(j.choices[0].logprobs.token_logprobs.length, j.usage.completion_tokens);
  } finally {
    child.kill('SIGTERM');
  }
});

test('serve model on a port in use: one line that says what to do, exit 2, no stack', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise((res) => blocker.listen(0, '127.0.0.1', res));
  try {
    const port = String(blocker.address().port);
    const model = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'llama');
    const busy = pacer('serve', 'model', '--model', model, '--token', 't', '--port', port);
    assert.equal(busy.status, 2, busy.stderr);
    assert.match(busy.stderr, new RegExp(`pacer: port ${port} on 127\\.0\\.0\\.1 is in use .*--port 0 for a free one`));
    assert.doesNotMatch(busy.stderr, /\n\s+at /);
  } finally {
    blocker.close();
  }
});
