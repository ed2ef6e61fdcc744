// trainer: ppo_env through pacer train: CleanRL's metric names in metrics.jsonl, checkpoints, an exact resume
// (everything but the timings), the refusal of a used output_dir, the model, and a report with the return
// curve and the rollout video.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const train = (cfg, ...extra) =>
  spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', cfg, '--no-progress', ...extra], {
    encoding: 'utf8',
    timeout: 300_000,
  });
const lines = (f) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('time/') && k !== 'charts/SPS')));

test('ppo_env: metrics, checkpoints, exact resume, refused output_dir, model, report with the video', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-ppo-env-'));
  try {
    const cfg = join(d, 'c.yaml');
    writeFileSync(
      cfg,
      'trainer: ppo_env\nenv_id: CartPole-v1\noutput_dir: out\ntotal_timesteps: 1024\nnum_envs: 2\nnum_steps: 128\n' +
        'save_every_iterations: 2\neval_episodes: 2\nthreads: 1\nseed: 4\n',
    );
    const r = train(cfg);
    assert.equal(r.status, 0, r.stderr);
    const out = join(d, 'out');
    const full = lines(join(out, 'metrics.jsonl'));
    assert.deepEqual(
      full.map((m) => m.step),
      [1, 2, 3, 4],
    );
    for (const k of [
      'global_step',
      'charts/episodic_return',
      'losses/value_loss',
      'losses/approx_kl',
      'losses/clipfrac',
    ])
      assert.ok(k in full[3], k);
    for (const f of ['checkpoint-2', 'checkpoint-4', 'model.safetensors', 'videos/rollout.mp4', 'train_results.json'])
      assert.ok(existsSync(join(out, f)), f);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /Episodic return/);
    assert.match(html, /<video class="clip" src="data:video\/webm;base64,/);
    const results = JSON.parse(readFileSync(join(out, 'train_results.json'), 'utf8'));
    assert.ok(Number.isFinite(results.eval_episodic_return));
    // a fresh run in the used folder is refused; resuming from checkpoint-2 reproduces iterations 3 and 4
    const again = train(cfg);
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /output_dir .* holds another run/);
    const res = train(cfg, '--set', `resume_from_checkpoint=${join(out, 'checkpoint-2')}`);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(lines(join(out, 'metrics.jsonl')), full);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('ppo_env: refused under pacer launch (several ranks would write one output_dir)', () => {
  const d = mkdtempSync(join(tmpdir(), 'pacer-ppo-env-'));
  try {
    const cfg = join(d, 'c.yaml');
    writeFileSync(cfg, 'trainer: ppo_env\nenv_id: CartPole-v1\noutput_dir: out\ntotal_timesteps: 256\n');
    const r = spawnSync(process.execPath, [join(root, 'bin/pacer.js'), 'train', cfg, '--no-progress'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '29555' },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /ppo_env trains in one process/);
    assert.ok(!existsSync(join(d, 'out')));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
