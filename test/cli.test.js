// The pacer CLI: help, usage errors, a small engine benchmark (with the PyTorch peer where
// python3-torch is installed, as CI installs it) and the demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) => spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const hasTorch = ['/usr/bin/python3', 'python3'].some((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

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
  const r = pacer('bench', 'engine', '--json', '--threads', '1', '--steps', '2', '--layers', '1', '--d-model', '32', '--heads', '2', '--seq', '16', '--batch', '2', '--vocab', '64');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]);
  for (const k of ['tokens_per_s', 'step_ms', 'params', 'threads', 'blas', 'mfu', 'sgemm_best_gflops']) assert.ok(k in j, `missing ${k}`);
  assert.equal(j.threads, 1);
  assert.equal(j.params, 64 * 32 + 16 * 32 + (2 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 2 * 32 + 32 * 128 + 128 + 128 * 32 + 32) + 2 * 32);
  assert.ok(j.tokens_per_s > 0 && j.step_ms > 0 && j.mfu > 0 && j.mfu < 1);
  assert.ok(j.last_loss < j.first_loss + 0.5);
});

test('bench engine --vs-pytorch runs the PyTorch peer in the same command', { skip: !hasTorch && 'python3-torch is not installed' }, () => {
  const r = pacer('bench', 'engine', '--json', '--vs-pytorch', '--threads', '1', '--steps', '2', '--layers', '1', '--d-model', '32', '--heads', '2', '--seq', '16', '--batch', '2', '--vocab', '64');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim());
  assert.equal(j.pytorch_error, undefined, j.pytorch_error);
  assert.ok(j.pytorch.step_ms > 0);
  assert.ok(j.ratio_vs_pytorch > 0);
});

test('demo trains, saves a loadable model and samples', () => {
  const out = mkdtempSync(join(tmpdir(), 'pacer-demo-'));
  const r = pacer('demo', '--steps', '30', '--threads', '1', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sample:/);
  const m = /loss ([\d.]+) -> ([\d.]+)/.exec(r.stdout);
  assert.ok(m && Number(m[2]) < Number(m[1]), `loss did not fall: ${m?.[0]}`);
  assert.ok(existsSync(join(out, 'model.safetensors')));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.n_layer, 3);
  P.scope(() => assert.ok(P.loadSafetensors(join(out, 'model.safetensors')).has('transformer.h.2.mlp.c_fc.weight')));
});
