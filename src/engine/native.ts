// Loads the libtorch N-API addon. Before the first load it chooses the BLAS kernel family for
// this CPU (OpenBLAS can mis-detect virtual CPUs and fall back to slow generic kernels); the
// user's own OPENBLAS_CORETYPE always wins. Thread counts are set per process by setThreads().
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Opaque handle to a native tensor (a napi External). */
export type Handle = { readonly __tensor: unique symbol };
/** Opaque handle to a native random generator. */
export type GenHandle = { readonly __generator: unique symbol };

export interface ThreadInfo {
  intraOp: number;
  interOp: number;
  blasThreads: number;
  blas: string;
}

export interface NativeAddon {
  call(op: string, ...args: unknown[]): any;
  create(
    kind: string,
    shape: number[] | number,
    dtype?: string,
    device?: string | null,
    a?: number,
    b?: number,
    c?: number | GenHandle | null,
    gen?: GenHandle | null,
  ): Handle;
  fromBuffer(data: ArrayBufferView | ArrayBuffer, shape: number[], dtype: string, device?: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  dataView(h: Handle): ArrayBuffer;
  meta(h: Handle): [number[], string, string];
  item(h: Handle): number | boolean;
  dispose(h: Handle): void;
  isAlive(h: Handle): boolean;
  autograd(what: string, ...args: unknown[]): any;
  generator(seed: number): GenHandle;
  generatorState(g: GenHandle | null, state?: Handle): Handle | undefined;
  manualSeed(seed: number): void;
  threads(intraOp?: number | null, blas?: number | null): ThreadInfo;
  stats(): { liveTensors: number; liveBytes: number };
  buildInfo(): { torchVersion: string; cuda: boolean; cudaDevices: number; parallelInfo: string };
  opNames(): string[];
  /** c10d process groups (native/src/dist.cc): init, allReduce, broadcast, allGather, barrier, destroy. */
  dist(what: string, ...args: unknown[]): any;
  /** Autocast state, CUDA synchronisation, fused AdamW availability (native/src/amp.cc). */
  amp(what: string, ...args: unknown[]): any;
}

/** The OpenBLAS kernel family best suited to this CPU, from /proc/cpuinfo flags. */
export function preferredBlasCore(): string | null {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags')) ?? '';
    const flags = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'SkylakeX';
    if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  } catch {
    /* not Linux: let OpenBLAS decide */
  }
  return null;
}

function findAddon(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.PACER_NATIVE,
    join(here, '../../native/build/Release/pacer_native.node'),
    join(here, '../../../native/build/Release/pacer_native.node'),
  ].filter((p): p is string => !!p);
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(
    `pacer: the native engine is not built (looked for ${candidates.join(', ')}). Run 'npm run setup' in the pacer ` +
      `repository.`,
  );
}

let addon: NativeAddon | null = null;

export function native(): NativeAddon {
  if (addon) return addon;
  if (!process.env.OPENBLAS_CORETYPE && process.env.PACER_BLAS_CORE !== 'auto') {
    const core = process.env.PACER_BLAS_CORE || preferredBlasCore();
    if (core) process.env.OPENBLAS_CORETYPE = core;
  }
  const require = createRequire(import.meta.url);
  addon = require(findAddon()) as NativeAddon;
  return addon;
}
