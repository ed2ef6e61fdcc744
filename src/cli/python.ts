// Finds a Python interpreter that can import torch, for PyTorch peers in benchmarks.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadInfo } from '../engine/index.js';

let cached: string | null | undefined;

export function findTorchPython(): string | null {
  if (cached !== undefined) return cached;
  const candidates = [process.env.PACER_PYTHON, '/usr/bin/python3', 'python3'].filter((x): x is string => !!x);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return (cached = py);
  }
  return (cached = null);
}

/**
 * Run a PyTorch peer from bench/ (script name, then its arguments) with the same BLAS kernels and
 * thread count as pacer, so that a ratio measures the engines; its last stdout line is JSON.
 */
export function runTorchPeer(
  script: string,
  args: string[],
  threads: number,
  timeoutMs = 60 * 60_000,
): { json: any } | { error: string } {
  const py = findTorchPython();
  if (!py) return { error: 'no python3 with torch found (apt-get install python3-torch, or set PACER_PYTHON)' };
  const core = /core=(\S+)/.exec(threadInfo().blas)?.[1];
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    ...(core ? { OPENBLAS_CORETYPE: core } : {}),
  };
  const r = spawnSync(py, [join(dirname(fileURLToPath(import.meta.url)), '../../bench', script), ...args], {
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status !== 0)
    return {
      error: `pytorch peer failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`,
    };
  return { json: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}
