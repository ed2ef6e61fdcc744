// pacer bench envs and pacer bench ppo: the commands run and report their figures (no figure is judged here:
// timings on a shared machine are not test material); bench ppo runs CleanRL's update in PyTorch where
// python3-torch is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pacer = (...args) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 300_000 });
const hasTorch = ['/usr/bin/python3', 'python3'].some(
  (py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
);

test('bench envs: pacer and the plain loop per environment, wall and CPU rates, best-vs-best ratios', () => {
  const r = pacer('bench', 'envs', '--envs', 'CartPole-v1,LunarLander-v3', '--steps', '200', '--runs', '2', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(j.bench, 'envs');
  const c = j.results['CartPole-v1'];
  for (const k of ['pacer_steps_per_s', 'pacer_steps_per_cpu_s', 'plain_steps_per_s', 'plain_steps_per_cpu_s'])
    assert.ok(c[k].length === 2 && c[k].every((x) => x > 0), k);
  assert.ok(c.ratio_best_vs_best > 0 && c.cpu_ratio_best_vs_best > 0);
  assert.ok(j.results['LunarLander-v3'].pacer_steps_per_s.every((x) => x > 0));
  const bad = pacer('bench', 'envs', '--envs', 'CartPole-v9');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown environment 'CartPole-v9'/);
});

test('bench ppo --vs-pytorch: a pacer update against CleanRL’s in PyTorch, best vs best', {
  skip: !hasTorch && 'python3-torch not installed',
}, () => {
  const r = pacer('bench', 'ppo', '--envs', 'CartPole-v1', '--threads', '1', '--runs', '1', '--vs-pytorch', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  const c = j.results['CartPole-v1'];
  assert.equal(c.env_steps_per_update, 512);
  assert.equal(c.adam_steps_per_update, 16);
  assert.ok(c.best_pacer.update_ms > 0 && c.best_pytorch.update_ms > 0);
  assert.ok(c.ratio_best_vs_best > 0);
  assert.equal(c.pytorch[0].config, 'intra_op 1, blas 1');
  assert.equal(pacer('bench', 'ppo', '--envs', 'Acrobot-v1').status, 2);
});
