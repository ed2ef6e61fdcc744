// Loads the libtorch N-API addon. Before the first load it chooses the BLAS kernel family for
// this CPU (OpenBLAS can mis-detect virtual CPUs and fall back to slow generic kernels); the
// user's own OPENBLAS_CORETYPE always wins. Thread counts are set per process by setThreads().
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../util/errors.js';

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

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const builtAddon = join(packageRoot, 'native/build/Release/pacer_native.node');

/** What scripts/install.mjs recorded about the last build, if it ran. */
function installStatus(): { status: string; reason?: string; fix?: string } | null {
  try {
    return JSON.parse(readFileSync(join(packageRoot, 'native/build/install-status.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Why the engine is missing and the command that builds it. */
function missingEngineMessage(): string {
  const head = `pacer: the native engine is not built (${builtAddon} is missing).`;
  // a git checkout of pacer (src/ next to dist/) is set up by its own script
  if (existsSync(join(packageRoot, 'src/engine/native.ts'))) return `${head} Run 'npm run setup' in ${packageRoot}.`;
  const st = installStatus();
  if (st?.status === 'failed')
    return `${head} pacer's install step could not build it: ${st.reason}. ${st.fix ?? ''}; then run: npx pacer setup`;
  if (st?.status === 'skipped') return `${head} It was skipped (${st.reason}); build it with: npx pacer setup`;
  return (
    `${head} pacer's install step did not run (--ignore-scripts, or npm denied it: add "allowScripts": ` +
    `{"pacer": true} to your package.json, or run 'npm install-scripts approve pacer'). ` +
    'Build it now with: npx pacer setup'
  );
}

function findAddon(): string {
  if (process.env.PACER_NATIVE) {
    if (existsSync(process.env.PACER_NATIVE)) return process.env.PACER_NATIVE;
    throw new EngineError(`pacer: PACER_NATIVE=${process.env.PACER_NATIVE} does not exist`, {
      file: process.env.PACER_NATIVE,
    });
  }
  if (existsSync(builtAddon)) return builtAddon;
  throw new EngineError(missingEngineMessage(), { file: builtAddon });
}

function loadAddon(file: string): NativeAddon {
  try {
    return createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new EngineError(
      `pacer: the native engine ${file} does not load (${why}); rebuild it against the libtorch you have: ` +
        `npx pacer setup --force (in a pacer checkout: npm run setup)`,
      { file },
    );
  }
}

let addon: NativeAddon | null = null;

export function native(): NativeAddon {
  if (addon) return addon;
  if (!process.env.OPENBLAS_CORETYPE && process.env.PACER_BLAS_CORE !== 'auto') {
    const core = process.env.PACER_BLAS_CORE || preferredBlasCore();
    if (core) process.env.OPENBLAS_CORETYPE = core;
  }
  addon = loadAddon(findAddon());
  return addon;
}

/**
 * The addon, or — when it is not built — a stand-in whose every use throws native()'s EngineError: modules
 * that hold the engine load without it (so `pacer --help` and `pacer setup` run), and the first tensor op
 * says what to run.
 */
export function nativeOrDeferred(): NativeAddon {
  try {
    return native();
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return new Proxy({} as NativeAddon, { get: (_, key) => native()[key as keyof NativeAddon] });
  }
}
