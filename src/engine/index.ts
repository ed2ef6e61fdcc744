/**
 * pacer's engine: libtorch tensors, autograd, nn, optimizers, schedules, safetensors, RNG, scopes.
 *
 * @module pacer/engine
 */
import { native, type ThreadInfo } from './native.js';

export * from './tensor.js';
export * from './create.js';
export * from './scope.js';
export * from './random.js';
export * as F from './functional.js';
export { cat, stack, where } from './functional.js';
export * from './nn.js';
export * from './optim.js';
export * from './schedule.js';
export * from './safetensors.js';
export * from './distributed.js';
export * from './amp.js';
export { preferredBlasCore, type ThreadInfo } from './native.js';

/**
 * Use `n` CPU threads. libtorch has two pools that both want the cores: its OpenMP intra-op pool
 * (elementwise ops, reductions) and OpenBLAS's own pthreads (GEMMs). Run together they spin
 * against each other: measured here with `pacer bench engine`, a GPT training step at 2 threads
 * took 1.5-2x longer with both pools at 2 than with 1 thread. The default therefore gives the
 * BLAS all `n` threads and the intra-op pool one (measured best: ~300 ms vs ~420 ms at 1 thread
 * and ~600 ms with both pools at 2). Pass `intraOp` to choose otherwise; when the BLAS is not
 * OpenBLAS-pthreads (e.g. an OpenMP BLAS or MKL), both pools get `n`.
 */
export function setThreads(n: number, opts: { intraOp?: number; blas?: number } = {}): ThreadInfo {
  for (const [k, v] of [
    ['threads', n],
    ['intraOp', opts.intraOp],
    ['blas', opts.blas],
  ] as const)
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new RangeError(`pacer: ${k} must be a positive integer, got ${v}`);
  const blasIsPthreads = /threading=pthreads/.test(native().threads().blas);
  const intra = opts.intraOp ?? (blasIsPthreads ? 1 : n);
  return native().threads(intra, opts.blas ?? n);
}
export function threadInfo(): ThreadInfo {
  return native().threads();
}
/** Live native tensors and their bytes (views counted separately), as the engine sees them. */
export function memoryStats(): { liveTensors: number; liveBytes: number } {
  return native().stats();
}
export function buildInfo(): { torchVersion: string; cuda: boolean; cudaDevices: number; parallelInfo: string } {
  return native().buildInfo();
}
export function cudaAvailable(): boolean {
  return native().buildInfo().cuda;
}
