// PyTorch peers for the benchmarks: find a Python that imports torch, run a peer script from bench/
// with given thread settings, and compare best configuration against best configuration.
//
// A PyTorch process has two thread pools that compete for the cores: its OpenMP intra-op pool
// (torch.set_num_threads) and OpenBLAS's own pthreads (OPENBLAS_NUM_THREADS). Measured on a
// 2-core machine, the engine benchmark's step took ~630 ms with both at 2 (what
// torch.set_num_threads(2) gives) and ~185 ms with intra-op 1 and BLAS 2. Comparing only against
// the first would flatter pacer, so every --vs-pytorch benchmark runs the peer in each
// configuration of peerConfigs() and reports the best next to the same-threads figures.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadInfo } from '../../engine/index.js';

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

/** A thread setting: PyTorch's intra-op pool and OpenBLAS's threads. */
export interface ThreadConfig {
  intraOp: number;
  blas: number;
}

export const configName = (c: ThreadConfig) => `intra_op ${c.intraOp}, blas ${c.blas}`;

/**
 * The peer configurations tried for `threads` cores: both pools at n (what torch.set_num_threads(n)
 * gives, the same-threads comparison), intra-op 1 with BLAS n, and 1/1. Deduplicated, same first.
 */
export function peerConfigs(threads: number): ThreadConfig[] {
  const all = [
    { intraOp: threads, blas: threads },
    { intraOp: 1, blas: threads },
    { intraOp: 1, blas: 1 },
  ];
  return all.filter((c, i) => all.findIndex((d) => d.intraOp === c.intraOp && d.blas === c.blas) === i);
}

/**
 * Run a PyTorch peer from bench/ (script name, then its arguments) with the same BLAS kernels as
 * pacer and the given thread setting (PACER_INTRA_OP tells the script its intra-op threads); its
 * last stdout line is JSON.
 */
export function runTorchPeer(
  script: string,
  args: string[],
  cfg: ThreadConfig,
  timeoutMs = 60 * 60_000,
): { json: any } | { error: string } {
  const py = findTorchPython();
  if (!py) return { error: 'no python3 with torch found (apt-get install python3-torch, or set PACER_PYTHON)' };
  const core = /core=(\S+)/.exec(threadInfo().blas)?.[1];
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(cfg.blas),
    OMP_NUM_THREADS: String(cfg.intraOp),
    PACER_INTRA_OP: String(cfg.intraOp),
    ...(core ? { OPENBLAS_CORETYPE: core } : {}),
  };
  const r = spawnSync(py, [join(dirname(fileURLToPath(import.meta.url)), '../../../bench', script), ...args], {
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status !== 0) {
    const tail = (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return { error: `pytorch peer failed (exit ${r.status}, ${configName(cfg)}): ${tail}` };
  }
  return { json: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

/** Run the peer in every configuration; results in order, errors collected. */
export function runPeerConfigs<T>(
  threads: number,
  run: (c: ThreadConfig) => { json: any } | { error: string },
  read: (json: any) => T,
): { runs: Array<{ config: ThreadConfig; result: T }>; errors: string[] } {
  const runs: Array<{ config: ThreadConfig; result: T }> = [];
  const errors: string[] = [];
  for (const config of peerConfigs(threads)) {
    const r = run(config);
    if ('error' in r) errors.push(r.error);
    else runs.push({ config, result: read(r.json) });
  }
  return { runs, errors };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

export function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** The entry with the smallest key (a time), or null for an empty list. */
export function best<T>(xs: T[], key: (x: T) => number): T | null {
  return xs.reduce<T | null>((b, x) => (b === null || key(x) < key(b) ? x : b), null);
}
