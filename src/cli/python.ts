// Finds a Python interpreter that can import torch, for PyTorch peers in benchmarks.
import { spawnSync } from 'node:child_process';

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
